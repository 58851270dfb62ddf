/*
 * The imsg channel: length-framed, typed messages over a socketpair with
 * at most one fd per message (SCM_RIGHTS), non-blocking I/O on libevent
 * and an output queue.  Wire format and API contract: imsg.h.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "imsg.h"
#include "log.h"

enum m_tag {
	M_U32 = 1,
	M_U64,
	M_INT,
	M_STR,
	M_DATA
};

#define IMSG_F_FD	0x01
#define IMSG_READ_CHUNK	65536
#define IMSG_MAX_FDS	16	/* pending received fds before an error */

struct imsg_out {
	TAILQ_ENTRY(imsg_out) entry;
	uint8_t		*data;
	size_t		 len;
	size_t		 off;
	int		 fd;	/* sent with the first byte, then closed */
};
TAILQ_HEAD(imsg_outq, imsg_out);

struct imsgchan {
	int		 fd;		/* -1 once closed */
	char		*name;
	imsg_msg_cb	 on_msg;
	imsg_close_cb	 on_close;
	void		*arg;
	struct event	 rev;
	struct event	 wev;
	int		 wev_on;
	struct buf	 in;
	int		 fds[IMSG_MAX_FDS];	/* received, not yet claimed */
	size_t		 nfds;
	struct imsg_outq outq;
	size_t		 pending;
	int		 dispatching;	/* inside on_msg */
	int		 free_later;	/* imsgchan_free during on_msg */
};

struct mbuild {
	struct imsgchan	*chan;
	struct buf	 b;
	int		 fd;
};

static void	imsgchan_on_read(int, short, void *);
static void	imsgchan_on_write(int, short, void *);

long
imsg_frame_len(const uint8_t *p, size_t n)
{
	uint32_t	 len;

	if (n < IMSG_HDR_SIZE)
		return 0;
	memcpy(&len, p, sizeof len);
	if (len < IMSG_HDR_SIZE || len > IMSG_MAX_SIZE)
		return -1;
	if (n < len)
		return 0;
	return (long)len;
}

struct imsgchan *
imsgchan_new(int fd, const char *peername, imsg_msg_cb on_msg,
    imsg_close_cb on_close, void *arg)
{
	struct imsgchan	*c;
	int		 fl;

	if ((c = calloc(1, sizeof *c)) == NULL ||
	    (c->name = strdup(peername ? peername : "?")) == NULL)
		fatal("imsgchan_new");
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		fatal("imsgchan_new: fcntl");
	c->fd = fd;
	c->on_msg = on_msg;
	c->on_close = on_close;
	c->arg = arg;
	buf_init(&c->in);
	TAILQ_INIT(&c->outq);
	event_set(&c->rev, fd, EV_READ | EV_PERSIST, imsgchan_on_read, c);
	event_set(&c->wev, fd, EV_WRITE, imsgchan_on_write, c);
	event_add(&c->rev, NULL);
	return c;
}

const char *
imsgchan_name(struct imsgchan *c)
{
	return c->name;
}

size_t
imsgchan_pending(struct imsgchan *c)
{
	return c->pending;
}

/* Release the socket, queued output and unclaimed fds; no callback. */
static void
imsgchan_shut(struct imsgchan *c)
{
	struct imsg_out	*o;
	size_t		 i;

	if (c->fd == -1)
		return;
	event_del(&c->rev);
	if (c->wev_on)
		event_del(&c->wev);
	c->wev_on = 0;
	close(c->fd);
	c->fd = -1;
	while ((o = TAILQ_FIRST(&c->outq)) != NULL) {
		TAILQ_REMOVE(&c->outq, o, entry);
		if (o->fd != -1)
			close(o->fd);
		free(o->data);
		free(o);
	}
	c->pending = 0;
	for (i = 0; i < c->nfds; i++)
		close(c->fds[i]);
	c->nfds = 0;
	buf_reset(&c->in);
}

/* The peer is gone: close, then tell the owner once. */
static void
imsgchan_fail(struct imsgchan *c, const char *why)
{
	if (c->fd == -1)
		return;
	imsgchan_shut(c);
	if (c->on_close)
		c->on_close(c, why, c->arg);
}

void
imsgchan_free(struct imsgchan *c)
{
	if (c == NULL)
		return;
	if (c->dispatching) {
		imsgchan_shut(c);
		c->free_later = 1;
		return;
	}
	imsgchan_shut(c);
	buf_free(&c->in);
	free(c->name);
	free(c);
}

/* Read what is there, with any fds; 1 if data came, 0 EAGAIN, -1 gone. */
static int
imsgchan_recv(struct imsgchan *c)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * IMSG_MAX_FDS)];
	} cmsgbuf;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	ssize_t		 n;
	size_t		 i, nfd;
	int		*fdp, bad = 0;

	buf_reserve(&c->in, IMSG_READ_CHUNK);
	iov.iov_base = c->in.data + c->in.len;
	iov.iov_len = IMSG_READ_CHUNK;
	memset(&msg, 0, sizeof msg);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = sizeof cmsgbuf.buf;
	n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		log_debug("imsg peer=%s event=read-error error=\"%s\"",
		    c->name, strerror(errno));
		imsgchan_fail(c, "read error");
		return -1;
	}
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL;
	    cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		fdp = (int *)CMSG_DATA(cm);
		for (i = 0; i < nfd; i++) {
			if (c->nfds < IMSG_MAX_FDS)
				c->fds[c->nfds++] = fdp[i];
			else {
				close(fdp[i]);
				bad = 1;
			}
		}
	}
	if (bad || (msg.msg_flags & MSG_CTRUNC)) {
		imsgchan_fail(c, "bad frame");
		return -1;
	}
	if (n == 0) {
		imsgchan_fail(c, c->in.len ? "eof mid-message" : "eof");
		return -1;
	}
	c->in.len += (size_t)n;
	return 1;
}

/* Hand every complete message to the owner.  -1 if the channel went. */
static int
imsgchan_dispatch(struct imsgchan *c)
{
	struct imsg	 imsg;
	uint32_t	 hdr[4];
	long		 flen;
	size_t		 off = 0;

	while (c->fd != -1) {
		flen = imsg_frame_len((uint8_t *)c->in.data + off,
		    c->in.len - off);
		if (flen == 0)
			break;
		if (flen == -1) {
			imsgchan_fail(c, "bad frame");
			return -1;
		}
		memcpy(hdr, c->in.data + off, sizeof hdr);
		if ((hdr[3] & ~IMSG_F_FD) != 0) {
			imsgchan_fail(c, "bad frame");
			return -1;
		}
		imsg.type = hdr[1];
		imsg.peerid = hdr[2];
		imsg.fd = -1;
		if (hdr[3] & IMSG_F_FD) {
			/* The fd travels with the first byte: it is here. */
			if (c->nfds == 0) {
				imsgchan_fail(c, "bad frame");
				return -1;
			}
			imsg.fd = c->fds[0];
			memmove(c->fds, c->fds + 1,
			    --c->nfds * sizeof c->fds[0]);
		}
		imsg.data = (uint8_t *)c->in.data + off + IMSG_HDR_SIZE;
		imsg.len = (size_t)flen - IMSG_HDR_SIZE;
		off += (size_t)flen;
		c->dispatching = 1;
		c->on_msg(c, &imsg, c->arg);
		c->dispatching = 0;
		if (imsg.fd != -1)
			close(imsg.fd);
		if (c->free_later) {
			c->free_later = 0;
			imsgchan_free(c);
			return -1;
		}
	}
	if (c->fd == -1)
		return -1;
	buf_consume(&c->in, off);
	return 0;
}

static void
imsgchan_on_read(int fd, short ev, void *arg)
{
	struct imsgchan	*c = arg;

	(void)fd;
	(void)ev;
	if (imsgchan_recv(c) <= 0)
		return;
	imsgchan_dispatch(c);
}

/* Write queued messages; 0 when all or EAGAIN, -1 if the channel died. */
static int
imsgchan_send(struct imsgchan *c)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct imsg_out	*o;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	ssize_t		 n;

	while ((o = TAILQ_FIRST(&c->outq)) != NULL) {
		memset(&msg, 0, sizeof msg);
		iov.iov_base = o->data + o->off;
		iov.iov_len = o->len - o->off;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		if (o->fd != -1) {
			memset(&cmsgbuf, 0, sizeof cmsgbuf);
			msg.msg_control = cmsgbuf.buf;
			msg.msg_controllen = sizeof cmsgbuf.buf;
			cm = CMSG_FIRSTHDR(&msg);
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			memcpy(CMSG_DATA(cm), &o->fd, sizeof(int));
		}
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return 0;
			log_debug("imsg peer=%s event=write-error "
			    "error=\"%s\"", c->name, strerror(errno));
			imsgchan_fail(c, errno == EPIPE ? "epipe" :
			    "write error");
			return -1;
		}
		if (o->fd != -1) {
			close(o->fd);
			o->fd = -1;
		}
		o->off += (size_t)n;
		c->pending -= (size_t)n;
		if (o->off < o->len)
			continue;
		TAILQ_REMOVE(&c->outq, o, entry);
		free(o->data);
		free(o);
	}
	return 0;
}

static void
imsgchan_want_write(struct imsgchan *c)
{
	if (c->fd == -1 || c->wev_on || TAILQ_EMPTY(&c->outq))
		return;
	event_add(&c->wev, NULL);
	c->wev_on = 1;
}

static void
imsgchan_on_write(int fd, short ev, void *arg)
{
	struct imsgchan	*c = arg;

	(void)fd;
	(void)ev;
	c->wev_on = 0;
	if (imsgchan_send(c) == -1)
		return;
	imsgchan_want_write(c);
}

void
imsgchan_flush(struct imsgchan *c)
{
	struct pollfd	 pfd;

	while (c->fd != -1 && !TAILQ_EMPTY(&c->outq)) {
		if (imsgchan_send(c) == -1)
			return;
		if (TAILQ_EMPTY(&c->outq))
			break;
		pfd.fd = c->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 1000) == -1 && errno != EINTR) {
			imsgchan_fail(c, "write error");
			return;
		}
	}
}

struct mbuild *
m_create(struct imsgchan *c, uint32_t type, uint32_t peerid, int fd)
{
	struct mbuild	*m;
	uint32_t	 hdr[4];

	if (c == NULL)
		fatalx("m_create: no channel for imsg %u", type);
	if ((m = calloc(1, sizeof *m)) == NULL)
		fatal("m_create");
	m->chan = c;
	m->fd = fd;
	buf_init(&m->b);
	hdr[0] = 0;
	hdr[1] = type;
	hdr[2] = peerid;
	hdr[3] = fd != -1 ? IMSG_F_FD : 0;
	buf_add(&m->b, hdr, sizeof hdr);
	return m;
}

static void
m_add_field(struct mbuild *m, uint8_t tag, const void *p, size_t len)
{
	if (len > IMSG_MAX_SIZE || m->b.len + 1 + len > IMSG_MAX_SIZE)
		fatalx("imsg: message %u to %s larger than %d bytes",
		    ((uint32_t *)(void *)m->b.data)[1], m->chan->name,
		    IMSG_MAX_SIZE);
	buf_add(&m->b, &tag, 1);
	buf_add(&m->b, p, len);
}

void
m_add_u32(struct mbuild *m, uint32_t v)
{
	m_add_field(m, M_U32, &v, sizeof v);
}

void
m_add_u64(struct mbuild *m, uint64_t v)
{
	m_add_field(m, M_U64, &v, sizeof v);
}

void
m_add_int(struct mbuild *m, int64_t v)
{
	m_add_field(m, M_INT, &v, sizeof v);
}

/* Strings and data: tag, u32 length, bytes (and a NUL for strings). */
static void
m_add_bytes(struct mbuild *m, uint8_t tag, const void *p, size_t len,
    int nul)
{
	uint32_t	 n;
	size_t		 need;

	need = 1 + sizeof n + len + (nul ? 1 : 0);
	if (len > IMSG_MAX_SIZE || m->b.len + need > IMSG_MAX_SIZE)
		fatalx("imsg: message %u to %s larger than %d bytes",
		    ((uint32_t *)(void *)m->b.data)[1], m->chan->name,
		    IMSG_MAX_SIZE);
	n = (uint32_t)len;
	buf_add(&m->b, &tag, 1);
	buf_add(&m->b, &n, sizeof n);
	buf_add(&m->b, p, len);
	if (nul)
		buf_addc(&m->b, '\0');
}

void
m_add_str(struct mbuild *m, const char *s)
{
	if (s == NULL)
		s = "";
	m_add_bytes(m, M_STR, s, strlen(s), 1);
}

void
m_add_data(struct mbuild *m, const void *p, size_t len)
{
	m_add_bytes(m, M_DATA, p, len, 0);
}

void
m_close(struct mbuild *m)
{
	struct imsgchan	*c = m->chan;
	struct imsg_out	*o;
	uint32_t	 len = (uint32_t)m->b.len;

	memcpy(m->b.data, &len, sizeof len);
	if (c->fd == -1) {
		/* The peer is gone and the owner was told; drop it. */
		if (m->fd != -1)
			close(m->fd);
		buf_free(&m->b);
		free(m);
		return;
	}
	if ((o = calloc(1, sizeof *o)) == NULL)
		fatal("m_close");
	o->data = (uint8_t *)m->b.data;	/* the buffer moves to the queue */
	o->len = m->b.len;
	o->fd = m->fd;
	TAILQ_INSERT_TAIL(&c->outq, o, entry);
	c->pending += o->len;
	free(m);
	imsgchan_want_write(c);
}

void
m_compose(struct imsgchan *c, uint32_t type, uint32_t peerid, int fd)
{
	m_close(m_create(c, type, peerid, fd));
}

void
m_msg(struct mreader *r, const struct imsg *imsg)
{
	r->p = imsg->data;
	r->left = imsg->len;
	r->error = 0;
}

/* Take a fixed-size field of the given tag. */
static int
m_get_fixed(struct mreader *r, uint8_t tag, void *dst, size_t len)
{
	if (r->error || r->left < 1 + len || r->p[0] != tag) {
		r->error = 1;
		return -1;
	}
	memcpy(dst, r->p + 1, len);
	r->p += 1 + len;
	r->left -= 1 + len;
	return 0;
}

int
m_get_u32(struct mreader *r, uint32_t *v)
{
	return m_get_fixed(r, M_U32, v, sizeof *v);
}

int
m_get_u64(struct mreader *r, uint64_t *v)
{
	return m_get_fixed(r, M_U64, v, sizeof *v);
}

int
m_get_int(struct mreader *r, int64_t *v)
{
	return m_get_fixed(r, M_INT, v, sizeof *v);
}

/* Take a length-prefixed field; extra is 1 for the string's NUL. */
static int
m_get_bytes(struct mreader *r, uint8_t tag, const uint8_t **p, size_t *len,
    size_t extra)
{
	uint32_t	 n;

	if (r->error || r->left < 1 + sizeof n || r->p[0] != tag)
		goto bad;
	memcpy(&n, r->p + 1, sizeof n);
	if (n > r->left - 1 - sizeof n ||
	    extra > r->left - 1 - sizeof n - n)
		goto bad;
	*p = r->p + 1 + sizeof n;
	*len = n;
	r->p += 1 + sizeof n + n + extra;
	r->left -= 1 + sizeof n + n + extra;
	return 0;
bad:
	r->error = 1;
	return -1;
}

int
m_get_str(struct mreader *r, const char **s)
{
	const uint8_t	*p;
	size_t		 n;

	if (m_get_bytes(r, M_STR, &p, &n, 1) == -1)
		return -1;
	if (p[n] != '\0' || memchr(p, '\0', n) != NULL) {
		r->error = 1;
		return -1;
	}
	*s = (const char *)p;
	return 0;
}

int
m_get_data(struct mreader *r, const void **data, size_t *len)
{
	const uint8_t	*p;

	if (m_get_bytes(r, M_DATA, &p, len, 0) == -1)
		return -1;
	*data = p;
	return 0;
}

int
m_end(struct mreader *r)
{
	if (r->error || r->left != 0) {
		r->error = 1;
		return -1;
	}
	return 0;
}
