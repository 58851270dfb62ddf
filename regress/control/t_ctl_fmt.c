/* Unit tests of the control formatting helpers and the offline spool
 * file format. */
#include <atf-c.h>
#include <string.h>

#include "control/ctl_fmt.h"
#include "control/sendmail.h"

ATF_TC_WITHOUT_HEAD(json_str);
ATF_TC_BODY(json_str, tc)
{
	struct buf	 b;

	buf_init(&b);
	json_str(&b, "a\"b\\c\nd\x01");
	ATF_CHECK_STREQ(buf_cstr(&b), "\"a\\\"b\\\\c\\nd\\u0001\"");
	buf_free(&b);
}

ATF_TC_WITHOUT_HEAD(duration);
ATF_TC_BODY(duration, tc)
{
	struct buf	 b;

	buf_init(&b);
	ctl_duration(&b, 45);
	buf_addc(&b, ' ');
	ctl_duration(&b, 125);
	buf_addc(&b, ' ');
	ctl_duration(&b, 3 * 3600 + 60);
	buf_addc(&b, ' ');
	ctl_duration(&b, 2 * 86400 + 5 * 3600);
	ATF_CHECK_STREQ(buf_cstr(&b), "45s 2m05s 3h01m 2d05h");
	buf_free(&b);
}

ATF_TC_WITHOUT_HEAD(stats);
ATF_TC_BODY(stats, tc)
{
	struct ctl_stats st = { NULL, 0, 1000 };
	struct buf	 b;

	ATF_CHECK_EQ(ctl_stats_incr(&st, "smtp.session", 1), 0);
	ATF_CHECK_EQ(ctl_stats_incr(&st, "queue.message.in", 2), 0);
	ATF_CHECK_EQ(ctl_stats_incr(&st, "smtp.session", 1), 0);
	ATF_CHECK_EQ(ctl_stats_incr(&st, "smtp.session.active", -1), 0);
	ATF_CHECK_EQ(ctl_stats_incr(&st, "Bad Name", 1), -1);
	ATF_CHECK_EQ(ctl_stats_incr(&st, "", 1), -1);
	ATF_CHECK_EQ(ctl_stats_get(&st, "smtp.session"), 2);
	ATF_CHECK_EQ(ctl_stats_get(&st, "nope"), 0);

	buf_init(&b);
	ctl_stats_format(&st, 1090, 0, &b);
	ATF_CHECK_STREQ(buf_cstr(&b), "uptime=90\nuptime.human=1m30s\n"
	    "queue.message.in=2\nsmtp.session=2\nsmtp.session.active=-1\n");
	buf_reset(&b);
	ctl_stats_format(&st, 1090, 1, &b);
	ATF_CHECK_STREQ(buf_cstr(&b), "{\"uptime\":90,\"started\":1000,"
	    "\"counters\":{\"queue.message.in\":2,\"smtp.session\":2,"
	    "\"smtp.session.active\":-1}}\n");
	buf_free(&b);
	ctl_stats_free(&st);
}

ATF_TC_WITHOUT_HEAD(offline_roundtrip);
ATF_TC_BODY(offline_roundtrip, tc)
{
	struct sm_job	 j, k;
	struct buf	 b;
	char		 err[128];

	sm_job_init(&j);
	j.sender = strdup("");
	sm_job_add_rcpt(&j, "a@b.org");
	sm_job_add_rcpt(&j, "c@d.org");
	strlcpy(j.body, "8BITMIME", sizeof(j.body));
	strlcpy(j.notify, "SUCCESS,FAILURE", sizeof(j.notify));
	j.envid = strdup("env 1");
	buf_addstr(&j.msg, "Subject: x\n\nbody\n\nmore\n");
	buf_init(&b);
	offline_dump(&j, &b);
	ATF_REQUIRE_EQ(offline_load(&k, b.data, b.len, err, sizeof(err)), 0);
	ATF_CHECK_STREQ(k.sender, "");
	ATF_REQUIRE_EQ(k.nrcpts, 2);
	ATF_CHECK_STREQ(k.rcpts[1], "c@d.org");
	ATF_CHECK_STREQ(k.body, "8BITMIME");
	ATF_CHECK_STREQ(k.notify, "SUCCESS,FAILURE");
	ATF_CHECK_STREQ(k.envid, "env 1");
	ATF_CHECK_STREQ(buf_cstr(&k.msg), "Subject: x\n\nbody\n\nmore\n");
	sm_job_free(&j);
	sm_job_free(&k);
	buf_free(&b);
}

ATF_TC_WITHOUT_HEAD(offline_rejects);
ATF_TC_BODY(offline_rejects, tc)
{
	struct sm_job	 k;
	char		 err[128];
	const char	*bad[] = {
		"",
		"garbage\n\nbody",
		"smtpctl-offline 1\nsender a@b\n\nno rcpt",
		"smtpctl-offline 1\nrcpt a@b\n\nno sender",
		"smtpctl-offline 1\nsender a@b\nrcpt c@d\nbogus x\n\nb",
		"smtpctl-offline 1\nsender a@b\nrcpt c@d\r\n\nb",
		"smtpctl-offline 1\nsender a@b\nrcpt c@d",
		NULL
	};
	int		 i;

	for (i = 0; bad[i]; i++)
		ATF_CHECK_MSG(offline_load(&k, bad[i], strlen(bad[i]), err,
		    sizeof(err)) == -1, "case %d accepted", i);
	ATF_CHECK_EQ(offline_load(&k, "smtpctl-offline 1\nsender a@b\n"
	    "rcpt c@d\n\n", 39, err, sizeof(err)), 0);
	sm_job_free(&k);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, json_str);
	ATF_TP_ADD_TC(tp, duration);
	ATF_TP_ADD_TC(tp, stats);
	ATF_TP_ADD_TC(tp, offline_roundtrip);
	ATF_TP_ADD_TC(tp, offline_rejects);
	return atf_no_error();
}
