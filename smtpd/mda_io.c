/*
 * Bounded-buffer streaming for local delivery: the message is read with
 * pread from offset 0 (the fd's offset is shared with the queue) and
 * written through a 64 KiB buffer, so no delivery holds a whole message.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "io.h"
#include "mda_deliver.h"
#include "mda_io.h"

void
mda_reader_init(struct mda_reader *r, int fd)
{
	r->fd = fd;
	r->off = 0;
	r->pos = r->len = 0;
	r->eof = 0;
	r->bol = 1;
}

/* Move the unread bytes to the front and read more behind them. */
static int
reader_fill(struct mda_reader *r)
{
	ssize_t	 n;

	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	}
	while (r->len < sizeof r->buf) {
		n = pread(r->fd, r->buf + r->len, sizeof r->buf - r->len,
		    r->off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			r->eof = 1;
			break;
		}
		r->len += n;
		r->off += n;
		break;
	}
	return 0;
}

int
mda_reader_next(struct mda_reader *r, const char **p, size_t *n, int *bol,
    int *eol)
{
	char	*start, *nl;
	size_t	 avail, take;

	for (;;) {
		start = r->buf + r->pos;
		avail = r->len - r->pos;
		nl = avail ? memchr(start, '\n', avail) : NULL;
		if (nl != NULL || r->eof || avail == sizeof r->buf)
			break;
		if (reader_fill(r) == -1)
			return -1;
	}
	if (avail == 0)
		return 0;
	*p = start;
	*bol = r->bol;
	if (nl != NULL) {
		take = nl - start;
		r->pos += take + 1;
		if (take > 0 && start[take - 1] == '\r')
			take--;
		*n = take;
		*eol = 1;
		r->bol = 1;
		return 1;
	}
	/* No terminator in sight: a piece of a long line, or the end. */
	take = avail;
	if (!r->eof && start[take - 1] == '\r')
		take--;		/* it may be the CR of a CRLF */
	r->pos += take;
	*n = take;
	*eol = 0;
	r->bol = 0;
	return 1;
}

void
mda_writer_init(struct mda_writer *w, int fd, mda_flush_fn flush, void *arg)
{
	w->fd = fd;
	w->flush = flush;
	w->arg = arg;
	w->len = 0;
	w->error = 0;
}

static void
writer_drain(struct mda_writer *w)
{
	int	 r;

	if (w->len == 0 || w->error)
		return;
	if (w->flush)
		r = w->flush(w->arg, w->buf, w->len);
	else
		r = io_write_all(w->fd, w->buf, w->len);
	if (r == -1)
		w->error = errno ? errno : EIO;
	w->len = 0;
}

void
mda_writer_add(struct mda_writer *w, const void *data, size_t n)
{
	const char	*p = data;
	size_t		 room;

	while (n > 0 && !w->error) {
		room = sizeof w->buf - w->len;
		if (room == 0) {
			writer_drain(w);
			continue;
		}
		if (room > n)
			room = n;
		memcpy(w->buf + w->len, p, room);
		w->len += room;
		p += room;
		n -= room;
	}
}

int
mda_writer_flush(struct mda_writer *w)
{
	writer_drain(w);
	if (w->error) {
		errno = w->error;
		return -1;
	}
	return 0;
}

int
mda_alias_target(const struct envelope *e)
{
	if ((e->rcpt[0] == '|' || e->rcpt[0] == '/') &&
	    strcmp(e->rcpt, e->orig_rcpt) != 0)
		return e->rcpt[0];
	return 0;
}

const char *
mda_rcpt(const struct envelope *e)
{
	return mda_alias_target(e) ? e->orig_rcpt : e->rcpt;
}

/* Header values come from the envelope: keep them on one line. */
static void
add_header(struct mda_writer *w, const char *name, const char *open,
    const char *value, const char *close, const char *nl)
{
	const char	*s;

	mda_writer_add(w, name, strlen(name));
	mda_writer_add(w, open, strlen(open));
	for (s = value; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			mda_writer_add(w, "?", 1);
		else
			mda_writer_add(w, s, 1);
	}
	mda_writer_add(w, close, strlen(close));
	mda_writer_add(w, nl, strlen(nl));
}

int
mda_copy_message(int msgfd, struct mda_writer *w, const struct envelope *e,
    int flags, int *rerr)
{
	struct mda_reader	 r;
	const char		*nl = (flags & MDA_COPY_CRLF) ? "\r\n" : "\n";
	const char		*p;
	size_t			 n, i;
	int			 bol, eol, rv, pending_nl = 0;

	*rerr = 0;
	add_header(w, "Return-Path: ", "<", e->sender, ">", nl);
	add_header(w, "Delivered-To: ", "", mda_rcpt(e), "", nl);

	mda_reader_init(&r, msgfd);
	while ((rv = mda_reader_next(&r, &p, &n, &bol, &eol)) == 1) {
		if (bol && (flags & MDA_COPY_MBOXRD)) {
			for (i = 0; i < n && p[i] == '>'; i++)
				;
			if (n - i >= 5 && memcmp(p + i, "From ", 5) == 0)
				mda_writer_add(w, ">", 1);
		}
		if (bol && (flags & MDA_COPY_DOTSTUFF) && n > 0 && p[0] == '.')
			mda_writer_add(w, ".", 1);
		mda_writer_add(w, p, n);
		if (eol)
			mda_writer_add(w, nl, strlen(nl));
		pending_nl = !eol;
		if (w->error)
			break;
	}
	if (rv == -1) {
		*rerr = 1;
		return -1;
	}
	if (pending_nl)
		mda_writer_add(w, nl, strlen(nl));
	return mda_writer_flush(w);
}
