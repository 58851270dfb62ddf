/*
 * Pure SMTP reply parser for the outbound side.  A reply is read line by
 * line; every line is length-checked before it is looked at, a bare code
 * ("250") is a last line with empty text (never read past its end, unlike
 * CVE-2020-8794), codes of a multi-line reply must agree, and a reply is
 * bounded in lines and bytes.  Nothing here logs or does I/O.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mta_reply.h"

void
mta_reply_init(struct mta_reply *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->lines);
}

void
mta_reply_reset(struct mta_reply *r)
{
	r->code = 0;
	r->nlines = 0;
	r->size = 0;
	r->summary[0] = '\0';
	r->error = NULL;
	buf_reset(&r->lines);
}

void
mta_reply_free(struct mta_reply *r)
{
	buf_free(&r->lines);
}

/* Append text to the summary as printable ASCII, truncating. */
static void
summary_add(struct mta_reply *r, const char *s, size_t n)
{
	size_t	 len, i;

	len = strlen(r->summary);
	for (i = 0; i < n && len + 1 < sizeof(r->summary); i++) {
		unsigned char c = (unsigned char)s[i];
		r->summary[len++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	r->summary[len] = '\0';
}

/* One line without its line end.  1: last line, 0: more, -1: error. */
static int
reply_line(struct mta_reply *r, const char *s, size_t n)
{
	int	 code, last;

	if (n < 3 || !isdigit((unsigned char)s[0]) ||
	    !isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[2])) {
		r->error = "malformed reply line";
		return -1;
	}
	if (s[0] < '2' || s[0] > '5') {
		r->error = "invalid reply code";
		return -1;
	}
	code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	if (n == 3)
		last = 1;		/* bare code: a last line, no text */
	else if (s[3] == ' ')
		last = 1;
	else if (s[3] == '-')
		last = 0;
	else {
		r->error = "malformed reply line";
		return -1;
	}
	if (r->nlines > 0 && code != r->code) {
		r->error = "multi-line reply codes disagree";
		return -1;
	}
	if (r->nlines >= MTA_REPLY_LINES_MAX) {
		r->error = "reply has too many lines";
		return -1;
	}
	r->code = code;
	r->nlines++;
	if (n > 4)
		buf_add(&r->lines, s + 4, n - 4);
	buf_addc(&r->lines, '\n');
	if (r->nlines == 1) {
		r->summary[0] = '\0';
		summary_add(r, s, 3);
	}
	if (n > 4) {
		summary_add(r, " ", 1);
		summary_add(r, s + 4, n - 4);
	}
	return last;
}

enum mta_reply_status
mta_reply_parse(struct mta_reply *r, const char *data, size_t len,
    size_t *consumed)
{
	const char	*nl;
	size_t		 off, n, linelen;
	int		 ret;

	*consumed = 0;
	off = 0;
	while (off < len) {
		nl = memchr(data + off, '\n', len - off);
		if (nl == NULL) {
			if (len - off > MTA_REPLY_LINE_MAX) {
				r->error = "reply line too long";
				return MTA_REPLY_ERROR;
			}
			return MTA_REPLY_MORE;
		}
		n = (size_t)(nl - (data + off)) + 1;
		linelen = n - 1;
		if (linelen > 0 && data[off + linelen - 1] == '\r')
			linelen--;
		if (linelen > MTA_REPLY_LINE_MAX) {
			r->error = "reply line too long";
			return MTA_REPLY_ERROR;
		}
		r->size += n;
		if (r->size > MTA_REPLY_SIZE_MAX) {
			r->error = "reply too long";
			return MTA_REPLY_ERROR;
		}
		if (memchr(data + off, '\0', linelen) != NULL) {
			r->error = "NUL in reply";
			return MTA_REPLY_ERROR;
		}
		ret = reply_line(r, data + off, linelen);
		off += n;
		*consumed = off;
		if (ret == -1)
			return MTA_REPLY_ERROR;
		if (ret == 1)
			return MTA_REPLY_DONE;
	}
	return MTA_REPLY_MORE;
}

/* Compare the first word of line (up to space, '=' or end) to kw. */
static int
word_is(const char *line, size_t n, const char *kw, const char **rest)
{
	size_t	 k = strlen(kw);

	if (n < k || strncasecmp(line, kw, k) != 0)
		return 0;
	if (n > k && line[k] != ' ' && line[k] != '=')
		return 0;
	*rest = line + k + (n > k ? 1 : 0);
	return 1;
}

/* 1 if the blank/space separated list [p, end) holds word. */
static int
list_has(const char *p, const char *end, const char *word)
{
	size_t	 k = strlen(word), n;

	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		n = 0;
		while (p + n < end && p[n] != ' ' && p[n] != '\t')
			n++;
		if (n == k && strncasecmp(p, word, k) == 0)
			return 1;
		p += n;
	}
	return 0;
}

unsigned
mta_reply_ehlo(const struct mta_reply *r, uint64_t *maxsize)
{
	const char	*p, *end, *nl, *rest;
	unsigned	 ext = 0;
	size_t		 n;
	int		 first = 1;

	*maxsize = 0;
	if (r->lines.data == NULL)
		return 0;
	p = r->lines.data;
	end = p + r->lines.len;
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		n = (size_t)(nl - p);
		if (first) {		/* the greeting line names the host */
			first = 0;
			continue;
		}
		if (word_is(p, n, "STARTTLS", &rest))
			ext |= MTA_EXT_STARTTLS;
		else if (word_is(p, n, "8BITMIME", &rest))
			ext |= MTA_EXT_8BITMIME;
		else if (word_is(p, n, "SMTPUTF8", &rest))
			ext |= MTA_EXT_SMTPUTF8;
		else if (word_is(p, n, "DSN", &rest))
			ext |= MTA_EXT_DSN;
		else if (word_is(p, n, "PIPELINING", &rest))
			ext |= MTA_EXT_PIPELINING;
		else if (word_is(p, n, "ENHANCEDSTATUSCODES", &rest))
			ext |= MTA_EXT_ENHANCED;
		else if (word_is(p, n, "SIZE", &rest)) {
			uint64_t v = 0;
			ext |= MTA_EXT_SIZE;
			while (rest < nl && isdigit((unsigned char)*rest) &&
			    v < UINT64_MAX / 10 - 10)
				v = v * 10 + (uint64_t)(*rest++ - '0');
			*maxsize = v;
		} else if (word_is(p, n, "AUTH", &rest)) {
			ext |= MTA_EXT_AUTH;
			if (list_has(rest, nl, "PLAIN"))
				ext |= MTA_EXT_AUTH_PLAIN;
			if (list_has(rest, nl, "LOGIN"))
				ext |= MTA_EXT_AUTH_LOGIN;
		}
	}
	return ext;
}

int
mta_reply_has_status(const char *t)
{
	size_t	 i = 0, digits;

	if (t[0] < '2' || t[0] > '5' || t[1] != '.')
		return 0;
	for (i = 2, digits = 0; isdigit((unsigned char)t[i]) && digits < 3;
	    i++)
		digits++;
	if (digits == 0 || t[i] != '.')
		return 0;
	for (i++, digits = 0; isdigit((unsigned char)t[i]) && digits < 3;
	    i++)
		digits++;
	return digits > 0 && (t[i] == ' ' || t[i] == '\0');
}
