/* Unit tests of the sendmail message handling (sendmail_msg.c). */
#include <atf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/sendmail.h"

static char	 got[16][256];
static int	 ngot;

static void
collect(const char *a, void *arg)
{
	(void)arg;
	if (ngot < 16)
		strlcpy(got[ngot++], a, sizeof(got[0]));
}

ATF_TC_WITHOUT_HEAD(addr_list);
ATF_TC_BODY(addr_list, tc)
{
	ngot = 0;
	ATF_CHECK_EQ(sm_addr_list("a@x.org, \"Doe, John\" <jd@y.org>, "
	    "(c) b@z.org (comment)", collect, NULL), 3);
	ATF_CHECK_STREQ(got[0], "a@x.org");
	ATF_CHECK_STREQ(got[1], "jd@y.org");
	ATF_CHECK_STREQ(got[2], "b@z.org");

	ngot = 0;
	ATF_CHECK_EQ(sm_addr_list("team: p@q.org, r@s.org;, t@u.org",
	    collect, NULL), 3);
	ATF_CHECK_STREQ(got[0], "p@q.org");
	ATF_CHECK_STREQ(got[1], "r@s.org");
	ATF_CHECK_STREQ(got[2], "t@u.org");

	ngot = 0;
	ATF_CHECK_EQ(sm_addr_list("undisclosed-recipients:;", collect, NULL),
	    0);
	ngot = 0;
	ATF_CHECK_EQ(sm_addr_list("<@relay.org:user@dom.org>", collect,
	    NULL), 1);
	ATF_CHECK_STREQ(got[0], "user@dom.org");
}

ATF_TC_WITHOUT_HEAD(qualify);
ATF_TC_BODY(qualify, tc)
{
	char	 out[64];

	ATF_CHECK_EQ(sm_qualify("root", "example.org", out, sizeof(out)), 0);
	ATF_CHECK_STREQ(out, "root@example.org");
	ATF_CHECK_EQ(sm_qualify("a@b.c", "example.org", out, sizeof(out)), 0);
	ATF_CHECK_STREQ(out, "a@b.c");
	ATF_CHECK_EQ(sm_qualify("a b@c", "d", out, sizeof(out)), -1);
	ATF_CHECK_EQ(sm_qualify("a\r\n@c", "d", out, sizeof(out)), -1);
	ATF_CHECK_EQ(sm_qualify("averyveryverylongname", "example.org", out,
	    16), -1);
}

ATF_TC_WITHOUT_HEAD(read_message);
ATF_TC_BODY(read_message, tc)
{
	const char	 in[] = "Subject: x\r\n\r\nline\r\n.\r\nafter\r\n";
	struct buf	 b;
	FILE		*fp;

	buf_init(&b);
	fp = fmemopen((void *)in, sizeof(in) - 1, "r");
	ATF_REQUIRE(fp != NULL);
	ATF_CHECK_EQ(sm_read_message(fp, 0, &b), 0);
	fclose(fp);
	ATF_CHECK_STREQ(buf_cstr(&b), "Subject: x\n\nline\n");

	buf_reset(&b);
	fp = fmemopen((void *)in, sizeof(in) - 1, "r");
	ATF_CHECK_EQ(sm_read_message(fp, 1, &b), 0);
	fclose(fp);
	ATF_CHECK_STREQ(buf_cstr(&b), "Subject: x\n\nline\n.\nafter\n");
	buf_free(&b);
}

ATF_TC_WITHOUT_HEAD(prepare_extract_bcc);
ATF_TC_BODY(prepare_extract_bcc, tc)
{
	const char	 raw[] =
	    "To: a@x.org,\n  b@y.org\nBcc: secret@z.org\n"
	    "Cc: Carol <c@w.org>\nSubject: hi\n\nbody\nBcc: stays\n";
	struct sm_job	 j;
	const char	*m;

	sm_job_init(&j);
	j.sender = strdup("me@here.org");
	sm_job_add_rcpt(&j, "cmd@line.org");
	sm_prepare(&j, raw, sizeof(raw) - 1, 1, "Me Myself", "here.org",
	    0, "tok");
	ATF_REQUIRE_EQ(j.nrcpts, 5);
	ATF_CHECK_STREQ(j.rcpts[0], "cmd@line.org");
	ATF_CHECK_STREQ(j.rcpts[1], "a@x.org");
	ATF_CHECK_STREQ(j.rcpts[2], "b@y.org");
	ATF_CHECK_STREQ(j.rcpts[3], "secret@z.org");
	ATF_CHECK_STREQ(j.rcpts[4], "c@w.org");
	m = buf_cstr(&j.msg);
	ATF_CHECK(strstr(m, "secret") == NULL);
	ATF_CHECK(strstr(m, "\nBcc: stays\n") != NULL);	/* body kept */
	ATF_CHECK(strstr(m, "From: \"Me Myself\" <me@here.org>\n") != NULL);
	ATF_CHECK(strstr(m, "Date: Thu, 01 Jan 1970 00:00:00 +0000\n") !=
	    NULL);
	ATF_CHECK(strstr(m, "Message-ID: <tok@here.org>\n") != NULL);
	ATF_CHECK(strstr(m, "To: a@x.org,\n  b@y.org\n") != NULL);
	ATF_CHECK(strstr(m, "\n\nbody\n") != NULL);
	sm_job_free(&j);
}

ATF_TC_WITHOUT_HEAD(prepare_keeps_headers);
ATF_TC_BODY(prepare_keeps_headers, tc)
{
	const char	 raw[] = "From: x@y.org\nDate: today\n"
	    "Message-Id: <a@b>\nBcc: hidden@z.org\n\nbody";
	struct sm_job	 j;
	const char	*m;

	sm_job_init(&j);
	j.sender = strdup("");
	sm_prepare(&j, raw, sizeof(raw) - 1, 0, "", "here.org", 0, "tok");
	ATF_CHECK_EQ(j.nrcpts, 0);	/* no -t: headers give none */
	m = buf_cstr(&j.msg);
	ATF_CHECK_STREQ(m, "From: x@y.org\nDate: today\n"
	    "Message-Id: <a@b>\n\nbody\n");
	sm_job_free(&j);
}

ATF_TC_WITHOUT_HEAD(prepare_no_headers);
ATF_TC_BODY(prepare_no_headers, tc)
{
	const char	 raw[] = "just a body line\n";
	struct sm_job	 j;
	const char	*m;

	sm_job_init(&j);
	j.sender = strdup("u@h.org");
	sm_prepare(&j, raw, sizeof(raw) - 1, 0, NULL, "h.org", 0, "t");
	m = buf_cstr(&j.msg);
	ATF_CHECK(strncmp(m, "From: <u@h.org>\nDate: ", 22) == 0);
	ATF_CHECK(strstr(m, "Message-ID: <t@h.org>\n\njust a body line\n") !=
	    NULL);
	sm_job_free(&j);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, addr_list);
	ATF_TP_ADD_TC(tp, qualify);
	ATF_TP_ADD_TC(tp, read_message);
	ATF_TP_ADD_TC(tp, prepare_extract_bcc);
	ATF_TP_ADD_TC(tp, prepare_keeps_headers);
	ATF_TP_ADD_TC(tp, prepare_no_headers);
	return atf_no_error();
}
