/*
 * Message body filter (smtp_data.h): one pass over the octets the client
 * sends after DATA or in BDAT chunks, handing the unstuffed message to a
 * callback in spans of the input (no copy).  Pure: no I/O, no globals.
 */
#include <string.h>
#include <strings.h>

#include "smtp_data.h"

void
smtp_data_emit_buf(void *arg, const char *p, size_t n)
{
	buf_add(arg, p, n);
}

void
smtp_data_init(struct smtp_data *d, int dot, uint64_t max_size,
    unsigned max_hops, const char *add_date, const char *add_msgid,
    smtp_data_emit_cb emit, void *emit_arg)
{
	memset(d, 0, sizeof(*d));
	d->emit = emit;
	d->emit_arg = emit_arg;
	d->dot = dot;
	d->max_size = max_size;
	d->max_hops = max_hops;
	d->add_date = add_date;
	d->add_msgid = add_msgid;
	d->bol = 1;
	d->prev_crlf = 1;	/* the DATA line ended in CRLF */
	d->in_headers = 1;
}

static void
seterr(struct smtp_data *d, int err)
{
	if (d->err == SMTP_DATA_OK)
		d->err = err;
}

static void
emit(struct smtp_data *d, const char *p, size_t n)
{
	if (n == 0 || d->err != SMTP_DATA_OK)
		return;
	if (d->max_size && n > d->max_size - d->size) {
		seterr(d, SMTP_DATA_ESIZE);
		return;
	}
	d->size += n;
	d->emit(d->emit_arg, p, n);
}

static void
add_missing(struct smtp_data *d)
{
	if (d->add_date && !d->has_date)
		emit(d, d->add_date, strlen(d->add_date));
	if (d->add_msgid && !d->has_msgid)
		emit(d, d->add_msgid, strlen(d->add_msgid));
	d->has_date = d->has_msgid = 1;
}

static void
header_line(struct smtp_data *d)
{
	if (d->hdrlen >= 9 && strncasecmp(d->hdr, "Received:", 9) == 0)
		d->received++;
	else if (d->hdrlen >= 5 && strncasecmp(d->hdr, "Date:", 5) == 0)
		d->has_date = 1;
	else if (d->hdrlen >= 11 &&
	    strncasecmp(d->hdr, "Message-ID:", 11) == 0)
		d->has_msgid = 1;
}

size_t
smtp_data_feed(struct smtp_data *d, const char *in, size_t len)
{
	size_t	 i, span = 0;
	int	 crlf;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (d->bol) {
			d->bol = 0;
			d->linelen = 0;
			d->dotfirst = 0;
			d->hdrlen = 0;
			if (d->dot && c == '.') {
				emit(d, in + span, i - span);
				span = i + 1;
				d->dotfirst = 1;
				d->linelen = 1;
				continue;
			}
		}
		if (++d->linelen > SMTP_DATA_LINE_MAX)
			seterr(d, SMTP_DATA_ELONG);
		if (d->hdrlen < sizeof(d->hdr))
			d->hdr[d->hdrlen++] = (char)c;
		if (c == '\0')
			seterr(d, SMTP_DATA_ENUL);
		if (d->cr && c != '\n') {
			/* a CR not followed by LF */
			if (d->dot)
				seterr(d, SMTP_DATA_EBARE);
			if ((size_t)d->linelen == 2 + (size_t)d->dotfirst)
				emit(d, "\r", 1);	/* was held */
		}
		if (c == '\r') {
			d->cr = 1;
			/*
			 * A CR first on the line (after a leading dot) is
			 * held back: it may belong to the end of data or to
			 * the blank line that ends the headers.
			 */
			if ((size_t)d->linelen == 1 + (size_t)d->dotfirst) {
				emit(d, in + span, i - span);
				span = i + 1;
			}
			continue;
		}
		if (c != '\n') {
			d->cr = 0;
			continue;
		}

		/* end of a line */
		crlf = d->cr;
		d->cr = 0;
		d->bol = 1;
		if (!crlf && d->dot)
			seterr(d, SMTP_DATA_EBARE);
		if (d->dot && d->dotfirst && d->linelen == 3 && crlf &&
		    d->prev_crlf) {
			emit(d, in + span, i - span);
			d->done = 1;
			return i + 1;
		}
		if (crlf && (size_t)d->linelen == 2 + (size_t)d->dotfirst) {
			/* the held CR: blank (or ".") line */
			emit(d, in + span, i - span);
			span = i;
			if (d->in_headers && !d->dotfirst) {
				add_missing(d);
				d->in_headers = 0;
			}
			emit(d, "\r", 1);
		} else if (d->in_headers) {
			if (d->linelen == 1)	/* bare LF blank line */
				d->in_headers = 0;
			else
				header_line(d);
		}
		d->prev_crlf = crlf;
	}
	emit(d, in + span, i - span);
	return len;
}

int
smtp_data_finish(struct smtp_data *d)
{
	if (d->in_headers && ((d->add_date && !d->has_date) ||
	    (d->add_msgid && !d->has_msgid))) {
		if (!d->bol)
			emit(d, "\r\n", 2);
		add_missing(d);
	}
	if (d->max_hops && d->received > d->max_hops)
		seterr(d, SMTP_DATA_ELOOP);
	return d->err;
}

const char *
smtp_data_strerror(int err)
{
	switch (err) {
	case SMTP_DATA_OK:
		return NULL;
	case SMTP_DATA_EBARE:
		return "550 5.6.0 Bare CR or LF in message refused";
	case SMTP_DATA_ENUL:
		return "550 5.6.0 NUL octet in message refused";
	case SMTP_DATA_ELONG:
		return "550 5.6.0 Line too long (RFC 5321 limit: 1000)";
	case SMTP_DATA_ESIZE:
		return "552 5.3.4 Message too big";
	case SMTP_DATA_ELOOP:
		return "554 5.4.6 Too many hops: mail loop detected";
	}
	return "451 4.3.0 Internal error";
}
