/*
 * LMTP delivery (RFC 2033) over a unix socket or TCP: LHLO, MAIL, RCPT,
 * DATA with the message dot-stuffed in CRLF lines; the reply given for
 * our one recipient after the final dot is the result.  Every socket
 * operation is bounded by the delivery time limit.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "io.h"
#include "mda_deliver.h"
#include "mda_io.h"

#define LMTP_LINE_MAX	1000	/* RFC 5321 reply line limit, with slack */

struct lmtp {
	int	 fd;
	char	 in[4096];
	size_t	 inlen;
	char	 reply[LMTP_LINE_MAX + 1];	/* last line of a reply */
	int	 code;
};

static void
set_timeouts(int fd, time_t timeout)
{
	struct timeval	 tv;

	tv.tv_sec = timeout;
	tv.tv_usec = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* Connect to "/path", "host:port" or "[v6]:port"; -1 with err set. */
static int
lmtp_connect(const char *dest, time_t timeout, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	struct addrinfo		 hints, *res, *ai;
	char			 host[256];
	const char		*port, *colon;
	size_t			 hlen;
	int			 fd = -1, r, saved = 0;

	if (dest[0] == '/') {
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		if (strlen(dest) >= sizeof sun.sun_path) {
			snprintf(err, errlen, "socket path too long");
			return -1;
		}
		strcpy(sun.sun_path, dest);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
		    -1) {
			snprintf(err, errlen, "socket: %s", strerror(errno));
			return -1;
		}
		set_timeouts(fd, timeout);
		if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
			snprintf(err, errlen, "connect %s: %s", dest,
			    strerror(errno));
			close(fd);
			return -1;
		}
		return fd;
	}

	if (dest[0] == '[') {
		colon = strchr(dest, ']');
		if (colon == NULL || colon[1] != ':') {
			snprintf(err, errlen, "bad lmtp destination");
			return -1;
		}
		hlen = colon - dest - 1;
		port = colon + 2;
		dest++;
	} else {
		colon = strrchr(dest, ':');
		if (colon == NULL) {
			snprintf(err, errlen, "lmtp destination needs a port");
			return -1;
		}
		hlen = colon - dest;
		port = colon + 1;
	}
	if (hlen == 0 || hlen >= sizeof host || *port == '\0') {
		snprintf(err, errlen, "bad lmtp destination");
		return -1;
	}
	memcpy(host, dest, hlen);
	host[hlen] = '\0';

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			saved = errno;
			continue;
		}
		set_timeouts(fd, timeout);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		snprintf(err, errlen, "connect %s:%s: %s", host, port,
		    strerror(saved));
	return fd;
}

/* One reply (multi-line joined by taking the last line); the code in
 * l->code, 0 on garbage; -1 on I/O error or EOF. */
static int
lmtp_reply(struct lmtp *l)
{
	char	*nl;
	size_t	 n;
	ssize_t	 r;

	for (;;) {
		nl = memchr(l->in, '\n', l->inlen);
		if (nl == NULL) {
			if (l->inlen == sizeof l->in) {
				l->code = 0;	/* a line too long */
				snprintf(l->reply, sizeof l->reply,
				    "reply line too long");
				return -1;
			}
			r = read(l->fd, l->in + l->inlen,
			    sizeof l->in - l->inlen);
			if (r == -1 && errno == EINTR)
				continue;
			if (r <= 0) {
				snprintf(l->reply, sizeof l->reply, "%s",
				    r == 0 ? "connection closed" :
				    strerror(errno));
				return -1;
			}
			l->inlen += r;
			continue;
		}
		n = nl - l->in;
		if (n > 0 && l->in[n - 1] == '\r')
			n--;
		mda_diag_escape(l->reply, sizeof l->reply, l->in, n,
		    LMTP_LINE_MAX);
		memmove(l->in, nl + 1, l->inlen - (nl + 1 - l->in));
		l->inlen -= nl + 1 - l->in;
		if (n < 3 || !isdigit((unsigned char)l->reply[0]) ||
		    !isdigit((unsigned char)l->reply[1]) ||
		    !isdigit((unsigned char)l->reply[2]) ||
		    (n > 3 && l->reply[3] != ' ' && l->reply[3] != '-')) {
			l->code = 0;
			return 0;
		}
		if (n > 3 && l->reply[3] == '-')
			continue;
		l->code = (l->reply[0] - '0') * 100 +
		    (l->reply[1] - '0') * 10 + (l->reply[2] - '0');
		return 0;
	}
}

/* Send verb, arg, tail and CRLF. */
static int
lmtp_cmd(struct lmtp *l, const char *verb, const char *arg,
    const char *tail)
{
	char	 line[ADDR_MAX + 300];
	int	 n;

	if (strpbrk(arg, "\r\n") != NULL) {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(line, sizeof line, "%s%s%s\r\n", verb, arg, tail);
	if (n < 0 || (size_t)n >= sizeof line) {
		errno = EMSGSIZE;
		return -1;
	}
	return io_write_all(l->fd, line, n);
}

/* Does reply start with "ddd d.d.d"? */
static int
has_enhanced(const char *s)
{
	return strlen(s) > 9 && s[3] == ' ' && isdigit((unsigned char)s[4]) &&
	    s[5] == '.';
}

/* The result for reply line l->reply, class by its code. */
static enum mda_result
lmtp_result(struct lmtp *l, const char *dest, const char *stage, char *err,
    size_t errlen)
{
	int	 cls = l->code / 100;

	if (cls == 2 && strcmp(stage, "DATA") == 0) {
		snprintf(err, errlen, "250 2.0.0 delivered via lmtp %s: %s",
		    dest, l->reply);
		return MDA_OK;
	}
	if (cls == 5) {
		if (has_enhanced(l->reply))
			snprintf(err, errlen, "%s (lmtp %s after %s)",
			    l->reply, dest, stage);
		else
			snprintf(err, errlen, "550 5.0.0 lmtp %s after %s: %s",
			    dest, stage, l->reply);
		return MDA_PERMFAIL;
	}
	if (cls == 4 && has_enhanced(l->reply))
		snprintf(err, errlen, "%s (lmtp %s after %s)", l->reply,
		    dest, stage);
	else
		snprintf(err, errlen, "451 4.4.0 lmtp %s after %s: %s",
		    dest, stage, l->reply);
	return MDA_TEMPFAIL;
}

enum mda_result
mda_lmtp_deliver(int msgfd, const char *dest, const char *lhlo,
    const struct envelope *e, time_t timeout, char *err, size_t errlen)
{
	struct lmtp		 l;
	struct mda_writer	 w;
	char			 xerr[768];
	enum mda_result		 res;
	int			 rerr;

	if (timeout <= 0)
		timeout = MDA_TIMEOUT_DEFAULT;
	memset(&l, 0, sizeof l);
	if ((l.fd = lmtp_connect(dest, timeout, xerr, sizeof xerr)) == -1) {
		snprintf(err, errlen, "451 4.4.1 lmtp %s", xerr);
		return MDA_TEMPFAIL;
	}
#define STEP(stage, want, verb, arg, tail) do {			\
	if ((verb) != NULL && lmtp_cmd(&l, (verb), (arg), (tail)) == -1) { \
		snprintf(err, errlen, "451 4.4.2 lmtp %s: %s: %s",	\
		    dest, stage, strerror(errno));			\
		res = MDA_TEMPFAIL;					\
		goto out;						\
	}								\
	if (lmtp_reply(&l) == -1)					\
		l.code = 0;						\
	if (l.code != (want)) {						\
		res = lmtp_result(&l, dest, stage, err, errlen);	\
		goto out;						\
	}								\
} while (0)
	STEP("greeting", 220, NULL, NULL, NULL);
	STEP("LHLO", 250, "LHLO ", lhlo, "");
	STEP("MAIL", 250, "MAIL FROM:<", e->sender, ">");
	STEP("RCPT", 250, "RCPT TO:<", e->rcpt, ">");
	STEP("DATA command", 354, "DATA", "", "");
#undef STEP

	mda_writer_init(&w, l.fd, NULL, NULL);
	if (mda_copy_message(msgfd, &w, e,
	    MDA_COPY_CRLF | MDA_COPY_DOTSTUFF, &rerr) == -1 ||
	    io_write_all(l.fd, ".\r\n", 3) == -1) {
		snprintf(err, errlen, "%s: %s", rerr ?
		    "451 4.3.0 reading the queued message" :
		    "451 4.4.2 lmtp write", strerror(errno));
		res = MDA_TEMPFAIL;
		goto out;
	}
	if (lmtp_reply(&l) == -1)
		l.code = 0;
	res = lmtp_result(&l, dest, "DATA", err, errlen);
	if (res == MDA_OK && lmtp_cmd(&l, "QUIT", "", "") == 0)
		(void)lmtp_reply(&l);
out:
	close(l.fd);
	return res;
}
