/*
 * loadgen: SMTP load generator for `make bench`.  N concurrent sessions
 * (one thread each, blocking I/O with timeouts) share M messages of S
 * bytes, each with a unique Message-ID; optional PIPELINING and STARTTLS.
 * Reports accepted messages per second, latency p50/p99 (MAIL to the
 * final 250) and errors by reply code, as key=value lines.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tls.h>

static struct {
	const char	*host, *port, *from, *to, *ca;
	char		*to_pre, *to_suf;	/* --to split at its %ld */
	int		 sessions, per_conn, rcpts, pipelining, starttls;
	int		 noverify, timeout, quiet, retry_for;
	long		 messages, size;
	const char	*banner;	/* the greeting must contain it */
	FILE		*acclog;	/* Message-ID of each accepted message */
} cf;

static pthread_mutex_t	 mtx = PTHREAD_MUTEX_INITIALIZER;
static long		 next_msg;	/* next message index to take */
static long		 accepted, failed;
static long		 errcode[600];	/* refusals by reply code */
static long		 ioerr, connerr;
static double		*lat;		/* latency per accepted message, ms */
static long		 nlat;
static char		*body;		/* shared body, CRLF lines */
static size_t		 bodylen;
static struct tls_config *tlscfg;

struct lg_conn {
	int		 fd;
	struct tls	*tls;
	char		 buf[65536];
	size_t		 len;
	int		 pipelining;
	char		 first[512];	/* first line of the last reply */
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void
usage(void)
{
	fprintf(stderr, "usage: loadgen [-h host] -p port [-c sessions] "
	    "[-n messages] [-s size]\n"
	    "\t[-k msgs-per-connection] [-r rcpts] [-P] [-T] [--ca file] "
	    "[--no-verify]\n"
	    "\t[--from addr] [--to addr-with-%%ld] [-t timeout] [-q]\n"
	    "\t[--banner text] [--accepted-log file] [--retry-for sec]\n");
	exit(2);
}

static int
lg_write(struct lg_conn *c, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if (c->tls) {
			n = tls_write(c->tls, p, len);
			if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT)
				continue;
		} else
			n = write(c->fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/*
 * Read a full reply (all continuation lines).  Notes PIPELINING in an
 * EHLO reply.
 */
static int
lg_read(struct lg_conn *c)
{
	char *nl;
	ssize_t n;
	size_t l;
	int code = -1, last = 0;

	while (!last) {
		while ((nl = memchr(c->buf, '\n', c->len)) == NULL) {
			if (c->len == sizeof(c->buf))
				return -1;
			if (c->tls) {
				n = tls_read(c->tls, c->buf + c->len,
				    sizeof(c->buf) - c->len);
				if (n == TLS_WANT_POLLIN ||
				    n == TLS_WANT_POLLOUT)
					continue;
			} else
				n = read(c->fd, c->buf + c->len,
				    sizeof(c->buf) - c->len);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0)
				return -1;
			c->len += n;
		}
		l = nl - c->buf + 1;
		if (code == -1)
			snprintf(c->first, sizeof(c->first), "%.*s",
			    (int)(l < sizeof(c->first) ? l : sizeof(c->first) - 1),
			    c->buf);
		if (l < 5 || c->buf[0] < '2' || c->buf[0] > '5' ||
		    c->buf[1] < '0' || c->buf[1] > '9' ||
		    c->buf[2] < '0' || c->buf[2] > '9')
			return -1;
		code = (c->buf[0] - '0') * 100 + (c->buf[1] - '0') * 10 +
		    (c->buf[2] - '0');
		last = c->buf[3] != '-';
		if (l >= 14 && strncasecmp(c->buf + 4, "PIPELINING", 10) == 0)
			c->pipelining = 1;
		memmove(c->buf, c->buf + l, c->len - l);
		c->len -= l;
	}
	return code;
}

static int
lg_cmd(struct lg_conn *c, const char *line)
{
	if (lg_write(c, line, strlen(line)) == -1)
		return -1;
	return lg_read(c);
}

static void
lg_close(struct lg_conn *c)
{
	if (c->tls) {
		(void)tls_close(c->tls);
		tls_free(c->tls);
		c->tls = NULL;
	}
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->len = 0;
}

static void
count_err(int code)
{
	pthread_mutex_lock(&mtx);
	if (code >= 200 && code < 600)
		errcode[code]++;
	else
		ioerr++;
	pthread_mutex_unlock(&mtx);
}

/* Connect, greeting, EHLO, optional STARTTLS.  0 or -1. */
static int
lg_open(struct lg_conn *c)
{
	struct addrinfo hints, *res;
	struct timeval tv = { cf.timeout, 0 };
	int on = 1, r;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(cf.host, cf.port, &hints, &res) != 0)
		return -1;
	c->fd = socket(res->ai_family, SOCK_STREAM, 0);
	if (c->fd == -1 || connect(c->fd, res->ai_addr, res->ai_addrlen) == -1) {
		freeaddrinfo(res);
		lg_close(c);
		return -1;
	}
	freeaddrinfo(res);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if ((r = lg_read(c)) != 220)
		goto fail;
	if (cf.banner && strstr(c->first, cf.banner) == NULL) {
		r = -1;
		goto fail;
	}
	if ((r = lg_cmd(c, "EHLO loadgen.test\r\n")) != 250)
		goto fail;
	if (cf.starttls) {
		if ((r = lg_cmd(c, "STARTTLS\r\n")) != 220)
			goto fail;
		if ((c->tls = tls_client()) == NULL ||
		    tls_configure(c->tls, tlscfg) == -1 ||
		    tls_connect_socket(c->tls, c->fd, cf.host) == -1)
			goto fail;
		while ((r = tls_handshake(c->tls)) == TLS_WANT_POLLIN ||
		    r == TLS_WANT_POLLOUT)
			;
		if (r == -1) {
			r = -1;
			goto fail;
		}
		c->pipelining = 0;
		if ((r = lg_cmd(c, "EHLO loadgen.test\r\n")) != 250)
			goto fail;
	}
	c->pipelining = c->pipelining && cf.pipelining;
	return 0;
fail:
	count_err(r);
	lg_close(c);
	return -1;
}

/* The Nth recipient address: --to with its %ld, or --to as it is. */
static void
rcpt_addr(char *to, size_t sz, long n)
{
	if (cf.to_suf == NULL)
		snprintf(to, sz, "%s", cf.to_pre);
	else
		snprintf(to, sz, "%s%ld%s", cf.to_pre, n, cf.to_suf);
}

/*
 * One message: returns 1 accepted, 0 refused (session usable), -1 broken
 * connection.
 */
static int
lg_message(struct lg_conn *c, long idx)
{
	char env[4096], hdr[1024], to[256], *msg;
	size_t el = 0;
	double t0;
	int code, i, hl;

	el += snprintf(env + el, sizeof(env) - el, "MAIL FROM:<%s> SIZE=%ld\r\n",
	    cf.from, cf.size);
	for (i = 0; i < cf.rcpts && el < sizeof(env) - 300; i++) {
		rcpt_addr(to, sizeof(to), idx * cf.rcpts + i);
		el += snprintf(env + el, sizeof(env) - el, "RCPT TO:<%s>\r\n",
		    to);
	}
	rcpt_addr(to, sizeof(to), idx * cf.rcpts);
	hl = snprintf(hdr, sizeof(hdr), "From: <%s>\r\nTo: <%s>\r\n"
	    "Subject: loadgen %ld\r\nMessage-ID: <loadgen.%ld.%ld@loadgen.test>\r\n"
	    "\r\n", cf.from, to, idx, (long)getpid(), idx);

	t0 = now_ms();
	if (c->pipelining) {
		el += snprintf(env + el, sizeof(env) - el, "DATA\r\n");
		if (lg_write(c, env, el) == -1)
			return -1;
		if ((code = lg_read(c)) == -1)
			return -1;
		for (i = 0; i < cf.rcpts; i++) {
			int rc = lg_read(c);

			if (rc == -1)
				return -1;
			if (rc / 100 != 2 && code == 250)
				code = rc;
		}
		if ((i = lg_read(c)) == -1)
			return -1;
		if (i != 354 || code != 250) {
			if (i == 354 && lg_write(c, ".\r\n", 3) == -1)
				return -1;
			if (i == 354 && lg_read(c) == -1)
				return -1;
			count_err(code == 250 ? i : code);
			return lg_cmd(c, "RSET\r\n") == -1 ? -1 : 0;
		}
	} else {
		char *p = env, *e;

		/* one command at a time */
		while ((e = strstr(p, "\r\n")) != NULL) {
			char save = e[2];

			e[2] = '\0';
			code = lg_cmd(c, p);
			e[2] = save;
			if (code == -1)
				return -1;
			if (code / 100 != 2) {
				count_err(code);
				return lg_cmd(c, "RSET\r\n") == -1 ? -1 : 0;
			}
			p = e + 2;
		}
		if ((code = lg_cmd(c, "DATA\r\n")) != 354) {
			if (code == -1)
				return -1;
			count_err(code);
			return lg_cmd(c, "RSET\r\n") == -1 ? -1 : 0;
		}
	}
	/* Header, body and final dot leave in one write. */
	if ((msg = malloc(hl + bodylen + 3)) == NULL)
		return -1;
	memcpy(msg, hdr, hl);
	memcpy(msg + hl, body, bodylen);
	memcpy(msg + hl + bodylen, ".\r\n", 3);
	i = lg_write(c, msg, hl + bodylen + 3);
	free(msg);
	if (i == -1)
		return -1;
	if ((code = lg_read(c)) == -1)
		return -1;
	if (code != 250) {
		count_err(code);
		return 0;
	}
	pthread_mutex_lock(&mtx);
	lat[nlat++] = now_ms() - t0;
	if (cf.acclog) {
		fprintf(cf.acclog, "loadgen.%ld.%ld@loadgen.test\n",
		    (long)getpid(), idx);
		fflush(cf.acclog);
	}
	pthread_mutex_unlock(&mtx);
	return 1;
}

static long
take(void)
{
	long i = -1;

	pthread_mutex_lock(&mtx);
	if (next_msg < cf.messages)
		i = next_msg++;
	pthread_mutex_unlock(&mtx);
	return i;
}

/* Another failure in a row: give up now? */
static int
gave_up(int *fails, double *down)
{
	if (cf.retry_for == 0)
		return ++*fails >= 5;
	if (*down == 0)
		*down = now_ms();
	return now_ms() - *down > cf.retry_for * 1000.0;
}

static void *
session(void *arg)
{
	struct lg_conn c;
	long idx, ok = 0, bad = 0;
	int open = 0, sent = 0, fails = 0, r;
	double down = 0;	/* --retry-for: since when nothing works */

	(void)arg;
	memset(&c, 0, sizeof(c));
	c.fd = -1;
	while ((idx = take()) != -1) {
		/*
		 * bounded: 5 failed connects in a row end it; with
		 * --retry-for the same message waits for a connection that
		 * many seconds
		 */
		while (!open) {
			if (lg_open(&c) == 0) {
				open = 1;
				sent = 0;
				break;
			}
			pthread_mutex_lock(&mtx);
			connerr++;
			pthread_mutex_unlock(&mtx);
			if (gave_up(&fails, &down))
				break;
			usleep(cf.retry_for ? 50000 : 100000);
			if (!cf.retry_for)
				break;
		}
		if (!open) {
			bad++;
			if (cf.retry_for || fails >= 5)
				break;
			continue;
		}
		r = lg_message(&c, idx);
		if (r == 1) {
			ok++;
			fails = 0;
			down = 0;
		} else
			bad++;
		if (r == -1) {
			count_err(-1);
			lg_close(&c);
			open = 0;
			if (gave_up(&fails, &down))
				break;
			continue;
		}
		if (cf.per_conn > 0 && ++sent >= cf.per_conn) {
			(void)lg_cmd(&c, "QUIT\r\n");
			lg_close(&c);
			open = 0;
		}
	}
	if (open) {
		(void)lg_cmd(&c, "QUIT\r\n");
		lg_close(&c);
	}
	pthread_mutex_lock(&mtx);
	accepted += ok;
	failed += bad;
	pthread_mutex_unlock(&mtx);
	return NULL;
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
make_body(void)
{
	size_t i, line;
	long want = cf.size - 200;	/* headers take about 200 bytes */

	if (want < 2)
		want = 2;
	if ((body = malloc(want + 80)) == NULL)
		exit(2);
	for (bodylen = 0, line = 0; (long)bodylen < want; line++) {
		/* 76 printable characters and CR LF, never a leading dot */
		for (i = 0; i < 76 && (long)bodylen < want; i++)
			body[bodylen++] = 'a' + (line + i) % 26;
		body[bodylen++] = '\r';
		body[bodylen++] = '\n';
	}
}

int
main(int argc, char **argv)
{
	enum { O_CA = 256, O_NOVERIFY, O_FROM, O_TO, O_BANNER, O_ACCLOG,
	    O_RETRY };
	static struct option lo[] = {
		{ "ca", required_argument, NULL, O_CA },
		{ "no-verify", no_argument, NULL, O_NOVERIFY },
		{ "from", required_argument, NULL, O_FROM },
		{ "to", required_argument, NULL, O_TO },
		{ "banner", required_argument, NULL, O_BANNER },
		{ "accepted-log", required_argument, NULL, O_ACCLOG },
		{ "retry-for", required_argument, NULL, O_RETRY },
		{ NULL, 0, NULL, 0 }
	};
	pthread_t *th;
	double t0, el, p50 = 0, p99 = 0, max = 0;
	int ch, i;

	cf.host = "127.0.0.1";
	cf.sessions = 1;
	cf.messages = 100;
	cf.size = 4096;
	cf.rcpts = 1;
	cf.timeout = 60;
	cf.from = "loadgen@loadgen.test";
	cf.to = "user%ld@example.test";
	while ((ch = getopt_long(argc, argv, "h:p:c:n:s:k:r:PTt:q", lo,
	    NULL)) != -1) {
		switch (ch) {
		case 'h': cf.host = optarg; break;
		case 'p': cf.port = optarg; break;
		case 'c': cf.sessions = atoi(optarg); break;
		case 'n': cf.messages = atol(optarg); break;
		case 's': cf.size = atol(optarg); break;
		case 'k': cf.per_conn = atoi(optarg); break;
		case 'r': cf.rcpts = atoi(optarg); break;
		case 'P': cf.pipelining = 1; break;
		case 'T': cf.starttls = 1; break;
		case 't': cf.timeout = atoi(optarg); break;
		case 'q': cf.quiet = 1; break;
		case O_CA: cf.ca = optarg; break;
		case O_NOVERIFY: cf.noverify = 1; break;
		case O_FROM: cf.from = optarg; break;
		case O_TO: cf.to = optarg; break;
		case O_BANNER: cf.banner = optarg; break;
		case O_ACCLOG:
			if ((cf.acclog = fopen(optarg, "a")) == NULL) {
				perror(optarg);
				return 2;
			}
			break;
		case O_RETRY: cf.retry_for = atoi(optarg); break;
		default: usage();
		}
	}
	if (cf.port == NULL || optind != argc || cf.sessions < 1 ||
	    cf.sessions > 1000 || cf.messages < 1 || cf.size < 1 ||
	    cf.rcpts < 1 || cf.rcpts > 100 || cf.timeout < 1 ||
	    cf.retry_for < 0 || cf.retry_for > 3600)
		usage();
	/* --to must hold exactly one %ld, and nothing else of printf's */
	{
		const char *p = strchr(cf.to, '%');

		if (p == NULL) {
			/* one fixed recipient */
			cf.to_pre = strdup(cf.to);
			cf.to_suf = NULL;
		} else {
			if (strncmp(p, "%ld", 3) != 0 ||
			    strchr(p + 1, '%') != NULL)
				usage();
			cf.to_pre = strndup(cf.to, p - cf.to);
			cf.to_suf = strdup(p + 3);
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if (cf.starttls) {
		if ((tlscfg = tls_config_new()) == NULL)
			return 2;
		if (cf.ca && tls_config_set_ca_file(tlscfg, cf.ca) == -1)
			return 2;
		if (cf.noverify) {
			tls_config_insecure_noverifycert(tlscfg);
			tls_config_insecure_noverifyname(tlscfg);
		}
	}
	make_body();
	if ((lat = calloc(cf.messages, sizeof(*lat))) == NULL ||
	    (th = calloc(cf.sessions, sizeof(*th))) == NULL)
		return 2;
	t0 = now_ms();
	for (i = 0; i < cf.sessions; i++)
		if (pthread_create(&th[i], NULL, session, NULL) != 0)
			return 2;
	for (i = 0; i < cf.sessions; i++)
		pthread_join(th[i], NULL);
	el = (now_ms() - t0) / 1000.0;
	if (nlat > 0) {
		qsort(lat, nlat, sizeof(*lat), cmpd);
		p50 = lat[(nlat - 1) / 2];
		p99 = lat[(long)((nlat - 1) * 0.99)];
		max = lat[nlat - 1];
	}
	printf("loadgen sessions=%d messages=%ld size=%ld pipelining=%d "
	    "starttls=%d accepted=%ld failed=%ld elapsed=%.3f rate=%.1f "
	    "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f connect_errors=%ld "
	    "io_errors=%ld\n", cf.sessions, cf.messages, cf.size,
	    cf.pipelining, cf.starttls, accepted, failed, el,
	    el > 0 ? accepted / el : 0.0, p50, p99, max, connerr, ioerr);
	for (i = 200; i < 600; i++)
		if (errcode[i])
			printf("loadgen error code=%d count=%ld\n", i,
			    errcode[i]);
	return accepted == cf.messages ? 0 : 1;
}
