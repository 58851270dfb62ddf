/*
 * Unit tests of the outbound SMTP reply parser (mta/mta_reply.c):
 * normal replies, partial input, and hostile servers.
 */
#include <atf-c.h>
#include <string.h>

#include "mta/mta_reply.h"

static enum mta_reply_status
parse_all(struct mta_reply *r, const char *s, size_t *used)
{
	return mta_reply_parse(r, s, strlen(s), used);
}

ATF_TC_WITHOUT_HEAD(single_line);
ATF_TC_BODY(single_line, tc)
{
	struct mta_reply r;
	size_t	 used;

	mta_reply_init(&r);
	ATF_CHECK_EQ(parse_all(&r, "250 2.0.0 queued as X\r\n", &used),
	    MTA_REPLY_DONE);
	ATF_CHECK_EQ(r.code, 250);
	ATF_CHECK_EQ(used, 23);
	ATF_CHECK_STREQ(r.summary, "250 2.0.0 queued as X");
	mta_reply_free(&r);
}

ATF_TC_WITHOUT_HEAD(multi_line);
ATF_TC_BODY(multi_line, tc)
{
	struct mta_reply r;
	size_t	 used;
	const char *s = "250-mx.example\r\n250-PIPELINING\r\n250 SIZE 1000\r\n"
	    "220 next";

	mta_reply_init(&r);
	ATF_CHECK_EQ(parse_all(&r, s, &used), MTA_REPLY_DONE);
	ATF_CHECK_EQ(r.code, 250);
	ATF_CHECK_EQ(r.nlines, 3);
	ATF_CHECK_EQ(used, strlen(s) - strlen("220 next"));
	ATF_CHECK_STREQ(r.summary, "250 mx.example PIPELINING SIZE 1000");
	mta_reply_free(&r);
}

ATF_TC_WITHOUT_HEAD(partial);
ATF_TC_BODY(partial, tc)
{
	struct mta_reply r;
	size_t	 used;

	mta_reply_init(&r);
	ATF_CHECK_EQ(parse_all(&r, "250-a\r\n250 b", &used), MTA_REPLY_MORE);
	ATF_CHECK_EQ(used, 7);
	ATF_CHECK_EQ(parse_all(&r, "250 b\n", &used), MTA_REPLY_DONE);
	ATF_CHECK_EQ(r.nlines, 2);
	ATF_CHECK_STREQ(r.summary, "250 a b");
	mta_reply_reset(&r);
	ATF_CHECK_EQ(parse_all(&r, "", &used), MTA_REPLY_MORE);
	ATF_CHECK_EQ(used, 0);
	mta_reply_free(&r);
}

/* CVE-2020-8794: a bare code must end the reply, never read beyond. */
ATF_TC_WITHOUT_HEAD(bare_code);
ATF_TC_BODY(bare_code, tc)
{
	struct mta_reply r;
	size_t	 used;
	const char *s = "250-x\r\n250\r\n553 injected\r\n";

	mta_reply_init(&r);
	ATF_CHECK_EQ(parse_all(&r, s, &used), MTA_REPLY_DONE);
	ATF_CHECK_EQ(r.code, 250);
	ATF_CHECK_EQ(used, 12);
	ATF_CHECK_STREQ(r.summary, "250 x");
	mta_reply_reset(&r);
	ATF_CHECK_EQ(parse_all(&r, "421\n", &used), MTA_REPLY_DONE);
	ATF_CHECK_EQ(r.code, 421);
	ATF_CHECK_STREQ(r.summary, "421");
	mta_reply_free(&r);
}

ATF_TC_WITHOUT_HEAD(disagree);
ATF_TC_BODY(disagree, tc)
{
	struct mta_reply r;
	size_t	 used;

	mta_reply_init(&r);
	ATF_CHECK_EQ(parse_all(&r, "250-a\r\n550 b\r\n", &used),
	    MTA_REPLY_ERROR);
	ATF_CHECK(r.error != NULL);
	mta_reply_free(&r);
}

ATF_TC_WITHOUT_HEAD(garbage);
ATF_TC_BODY(garbage, tc)
{
	struct mta_reply r;
	size_t	 used;
	const char *bad[] = { "hello\r\n", "25\r\n", "250x\r\n",
	    "199 no\r\n", "650 no\r\n", "\r\n", "2a0 x\r\n", "250_x\r\n" };
	size_t	 i;

	mta_reply_init(&r);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mta_reply_reset(&r);
		ATF_CHECK_EQ_MSG(parse_all(&r, bad[i], &used),
		    MTA_REPLY_ERROR, "input %zu", i);
	}
	mta_reply_reset(&r);
	ATF_CHECK_EQ(mta_reply_parse(&r, "250 a\0b\r\n", 9, &used),
	    MTA_REPLY_ERROR);
	mta_reply_free(&r);
}

ATF_TC_WITHOUT_HEAD(long_line);
ATF_TC_BODY(long_line, tc)
{
	struct mta_reply r;
	char	 big[4000];
	size_t	 used;

	mta_reply_init(&r);
	memset(big, 'a', sizeof(big));
	memcpy(big, "250 ", 4);
	/* no line end yet, but already too long */
	ATF_CHECK_EQ(mta_reply_parse(&r, big, sizeof(big), &used),
	    MTA_REPLY_ERROR);
	mta_reply_reset(&r);
	big[sizeof(big) - 1] = '\n';
	ATF_CHECK_EQ(mta_reply_parse(&r, big, sizeof(big), &used),
	    MTA_REPLY_ERROR);
	/* a long but legal line is fine, and the summary is truncated */
	mta_reply_reset(&r);
	big[900] = '\n';
	ATF_CHECK_EQ(mta_reply_parse(&r, big, 901, &used), MTA_REPLY_DONE);
	ATF_CHECK(strlen(r.summary) < MTA_REPLY_TEXT_MAX);
	mta_reply_free(&r);
}

ATF_TC_WITHOUT_HEAD(endless);
ATF_TC_BODY(endless, tc)
{
	struct mta_reply r;
	size_t	 used, i;
	enum mta_reply_status st = MTA_REPLY_MORE;

	mta_reply_init(&r);
	for (i = 0; i < 1000 && st == MTA_REPLY_MORE; i++)
		st = parse_all(&r, "250-more and more\r\n", &used);
	ATF_CHECK_EQ(st, MTA_REPLY_ERROR);
	ATF_CHECK(i <= MTA_REPLY_LINES_MAX + 1);
	mta_reply_free(&r);
}

ATF_TC_WITHOUT_HEAD(escape);
ATF_TC_BODY(escape, tc)
{
	struct mta_reply r;
	size_t	 used;

	mta_reply_init(&r);
	ATF_CHECK_EQ(parse_all(&r, "550 bad\x1b[31m\xff\r\n", &used),
	    MTA_REPLY_DONE);
	ATF_CHECK_STREQ(r.summary, "550 bad?[31m?");
	mta_reply_free(&r);
}

ATF_TC_WITHOUT_HEAD(ehlo);
ATF_TC_BODY(ehlo, tc)
{
	struct mta_reply r;
	size_t	 used;
	uint64_t sz;
	unsigned ext;

	mta_reply_init(&r);
	ATF_CHECK_EQ(parse_all(&r, "250-STARTTLS.example\r\n"
	    "250-PIPELINING\r\n250-SIZE 35000000\r\n250-AUTH LOGIN PLAIN\r\n"
	    "250-8BITMIME\r\n250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n"
	    "250 SMTPUTF8\r\n", &used), MTA_REPLY_DONE);
	ext = mta_reply_ehlo(&r, &sz);
	ATF_CHECK(ext & MTA_EXT_PIPELINING);
	ATF_CHECK(ext & MTA_EXT_SIZE);
	ATF_CHECK_EQ(sz, 35000000);
	ATF_CHECK(ext & MTA_EXT_AUTH_PLAIN);
	ATF_CHECK(ext & MTA_EXT_AUTH_LOGIN);
	ATF_CHECK(ext & MTA_EXT_8BITMIME);
	ATF_CHECK(ext & MTA_EXT_DSN);
	ATF_CHECK(ext & MTA_EXT_SMTPUTF8);
	ATF_CHECK(ext & MTA_EXT_ENHANCED);
	/* the host name line is not an extension */
	ATF_CHECK(!(ext & MTA_EXT_STARTTLS));
	mta_reply_reset(&r);
	ATF_CHECK_EQ(parse_all(&r, "250-mx\r\n250-STARTTLSX\r\n"
	    "250-AUTH=LOGIN\r\n250 STARTTLS\r\n", &used), MTA_REPLY_DONE);
	ext = mta_reply_ehlo(&r, &sz);
	ATF_CHECK(ext & MTA_EXT_STARTTLS);
	ATF_CHECK(ext & MTA_EXT_AUTH_LOGIN);
	ATF_CHECK(!(ext & MTA_EXT_AUTH_PLAIN));
	ATF_CHECK(!(ext & MTA_EXT_PIPELINING));
	mta_reply_free(&r);
}

ATF_TC_WITHOUT_HEAD(status);
ATF_TC_BODY(status, tc)
{
	ATF_CHECK(mta_reply_has_status("2.0.0 ok"));
	ATF_CHECK(mta_reply_has_status("5.1.10"));
	ATF_CHECK(!mta_reply_has_status("ok"));
	ATF_CHECK(!mta_reply_has_status("5.1 x"));
	ATF_CHECK(!mta_reply_has_status("7.1.1 x"));
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, single_line);
	ATF_TP_ADD_TC(tp, multi_line);
	ATF_TP_ADD_TC(tp, partial);
	ATF_TP_ADD_TC(tp, bare_code);
	ATF_TP_ADD_TC(tp, disagree);
	ATF_TP_ADD_TC(tp, garbage);
	ATF_TP_ADD_TC(tp, long_line);
	ATF_TP_ADD_TC(tp, endless);
	ATF_TP_ADD_TC(tp, escape);
	ATF_TP_ADD_TC(tp, ehlo);
	ATF_TP_ADD_TC(tp, status);
	return atf_no_error();
}
