/*
 * Unit tests of the DSN text (queue/bounce_format.c): the notice is
 * parsed back as multipart/report and its parts and Status fields are
 * checked; status code extraction from reply lines.
 */
#include <atf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "envelope.h"
#include "queue/queue.h"

#define ORIG	"From: a@example.org\r\nTo: b@example.net\r\n" \
		"Subject: hi\r\nMessage-ID: <m1@example.org>\r\n\r\n" \
		"secret body line\r\n"

/* Split a multipart body on its boundary: returns the number of parts,
 * each part's text (headers + body) copied into parts[]. */
static int
split(const char *msg, const char *boundary, char *parts[], int max)
{
	char		 delim[128];
	const char	*p, *q;
	int		 n = 0;

	snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
	if ((p = strstr(msg, delim)) == NULL)
		return -1;
	for (;;) {
		p += strlen(delim);
		if (strncmp(p, "--", 2) == 0)
			return n;		/* closing delimiter */
		if (strncmp(p, "\r\n", 2) != 0)
			return -1;
		p += 2;
		if ((q = strstr(p, delim)) == NULL || n == max)
			return -1;
		parts[n] = strndup(p, (size_t)(q - p));
		n++;
		p = q;
	}
}

static void
mkevp(struct envelope *e, const char *rcpt, const char *err)
{
	memset(e, 0, sizeof(*e));
	e->id = 0x1111222200000001ULL;
	strlcpy(e->sender, "a@example.org", sizeof(e->sender));
	strlcpy(e->rcpt, rcpt, sizeof(e->rcpt));
	strlcpy(e->errorline, err, sizeof(e->errorline));
	e->creation = 1700000000;
	e->lasttry = 1700000500;
}

static int
count(const char *hay, const char *needle)
{
	int	 n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

ATF_TC_WITHOUT_HEAD(failure_report);
ATF_TC_BODY(failure_report, tc)
{
	struct envelope	 e1, e2;
	struct bounce_rcpt rs[2];
	struct buf	 out;
	char		*parts[8];
	const char	*msg, *body;
	int		 n, i;

	mkevp(&e1, "b@example.net", "550 5.1.1 <b@example.net>: no such "
	    "user\r\nInjected: header");
	strlcpy(e1.lasthop, "mx.example.net", sizeof(e1.lasthop));
	strlcpy(e1.dsn_orcpt, "rfc822;B@example.net", sizeof(e1.dsn_orcpt));
	mkevp(&e2, "c@example.net", "421 4.4.2 timeout");
	rs[0].e = &e1;
	rs[0].kind = B_FAILED;
	rs[1].e = &e2;
	rs[1].kind = B_FAILED;
	buf_init(&out);
	bounce_format(&out, "mx.test", "pm@mx.test", "a@example.org", rs, 2,
	    ORIG, strlen(ORIG), 0, 1700001000, "BOUNDARY42", "\r\n");
	msg = buf_cstr(&out);
	ATF_CHECK(strstr(msg, "From: Mail Delivery System "
	    "<MAILER-DAEMON@mx.test>\r\n") == msg);
	ATF_CHECK(strstr(msg, "\r\nTo: <a@example.org>\r\n") != NULL);
	ATF_CHECK(strstr(msg, "\r\nReply-To: <pm@mx.test>\r\n") != NULL);
	ATF_CHECK(strstr(msg, "Content-Type: multipart/report; "
	    "report-type=delivery-status;\r\n\tboundary=\"BOUNDARY42\"") !=
	    NULL);
	/* the injected CRLF did not make a header */
	ATF_CHECK(strstr(msg, "\r\nInjected:") == NULL);
	body = strstr(msg, "\r\n\r\n");
	ATF_REQUIRE(body != NULL);
	n = split(body, "BOUNDARY42", parts, 8);
	ATF_REQUIRE_EQ(n, 3);
	ATF_CHECK(strncmp(parts[0], "Content-Type: text/plain", 24) == 0);
	ATF_CHECK(strncmp(parts[1], "Content-Type: message/delivery-status",
	    37) == 0);
	ATF_CHECK(strstr(parts[1], "Reporting-MTA: dns; mx.test\r\n"));
	ATF_CHECK(strstr(parts[1], "Arrival-Date: "));
	ATF_CHECK_EQ(count(parts[1], "Final-Recipient: rfc822; "), 2);
	ATF_CHECK(strstr(parts[1], "Final-Recipient: rfc822; b@example.net"
	    "\r\nOriginal-Recipient: rfc822;B@example.net\r\n"
	    "Action: failed\r\nStatus: 5.1.1\r\n"
	    "Remote-MTA: dns; mx.example.net\r\n"
	    "Diagnostic-Code: smtp; 550 5.1.1 <b@example.net>: no such user  "
	    "Injected: header\r\n"));
	/* a 4xx at failure time is an expiry */
	ATF_CHECK(strstr(parts[1], "Final-Recipient: rfc822; c@example.net"
	    "\r\nAction: failed\r\nStatus: 5.4.7\r\n"));
	ATF_CHECK(strncmp(parts[2], "Content-Type: text/rfc822-headers",
	    33) == 0);
	ATF_CHECK(strstr(parts[2], "Message-ID: <m1@example.org>"));
	ATF_CHECK(strstr(parts[2], "secret body line") == NULL);
	for (i = 0; i < n; i++)
		free(parts[i]);
	buf_free(&out);
}

ATF_TC_WITHOUT_HEAD(ret_full_and_delay);
ATF_TC_BODY(ret_full_and_delay, tc)
{
	struct envelope	 e;
	struct bounce_rcpt r;
	struct buf	 out;
	char		*parts[8];
	int		 n;

	mkevp(&e, "b@example.net", "550 5.7.1 rejected");
	r.e = &e;
	r.kind = B_FAILED;
	buf_init(&out);
	bounce_format(&out, "mx.test", "pm@mx.test", "a@example.org", &r, 1,
	    ORIG, strlen(ORIG), 1, 1700001000, "B1", "\r\n");
	n = split(strstr(buf_cstr(&out), "\r\n\r\n"), "B1", parts, 8);
	ATF_REQUIRE_EQ(n, 3);
	ATF_CHECK(strncmp(parts[2], "Content-Type: message/rfc822", 28) ==
	    0);
	ATF_CHECK(strstr(parts[2], "secret body line") != NULL);
	ATF_CHECK(strstr(parts[1], "Status: 5.7.1\r\n"));

	buf_reset(&out);
	mkevp(&e, "b@example.net", "451 4.3.0 try later");
	r.kind = B_DELAYED;
	bounce_format(&out, "mx.test", "pm@mx.test", "a@example.org", &r, 1,
	    ORIG, strlen(ORIG), 0, 1700001000, "B2", "\r\n");
	ATF_CHECK(strstr(buf_cstr(&out), "Subject: Delayed Mail"));
	ATF_CHECK(strstr(buf_cstr(&out), "Action: delayed\r\n"
	    "Status: 4.3.0\r\n"));

	buf_reset(&out);
	mkevp(&e, "b@example.net", "250 2.0.0 ok");
	r.kind = B_RELAYED;
	bounce_format(&out, "mx.test", "pm@mx.test", "a@example.org", &r, 1,
	    ORIG, strlen(ORIG), 0, 1700001000, "B3", "\r\n");
	ATF_CHECK(strstr(buf_cstr(&out), "Action: relayed\r\n"
	    "Status: 2.0.0\r\n"));
	buf_free(&out);
}

ATF_TC_WITHOUT_HEAD(status);
ATF_TC_BODY(status, tc)
{
	char	 st[16];

	bounce_status("550 5.1.1 no user", "x", st);
	ATF_CHECK_STREQ(st, "5.1.1");
	bounce_status("550-5.7.26 unauth", "x", st);
	ATF_CHECK_STREQ(st, "5.7.26");
	bounce_status("450 try later", "x", st);
	ATF_CHECK_STREQ(st, "4.0.0");
	bounce_status("550 4.1.1 mismatch", "x", st);
	ATF_CHECK_STREQ(st, "5.0.0");
	bounce_status("550 5.1.", "x", st);
	ATF_CHECK_STREQ(st, "5.0.0");
	bounce_status("connect: refused", "4.4.1", st);
	ATF_CHECK_STREQ(st, "4.4.1");
	bounce_status("", "5.0.0", st);
	ATF_CHECK_STREQ(st, "5.0.0");
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, failure_report);
	ATF_TP_ADD_TC(tp, ret_full_and_delay);
	ATF_TP_ADD_TC(tp, status);
	return atf_no_error();
}
