/*
 * The message side of sendmail(8): reading stdin, address lists of
 * To/Cc/Bcc for -t, Bcc removal and the headers a submission must have
 * (From, Date, Message-ID).  Pure functions over buffers; unit-tested in
 * regress/control/t_sendmail_msg.c.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "sendmail.h"

void
sm_job_init(struct sm_job *j)
{
	memset(j, 0, sizeof(*j));
	buf_init(&j->msg);
}

void
sm_job_free(struct sm_job *j)
{
	size_t	 i;

	for (i = 0; i < j->nrcpts; i++)
		free(j->rcpts[i]);
	free(j->rcpts);
	free(j->sender);
	free(j->envid);
	buf_free(&j->msg);
	memset(j, 0, sizeof(*j));
}

void
sm_job_add_rcpt(struct sm_job *j, const char *r)
{
	size_t	 i;

	for (i = 0; i < j->nrcpts; i++)
		if (strcasecmp(j->rcpts[i], r) == 0)
			return;		/* each recipient once */
	j->rcpts = reallocarray(j->rcpts, j->nrcpts + 1, sizeof(char *));
	if (j->rcpts == NULL || (j->rcpts[j->nrcpts] = strdup(r)) == NULL)
		fatal("sm_job_add_rcpt");
	j->nrcpts++;
}

int
sm_read_message(FILE *in, int ignore_dots, struct buf *out)
{
	char	*line = NULL;
	size_t	 cap = 0;
	ssize_t	 n;

	while ((n = getline(&line, &cap, in)) != -1) {
		if (memchr(line, '\0', (size_t)n) != NULL) {
			free(line);
			errno = EINVAL;
			return -1;
		}
		if (n > 0 && line[n - 1] == '\n')
			n--;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (!ignore_dots && n == 1 && line[0] == '.')
			break;
		buf_add(out, line, (size_t)n);
		buf_addc(out, '\n');
	}
	free(line);
	return ferror(in) ? -1 : 0;
}

/* Hand one address element (display name, comments still in) to cb. */
static int
sm_addr_emit(const char *s, size_t len, void (*cb)(const char *, void *),
    void *arg)
{
	struct buf	 a;
	const char	*lt = NULL, *gt = NULL, *p, *end = s + len;
	int		 inq = 0, depth = 0, n = 0;

	/* The last <...> outside quotes and comments holds the address. */
	for (p = s; p < end; p++) {
		if (inq) {
			if (*p == '\\' && p + 1 < end)
				p++;
			else if (*p == '"')
				inq = 0;
		} else if (depth) {
			if (*p == '\\' && p + 1 < end)
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
		} else if (*p == '"')
			inq = 1;
		else if (*p == '(')
			depth = 1;
		else if (*p == '<') {
			lt = p;
			gt = NULL;
		} else if (*p == '>' && lt && !gt)
			gt = p;
	}
	if (lt && gt) {
		s = lt + 1;
		end = gt;
		/* obsolete source route: <@a,@b:user@dom> */
		if (s < end && *s == '@' && (p = memchr(s, ':', end - s)))
			s = p + 1;
	}
	buf_init(&a);
	inq = depth = 0;
	for (p = s; p < end; p++) {
		if (inq) {
			buf_addc(&a, *p);
			if (*p == '\\' && p + 1 < end)
				buf_addc(&a, *++p);
			else if (*p == '"')
				inq = 0;
		} else if (depth) {
			if (*p == '\\' && p + 1 < end)
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
		} else if (*p == '(')
			depth = 1;
		else if (*p == '"') {
			inq = 1;
			buf_addc(&a, *p);
		} else if (!isspace((unsigned char)*p))
			buf_addc(&a, *p);
	}
	if (a.len > 0) {
		cb(buf_cstr(&a), arg);
		n = 1;
	}
	buf_free(&a);
	return n;
}

int
sm_addr_list(const char *v, void (*cb)(const char *, void *), void *arg)
{
	const char	*p, *start = v;
	int		 inq = 0, depth = 0, angle = 0, n = 0;

	for (p = v; ; p++) {
		if (*p == '\0') {
			n += sm_addr_emit(start, p - start, cb, arg);
			break;
		}
		if (inq) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				inq = 0;
			continue;
		}
		if (depth) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
			continue;
		}
		switch (*p) {
		case '"':
			inq = 1;
			break;
		case '(':
			depth = 1;
			break;
		case '<':
			angle = 1;
			break;
		case '>':
			angle = 0;
			break;
		case ':':
			/* group "name: a, b;": the name is not an address */
			if (!angle)
				start = p + 1;
			break;
		case ',':
		case ';':
			if (!angle) {
				n += sm_addr_emit(start, p - start, cb, arg);
				start = p + 1;
			}
			break;
		}
	}
	return n;
}

int
sm_qualify(const char *addr, const char *domain, char *out, size_t outlen)
{
	const char	*p;
	int		 inq = 0, r;

	for (p = addr; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -1;
		if (*p == '"')
			inq = !inq;
		else if (*p == ' ' && !inq)
			return -1;
	}
	if (strchr(addr, '@') != NULL || *addr == '\0')
		r = snprintf(out, outlen, "%s", addr);
	else
		r = snprintf(out, outlen, "%s@%s", addr, domain);
	return (r < 0 || (size_t)r >= outlen) ? -1 : 0;
}

int
sm_has_8bit(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] & 0x80)
			return 1;
	return 0;
}

/* Length of the field name of a header line, 0 if it is not one. */
static size_t
sm_field_name(const char *line, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (line[i] == ':')
			return i;
		if ((unsigned char)line[i] <= 32 ||
		    (unsigned char)line[i] > 126)
			return 0;
	}
	return 0;
}

struct sm_extract {
	struct sm_job	*job;
	const char	*domain;
};

static void
sm_on_extracted(const char *addr, void *arg)
{
	struct sm_extract	*x = arg;
	char			 q[1024];

	if (sm_qualify(addr, x->domain, q, sizeof(q)) == 0)
		sm_job_add_rcpt(x->job, q);
}

int
sm_prepare(struct sm_job *j, const char *raw, size_t len, int extract,
    const char *fullname, const char *domain, time_t now, const char *token)
{
	struct sm_extract x = { j, domain };
	struct buf	 value;
	const char	*p = raw, *end = raw + len, *eol, *fstart, *fend;
	size_t		 nl, ll;
	int		 has_from = 0, has_date = 0, has_msgid = 0, keep;
	char		 date[64];
	struct tm	 tm;

	buf_reset(&j->msg);
	buf_init(&value);
	/* Header section: fields (with folded continuations) until a blank
	 * line or a line that is not a field. */
	while (p < end) {
		eol = memchr(p, '\n', end - p);
		ll = eol ? (size_t)(eol - p) : (size_t)(end - p);
		if (ll == 0 || (nl = sm_field_name(p, ll)) == 0)
			break;
		fstart = p;
		fend = eol ? eol + 1 : end;
		while (fend < end && (*fend == ' ' || *fend == '\t')) {
			eol = memchr(fend, '\n', end - fend);
			fend = eol ? eol + 1 : end;
		}
		keep = 1;
		if (nl == 4 && strncasecmp(fstart, "From", 4) == 0)
			has_from = 1;
		else if (nl == 4 && strncasecmp(fstart, "Date", 4) == 0)
			has_date = 1;
		else if (nl == 10 && strncasecmp(fstart, "Message-ID", 10) == 0)
			has_msgid = 1;
		if ((nl == 2 && strncasecmp(fstart, "To", 2) == 0) ||
		    (nl == 2 && strncasecmp(fstart, "Cc", 2) == 0) ||
		    (nl == 3 && strncasecmp(fstart, "Bcc", 3) == 0)) {
			if (nl == 3)
				keep = 0;
			if (extract) {
				/* unfold: drop the line breaks */
				buf_reset(&value);
				for (eol = fstart + nl + 1; eol < fend; eol++)
					if (*eol != '\n' && *eol != '\r')
						buf_addc(&value, *eol);
				sm_addr_list(buf_cstr(&value), sm_on_extracted,
				    &x);
			}
		}
		if (keep) {
			buf_add(&j->msg, fstart, fend - fstart);
			if (fend == end && end[-1] != '\n')
				buf_addc(&j->msg, '\n');
		}
		p = fend;
	}
	buf_free(&value);

	if (!has_from) {
		buf_addstr(&j->msg, "From: ");
		if (fullname && *fullname) {
			buf_addc(&j->msg, '"');
			for (fstart = fullname; *fstart; fstart++) {
				if (*fstart == '"' || *fstart == '\\')
					buf_addc(&j->msg, '\\');
				if ((unsigned char)*fstart >= 0x20)
					buf_addc(&j->msg, *fstart);
			}
			buf_addstr(&j->msg, "\" ");
		}
		buf_printf(&j->msg, "<%s>\n", j->sender[0] ? j->sender :
		    "MAILER-DAEMON");
	}
	if (!has_date) {
		gmtime_r(&now, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000",
		    &tm);
		buf_printf(&j->msg, "Date: %s\n", date);
	}
	if (!has_msgid)
		buf_printf(&j->msg, "Message-ID: <%s@%s>\n", token, domain);

	/* The body, after the separating blank line. */
	if (p < end && *p == '\n') {
		buf_addc(&j->msg, '\n');
		p++;
	} else
		buf_addc(&j->msg, '\n');
	buf_add(&j->msg, p, end - p);
	if (j->msg.len > 0 && j->msg.data[j->msg.len - 1] != '\n')
		buf_addc(&j->msg, '\n');
	return 0;
}
