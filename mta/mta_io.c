/*
 * Outbound connection I/O: non-blocking connect with an optional source
 * address, TCP_NODELAY, a TLS handshake driven by libevent, buffered
 * reads and writes.  Callbacks are the last thing an event handler does,
 * so the owner may close and free everything from inside them.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <tls.h>
#include <unistd.h>

#include "log.h"
#include "mta_io.h"

#define IO_READ_CHUNK	16384

static void	io_on_event(int, short, void *);

void
mta_io_init(struct mta_io *io, void (*cb)(struct mta_io *,
    enum mta_io_event, void *), void *arg)
{
	memset(io, 0, sizeof(*io));
	io->fd = -1;
	io->cb = cb;
	io->arg = arg;
	buf_init(&io->in);
	buf_init(&io->out);
}

static int
sa_fill(const char *addr, unsigned port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

static void
io_arm(struct mta_io *io)
{
	short	 ev = 0;

	if (io->ev_set) {
		event_del(&io->ev);
		io->ev_set = 0;
	}
	switch (io->state) {
	case MTA_IO_CONNECTING:
		ev = EV_WRITE;
		break;
	case MTA_IO_HANDSHAKE:
		ev = (short)(io->tls_want ? io->tls_want : EV_READ);
		break;
	case MTA_IO_UP:
		ev = EV_READ;
		if (io->out.len > 0 || (io->tls_want & EV_WRITE) ||
		    io->notify_drain)
			ev |= EV_WRITE;
		break;
	default:
		return;
	}
	event_set(&io->ev, io->fd, ev, io_on_event, io);
	event_add(&io->ev, NULL);
	io->ev_set = 1;
}

int
mta_io_connect(struct mta_io *io, const char *addr, unsigned port,
    const char *src, char *err, size_t errlen)
{
	struct sockaddr_storage	 ss, sss;
	socklen_t		 len, slen;
	int			 one = 1;

	if (sa_fill(addr, port, &ss, &len) == -1) {
		snprintf(err, errlen, "bad address %s", addr);
		return -1;
	}
	if ((io->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	(void)setsockopt(io->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (src != NULL && src[0] != '\0') {
		if (sa_fill(src, 0, &sss, &slen) == -1 ||
		    sss.ss_family != ss.ss_family) {
			snprintf(err, errlen, "bind %s: address family "
			    "mismatch", src);
			goto fail;
		}
		if (bind(io->fd, (struct sockaddr *)&sss, slen) == -1) {
			snprintf(err, errlen, "bind %s: %s", src,
			    strerror(errno));
			goto fail;
		}
	}
	if (connect(io->fd, (struct sockaddr *)&ss, len) == -1 &&
	    errno != EINPROGRESS) {
		snprintf(err, errlen, "connect: %s", strerror(errno));
		goto fail;
	}
	io->state = MTA_IO_CONNECTING;
	io_arm(io);
	return 0;
fail:
	close(io->fd);
	io->fd = -1;
	return -1;
}

int
mta_io_starttls(struct mta_io *io, struct tls *ctx, const char *name)
{
	io->tls = ctx;
	if (tls_connect_socket(ctx, io->fd, name) == -1) {
		snprintf(io->error, sizeof(io->error), "TLS: %s",
		    tls_error(ctx));
		return -1;
	}
	io->state = MTA_IO_HANDSHAKE;
	io->tls_want = EV_WRITE;
	io_arm(io);
	return 0;
}

void
mta_io_add(struct mta_io *io, const void *p, size_t n)
{
	buf_add(&io->out, p, n);
}

void
mta_io_printf(struct mta_io *io, const char *fmt, ...)
{
	va_list	 ap;
	char	 line[2048];
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		fatalx("mta_io_printf: line too long");
	buf_add(&io->out, line, (size_t)n);
}

/* Write what we can.  -1 on a fatal error (io->error set). */
static int
io_write(struct mta_io *io)
{
	ssize_t	 n;

	io->tls_want &= ~EV_READ;
	while (io->out.len > 0) {
		if (io->tls) {
			n = tls_write(io->tls, io->out.data, io->out.len);
			if (n == TLS_WANT_POLLIN) {
				io->tls_want |= EV_READ;
				return 0;
			}
			if (n == TLS_WANT_POLLOUT)
				return 0;
			if (n < 0) {
				snprintf(io->error, sizeof(io->error),
				    "TLS write: %s", tls_error(io->tls));
				return -1;
			}
		} else {
			n = write(io->fd, io->out.data, io->out.len);
			if (n == -1) {
				if (errno == EAGAIN || errno == EINTR)
					return 0;
				snprintf(io->error, sizeof(io->error),
				    "write: %s", strerror(errno));
				return -1;
			}
		}
		buf_consume(&io->out, (size_t)n);
	}
	return 0;
}

void
mta_io_flush(struct mta_io *io)
{
	if (io->state != MTA_IO_UP)
		return;
	if (io_write(io) == -1) {
		/* reported on the next event */
		io->tls_want |= EV_WRITE;
	}
	io_arm(io);
}

void
mta_io_want_drain(struct mta_io *io, size_t lowat)
{
	io->lowat = lowat;
	io->notify_drain = 1;
	io_arm(io);
}

/* Read what is there.  1 data read, 0 nothing, -1 error, -2 closed. */
static int
io_read(struct mta_io *io)
{
	ssize_t	 n;
	int	 got = 0;

	io->tls_want &= ~EV_WRITE;
	for (;;) {
		buf_reserve(&io->in, IO_READ_CHUNK);
		if (io->tls) {
			n = tls_read(io->tls, io->in.data + io->in.len,
			    IO_READ_CHUNK);
			if (n == TLS_WANT_POLLIN)
				return got;
			if (n == TLS_WANT_POLLOUT) {
				io->tls_want |= EV_WRITE;
				return got;
			}
			if (n < 0) {
				snprintf(io->error, sizeof(io->error),
				    "TLS read: %s", tls_error(io->tls));
				return -1;
			}
		} else {
			n = read(io->fd, io->in.data + io->in.len,
			    IO_READ_CHUNK);
			if (n == -1) {
				if (errno == EAGAIN || errno == EINTR)
					return got;
				snprintf(io->error, sizeof(io->error),
				    "read: %s", strerror(errno));
				return -1;
			}
		}
		if (n == 0)
			return got ? 1 : -2;
		io->in.len += (size_t)n;
		io->in.data[io->in.len] = '\0';
		got = 1;
		if (io->in.len > 256 * 1024)
			return 1;	/* let the owner look at it */
	}
}

static void
io_on_event(int fd, short ev, void *arg)
{
	struct mta_io	*io = arg;
	int		 r, soerr = 0;
	socklen_t	 len = sizeof(soerr);

	(void)fd;
	(void)ev;
	io->ev_set = 0;
	switch (io->state) {
	case MTA_IO_CONNECTING:
		if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &soerr, &len)
		    == -1)
			soerr = errno;
		if (soerr != 0) {
			snprintf(io->error, sizeof(io->error), "connect: %s",
			    strerror(soerr));
			io->state = MTA_IO_DEAD;
			io->cb(io, MTA_IO_ERROR, io->arg);
			return;
		}
		io->state = MTA_IO_UP;
		io_arm(io);
		io->cb(io, MTA_IO_CONNECTED, io->arg);
		return;
	case MTA_IO_HANDSHAKE:
		r = tls_handshake(io->tls);
		if (r == TLS_WANT_POLLIN || r == TLS_WANT_POLLOUT) {
			io->tls_want = r == TLS_WANT_POLLIN ? EV_READ :
			    EV_WRITE;
			io_arm(io);
			return;
		}
		if (r == -1) {
			snprintf(io->error, sizeof(io->error),
			    "TLS handshake: %s", tls_error(io->tls));
			io->state = MTA_IO_DEAD;
			io->cb(io, MTA_IO_ERROR, io->arg);
			return;
		}
		io->tls_want = 0;
		io->state = MTA_IO_UP;
		io_arm(io);
		io->cb(io, MTA_IO_TLS_READY, io->arg);
		return;
	case MTA_IO_UP:
		if (io->out.len > 0 && io_write(io) == -1) {
			io->state = MTA_IO_DEAD;
			io->cb(io, MTA_IO_ERROR, io->arg);
			return;
		}
		r = io_read(io);
		if (r == -1) {
			io->state = MTA_IO_DEAD;
			io->cb(io, MTA_IO_ERROR, io->arg);
			return;
		}
		if (r == -2) {
			snprintf(io->error, sizeof(io->error),
			    "connection closed by peer");
			io->state = MTA_IO_DEAD;
			io->cb(io, MTA_IO_CLOSED, io->arg);
			return;
		}
		io_arm(io);
		if (r == 1) {
			io->cb(io, MTA_IO_DATA, io->arg);
			return;
		}
		if (io->notify_drain && io->out.len <= io->lowat) {
			io->notify_drain = 0;
			io->cb(io, MTA_IO_DRAINED, io->arg);
		}
		return;
	default:
		return;
	}
}

void
mta_io_close(struct mta_io *io)
{
	if (io->ev_set) {
		event_del(&io->ev);
		io->ev_set = 0;
	}
	if (io->tls) {
		if (io->state == MTA_IO_UP)
			(void)tls_close(io->tls);	/* best effort */
		tls_free(io->tls);
		io->tls = NULL;
	}
	if (io->fd != -1)
		close(io->fd);
	io->fd = -1;
	io->state = MTA_IO_DEAD;
	buf_free(&io->in);
	buf_free(&io->out);
}

const char *
mta_io_tls_version(struct mta_io *io)
{
	const char	*v;

	if (io->tls == NULL || io->state != MTA_IO_UP)
		return NULL;
	v = tls_conn_version(io->tls);
	return v ? v : "TLS";
}
