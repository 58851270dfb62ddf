/*
 * Unit tests of the DATA/BDAT body filter (smtpd/smtp_data.c): end of
 * data, dot-unstuffing, smuggling variants, limits, header checks.  Each
 * input is also fed one octet at a time, which must give the same
 * result.
 */
#include <string.h>

#include <atf-c.h>

#include "smtpd/smtp_data.h"

struct res {
	int	 err;
	int	 done;
	size_t	 used;
	char	 out[4096];
};

static void
run1(const char *in, size_t len, int dot, uint64_t max, unsigned hops,
    const char *date, int bytewise, struct res *r)
{
	struct smtp_data	 d;
	struct buf		 out;
	size_t			 i, n;

	buf_init(&out);
	smtp_data_init(&d, dot, max, hops, date, NULL, smtp_data_emit_buf,
	    &out);
	if (bytewise) {
		for (i = 0, r->used = 0; i < len && !d.done; i++)
			r->used += smtp_data_feed(&d, in + i, 1);
	} else
		r->used = smtp_data_feed(&d, in, len);
	r->done = d.done;
	r->err = smtp_data_finish(&d);
	n = out.len < sizeof(r->out) - 1 ? out.len : sizeof(r->out) - 1;
	memcpy(r->out, out.data ? out.data : "", n);
	r->out[n] = '\0';
	buf_free(&out);
}

/* Run whole and bytewise; both must agree. */
static void
run(const char *in, int dot, struct res *r)
{
	struct res	 r2;

	run1(in, strlen(in), dot, 0, 0, NULL, 0, r);
	run1(in, strlen(in), dot, 0, 0, NULL, 1, &r2);
	ATF_CHECK_EQ(r->err, r2.err);
	ATF_CHECK_EQ(r->done, r2.done);
	ATF_CHECK_EQ(r->used, r2.used);
	if (r->err == SMTP_DATA_OK)
		ATF_CHECK_STREQ(r->out, r2.out);
}

ATF_TC_WITHOUT_HEAD(end_of_data);
ATF_TC_BODY(end_of_data, tc)
{
	struct res	 r;

	run("Subject: x\r\n\r\nhello\r\n.\r\nQUIT\r\n", 1, &r);
	ATF_CHECK_EQ(r.done, 1);
	ATF_CHECK_EQ(r.err, SMTP_DATA_OK);
	ATF_CHECK_STREQ(r.out, "Subject: x\r\n\r\nhello\r\n");
	ATF_CHECK_EQ(r.used, strlen("Subject: x\r\n\r\nhello\r\n.\r\n"));
	run(".\r\n", 1, &r);	/* empty message */
	ATF_CHECK_EQ(r.done, 1);
	ATF_CHECK_STREQ(r.out, "");
	run("a\r\n..b\r\n..\r\n.x\r\n.\r\n", 1, &r);
	ATF_CHECK_EQ(r.done, 1);
	ATF_CHECK_EQ(r.err, SMTP_DATA_OK);
	ATF_CHECK_STREQ(r.out, "a\r\n.b\r\n.\r\nx\r\n");
	run("a\r\n. \r\nb\r\n", 1, &r);	/* "." + anything is not the end */
	ATF_CHECK_EQ(r.done, 0);
	ATF_CHECK_STREQ(r.out, "a\r\n \r\nb\r\n");
}

ATF_TC_WITHOUT_HEAD(smuggling);
ATF_TC_BODY(smuggling, tc)
{
	static const char *variants[] = {
		"a\n.\nMAIL FROM:<x@y>\r\n",
		"a\r.\rMAIL FROM:<x@y>\r\n",
		"a\n.\r\nMAIL FROM:<x@y>\r\n",
		"a\r\n.\nMAIL FROM:<x@y>\r\n",
		"a\r\n.\rMAIL FROM:<x@y>\r\n",
		"a\r.\r\nMAIL FROM:<x@y>\r\n",
		"a\r\r\n.\r\nMAIL FROM:<x@y>\r\n",
	};
	struct res	 r;
	size_t		 i;

	for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		run(variants[i], 1, &r);
		ATF_CHECK_MSG(r.done == 0 || i == 6, "variant %zu ended", i);
		ATF_CHECK_MSG(r.err == SMTP_DATA_EBARE, "variant %zu err %d",
		    i, r.err);
	}
}

ATF_TC_WITHOUT_HEAD(nul_long);
ATF_TC_BODY(nul_long, tc)
{
	struct res	 r;
	char		 big[1100];

	run1("a\0b\r\n.\r\n", 8, 1, 0, 0, NULL, 0, &r);
	ATF_CHECK_EQ(r.done, 1);
	ATF_CHECK_EQ(r.err, SMTP_DATA_ENUL);
	memset(big, 'x', 998);
	strcpy(big + 998, "\r\n.\r\n");
	run(big, 1, &r);
	ATF_CHECK_EQ(r.err, SMTP_DATA_OK);
	memset(big, 'x', 999);
	strcpy(big + 999, "\r\n.\r\n");
	run(big, 1, &r);
	ATF_CHECK_EQ(r.err, SMTP_DATA_ELONG);
	ATF_CHECK_EQ(r.done, 1);
	/* a long line ending in "." is not the end of data */
	memset(big, 'x', 1050);
	strcpy(big + 1050, ".\r\n");
	run(big, 1, &r);
	ATF_CHECK_EQ(r.done, 0);
}

ATF_TC_WITHOUT_HEAD(size_hops);
ATF_TC_BODY(size_hops, tc)
{
	struct res	 r;
	const char	*m = "Received: a\r\nreceived: b\r\n\r\nReceived: c\r\n"
	    ".\r\n";

	run1("0123456789\r\n.\r\n", 15, 1, 12, 0, NULL, 0, &r);
	ATF_CHECK_EQ(r.err, SMTP_DATA_OK);
	run1("0123456789\r\n.\r\n", 15, 1, 11, 0, NULL, 0, &r);
	ATF_CHECK_EQ(r.err, SMTP_DATA_ESIZE);
	ATF_CHECK_EQ(r.done, 1);
	run1(m, strlen(m), 1, 0, 2, NULL, 0, &r);
	ATF_CHECK_EQ(r.err, SMTP_DATA_OK);
	run1(m, strlen(m), 1, 0, 1, NULL, 0, &r);
	ATF_CHECK_EQ(r.err, SMTP_DATA_ELOOP);
}

ATF_TC_WITHOUT_HEAD(add_headers);
ATF_TC_BODY(add_headers, tc)
{
	struct res	 r;
	const char	*m1 = "Subject: x\r\n\r\nbody\r\n.\r\n";
	const char	*m2 = "Date: y\r\nSubject: x\r\n\r\nbody\r\n.\r\n";
	const char	*m3 = "Subject: x\r\n.\r\n";

	run1(m1, strlen(m1), 1, 0, 0, "Date: d\r\n", 1, &r);
	ATF_CHECK_STREQ(r.out, "Subject: x\r\nDate: d\r\n\r\nbody\r\n");
	run1(m2, strlen(m2), 1, 0, 0, "Date: d\r\n", 0, &r);
	ATF_CHECK_STREQ(r.out, "Date: y\r\nSubject: x\r\n\r\nbody\r\n");
	run1(m3, strlen(m3), 1, 0, 0, "Date: d\r\n", 0, &r);
	ATF_CHECK_STREQ(r.out, "Subject: x\r\nDate: d\r\n");
}

ATF_TC_WITHOUT_HEAD(bdat);
ATF_TC_BODY(bdat, tc)
{
	struct res	 r;

	run("a\r\n.\r\nb\n", 0, &r);
	ATF_CHECK_EQ(r.done, 0);
	ATF_CHECK_EQ(r.err, SMTP_DATA_OK);
	ATF_CHECK_STREQ(r.out, "a\r\n.\r\nb\n");
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, end_of_data);
	ATF_TP_ADD_TC(tp, smuggling);
	ATF_TP_ADD_TC(tp, nul_long);
	ATF_TP_ADD_TC(tp, size_hops);
	ATF_TP_ADD_TC(tp, add_headers);
	ATF_TP_ADD_TC(tp, bdat);
	return atf_no_error();
}
