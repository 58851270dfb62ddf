/*
 * The text of a delivery status notification (RFC 3464): headers, a
 * human-readable part, a message/delivery-status part and the original
 * headers or message.  Pure functions, unit-tested in regress/queue.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "envelope.h"
#include "queue.h"

void
bounce_status(const char *line, const char *def, char out[16])
{
	const char	*p = line;
	size_t		 i;
	int		 dots = 0;

	strlcpy(out, def, 16);
	if (line == NULL || !(p[0] >= '2' && p[0] <= '5'))
		return;
	/* "550 5.1.1 ..." or "550-5.1.1 ..." */
	if (strlen(p) > 4 && (p[3] == ' ' || p[3] == '-') && p[4] == p[0] &&
	    p[5] == '.') {
		p += 4;
		for (i = 0; i < 15 && p[i] && p[i] != ' '; i++) {
			if (p[i] == '.')
				dots++;
			else if (p[i] < '0' || p[i] > '9')
				break;
		}
		if (dots == 2 && (p[i] == '\0' || p[i] == ' ') &&
		    p[i - 1] != '.') {
			memcpy(out, p, i);
			out[i] = '\0';
			return;
		}
	}
	if (line[0] >= '2' && line[0] <= '5' &&
	    line[1] >= '0' && line[1] <= '9') {
		out[0] = line[0];
		strlcpy(out + 1, ".0.0", 15);
	}
}

/* Append s with every byte outside printable ASCII made a space. */
static void
add_clean(struct buf *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		buf_addc(out, c >= 0x20 && c < 0x7f ? (char)c : ' ');
	}
}

static void
add_date(struct buf *out, time_t t)
{
	struct tm	 tm;
	char		 d[64];

	gmtime_r(&t, &tm);
	strftime(d, sizeof(d), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	buf_addstr(out, d);
}

static const char *
action_name(enum bounce_kind k)
{
	switch (k) {
	case B_FAILED:
		return "failed";
	case B_DELAYED:
		return "delayed";
	case B_DELIVERED:
		return "delivered";
	case B_RELAYED:
		return "relayed";
	}
	return "failed";
}

static void
rcpt_status(const struct bounce_rcpt *r, char st[16])
{
	switch (r->kind) {
	case B_FAILED:
		bounce_status(r->e->errorline, "5.0.0", st);
		if (st[0] != '5')
			strlcpy(st, "5.4.7", 16);	/* expired */
		break;
	case B_DELAYED:
		bounce_status(r->e->errorline, "4.0.0", st);
		if (st[0] != '4')
			strlcpy(st, "4.0.0", 16);
		break;
	default:
		strlcpy(st, "2.0.0", 16);
		break;
	}
}

/* Length of the header block of msg (up to, not including, the empty
 * line), the whole message when it has no body. */
static size_t
header_len(const char *msg, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (msg[i] != '\n')
			continue;
		if (i + 1 < len && msg[i + 1] == '\n')
			return i + 1;
		if (i + 2 < len && msg[i + 1] == '\r' && msg[i + 2] == '\n')
			return i + 1;
	}
	return len;
}

#define EOL(o)	buf_addstr((o), eol)

void
bounce_format(struct buf *out, const char *hostname, const char *replyto,
    const char *to, const struct bounce_rcpt *rs, size_t n, const char *orig,
    size_t origlen, int ret_full, time_t now, const char *boundary,
    const char *eol)
{
	const struct envelope *e0 = n ? rs[0].e : NULL;
	enum bounce_kind	 k0 = n ? rs[0].kind : B_FAILED;
	size_t			 i, hl;
	char			 st[16];
	int			 expired = 0;

	for (i = 0; i < n; i++)
		if (rs[i].kind == B_FAILED && rs[i].e->errorline[0] == '4')
			expired = 1;
	buf_printf(out, "From: Mail Delivery System <MAILER-DAEMON@%s>",
	    hostname);
	EOL(out);
	if (replyto != NULL && replyto[0] != '\0') {
		buf_addstr(out, "Reply-To: <");
		add_clean(out, replyto);
		buf_addc(out, '>');
		EOL(out);
	}
	buf_addstr(out, "To: <");
	add_clean(out, to);
	buf_addc(out, '>');
	EOL(out);
	buf_addstr(out, "Subject: ");
	if (k0 == B_FAILED)
		buf_addstr(out, "Undelivered Mail Returned to Sender");
	else if (k0 == B_DELAYED)
		buf_addstr(out, "Delayed Mail (still being retried)");
	else
		buf_addstr(out, "Successful Mail Delivery Report");
	EOL(out);
	buf_addstr(out, "Date: ");
	add_date(out, now);
	EOL(out);
	buf_printf(out, "Message-ID: <%s@%s>", boundary, hostname);
	EOL(out);
	buf_addstr(out, "Auto-Submitted: auto-replied");
	EOL(out);
	buf_addstr(out, "MIME-Version: 1.0");
	EOL(out);
	buf_addstr(out, "Content-Type: multipart/report; "
	    "report-type=delivery-status;");
	EOL(out);
	buf_printf(out, "\tboundary=\"%s\"", boundary);
	EOL(out);
	EOL(out);
	buf_addstr(out, "This is a MIME-encapsulated message.");
	EOL(out);
	EOL(out);

	/* 1: human readable */
	buf_printf(out, "--%s", boundary);
	EOL(out);
	buf_addstr(out, "Content-Type: text/plain; charset=us-ascii");
	EOL(out);
	buf_addstr(out, "Content-Description: Notification");
	EOL(out);
	EOL(out);
	buf_printf(out, "This is the mail system at host %s.", hostname);
	EOL(out);
	EOL(out);
	if (k0 == B_FAILED) {
		buf_addstr(out, expired ?
		    "Your message could not be delivered before its delivery "
		    "time expired" : "Your message could not be delivered");
		buf_addstr(out, " to the recipient(s) below.");
	} else if (k0 == B_DELAYED)
		buf_addstr(out, "Your message has not been delivered yet; "
		    "delivery will be retried.");
	else
		buf_addstr(out, "Your message was successfully delivered "
		    "to the destination(s) below.");
	EOL(out);
	EOL(out);
	for (i = 0; i < n; i++) {
		buf_addstr(out, "<");
		add_clean(out, rs[i].e->rcpt);
		buf_addstr(out, ">: ");
		add_clean(out, rs[i].e->errorline[0] ? rs[i].e->errorline :
		    action_name(rs[i].kind));
		EOL(out);
	}
	EOL(out);

	/* 2: message/delivery-status */
	buf_printf(out, "--%s", boundary);
	EOL(out);
	buf_addstr(out, "Content-Type: message/delivery-status");
	EOL(out);
	buf_addstr(out, "Content-Description: Delivery report");
	EOL(out);
	EOL(out);
	buf_printf(out, "Reporting-MTA: dns; %s", hostname);
	EOL(out);
	if (e0 != NULL && e0->dsn_envid[0]) {
		buf_addstr(out, "Original-Envelope-Id: ");
		add_clean(out, e0->dsn_envid);
		EOL(out);
	}
	if (e0 != NULL) {
		buf_addstr(out, "Arrival-Date: ");
		add_date(out, e0->creation);
		EOL(out);
	}
	for (i = 0; i < n; i++) {
		const struct envelope *e = rs[i].e;

		EOL(out);
		buf_addstr(out, "Final-Recipient: rfc822; ");
		add_clean(out, e->rcpt);
		EOL(out);
		if (e->dsn_orcpt[0]) {
			buf_addstr(out, "Original-Recipient: ");
			add_clean(out, e->dsn_orcpt);
			EOL(out);
		} else if (e->orig_rcpt[0] && strcmp(e->orig_rcpt,
		    e->rcpt) != 0) {
			buf_addstr(out, "Original-Recipient: rfc822; ");
			add_clean(out, e->orig_rcpt);
			EOL(out);
		}
		buf_printf(out, "Action: %s", action_name(rs[i].kind));
		EOL(out);
		rcpt_status(&rs[i], st);
		buf_printf(out, "Status: %s", st);
		EOL(out);
		if (e->lasthop[0]) {
			buf_addstr(out, "Remote-MTA: dns; ");
			add_clean(out, e->lasthop);
			EOL(out);
		}
		if (e->errorline[0] && rs[i].kind != B_DELIVERED) {
			buf_addstr(out, "Diagnostic-Code: smtp; ");
			add_clean(out, e->errorline);
			EOL(out);
		}
		if (e->lasttry) {
			buf_addstr(out, "Last-Attempt-Date: ");
			add_date(out, e->lasttry);
			EOL(out);
		}
	}
	EOL(out);

	/* 3: the original */
	buf_printf(out, "--%s", boundary);
	EOL(out);
	hl = header_len(orig, origlen);
	if (ret_full && k0 == B_FAILED) {
		buf_addstr(out, "Content-Type: message/rfc822");
		EOL(out);
		buf_addstr(out, "Content-Description: Undelivered Message");
	} else {
		buf_addstr(out, "Content-Type: text/rfc822-headers");
		EOL(out);
		buf_addstr(out, "Content-Description: Message Headers");
		origlen = hl;
	}
	EOL(out);
	EOL(out);
	buf_add(out, orig, origlen);
	if (origlen > 0 && orig[origlen - 1] != '\n')
		EOL(out);
	EOL(out);
	buf_printf(out, "--%s--", boundary);
	EOL(out);
}

