/*
 * smtp-peer: a scriptable SMTP server playing a remote relay or MX for the
 * regression tests and the bench.  One forked child per connection with
 * non-blocking I/O under a deadline; records each accepted message in a
 * spool directory.  Usage and record format: regress/tools/README.md.
 */
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tls.h>

#define PEER_MAXLINE	65536	/* longest command line accepted */
#define PEER_MAXDATALINE (64 * 1024 * 1024)	/* one DATA line, sanity bound */
#define PEER_MAXCHILD	1024
#define PEER_MAXREPLY	32
#define PEER_MAXRCPT	1000

enum peer_hostile {
	H_NONE, H_LONGLINE, H_BADMULTI, H_ENDLESS, H_BARECODE, H_BARELF,
	H_GARBAGE, H_NUL
};

struct peer_override {
	char	 step[16];	/* base name: greeting, ehlo, rcpt, ... */
	int	 nth;		/* 0: every occurrence, else the nth */
	int	 code;
	char	*text;
};

/* Command-line configuration, read-only after main() parsed it. */
static struct {
	const char	*addr, *port, *spool, *pidfile, *connlog;
	const char	*cert, *key, *clientca, *hostname;
	int		 starttls, smtps, require_tls, no_ehlo, no_pipelining;
	int		 drop_mid_data, no_record, count_only;
	char		*auth_user, *auth_pass;
	struct peer_override reply[PEER_MAXREPLY];
	int		 nreply, reply_conns;
	int		 slow_ms;
	char		 slow_step[16];
	enum peer_hostile hostile;
	char		 hostile_step[16];
	long		 conn_lifetime, lifetime;
	long		 max_size;
	char		*ext[16];
	int		 next;
	int		 quiet;
} cf;

static struct tls_config *tlscfg;
static struct tls *tlsserver;
static volatile sig_atomic_t got_term;

/* One client session: lives in the forked child. */
struct sess {
	int		 fd;
	struct tls	*tls;
	unsigned long	 conn;
	time_t		 deadline;
	char		*ibuf;
	size_t		 ilen, icap;
	char		 caddr[INET6_ADDRSTRLEN], laddr[INET6_ADDRSTRLEN];
	int		 cport, lport;
	char		 helo_verb[5];
	char		*helo;
	char		*auth;
	int		 overrides;	/* the --reply table applies */
	int		 nstep[16];	/* per-connection step counters */
	char		*mail_from, *mail_params;
	char		*rcpt[PEER_MAXRCPT];
	int		 nrcpt, rcpt_seen;
	int		 msgs;
	int		 translog;
};

static const char *steps[] = { "greeting", "ehlo", "helo", "starttls",
    "auth", "mail", "rcpt", "data", "dot", "rset", "quit", "noop", NULL };

static void usage(void) __attribute__((noreturn));
static void die(const char *, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void
usage(void)
{
	fprintf(stderr, "usage: smtp-peer [-l addr] -p port [-s spooldir] "
	    "[--starttls] [--smtps] [--require-tls]\n"
	    "\t[--cert file --key file] [--client-ca file] [--auth user:pass]\n"
	    "\t[--reply step[N]=code[:text]]... [--reply-conns n] "
	    "[--drop-mid-data]\n"
	    "\t[--slow ms[:step]] [--hostile kind[:step]] [--no-ehlo] "
	    "[--no-pipelining]\n"
	    "\t[--ext keyword]... [--max-size bytes] [--hostname name] "
	    "[--pidfile file]\n"
	    "\t[--conn-log file] [--no-record] [--count-only] "
	    "[--max-conn-lifetime sec]\n"
	    "\t[--lifetime sec] [-q]\n");
	exit(2);
}

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "smtp-peer: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static char *
xstrdup(const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL)
		die("out of memory");
	return p;
}

static int
step_index(const char *name)
{
	int i;

	for (i = 0; steps[i] != NULL; i++)
		if (strcmp(steps[i], name) == 0)
			return i;
	return -1;
}

/* Split "rcpt2" into "rcpt" and 2; -1 if the base is no step. */
static int
step_parse(const char *s, char *base, size_t basesz, int *nth)
{
	size_t n;

	n = strcspn(s, "0123456789");
	if (n == 0 || n >= basesz)
		return -1;
	memcpy(base, s, n);
	base[n] = '\0';
	*nth = s[n] ? atoi(s + n) : 0;
	if (step_index(base) == -1 || (s[n] && *nth <= 0))
		return -1;
	return 0;
}

/* --reply STEP[N]=CODE[:TEXT] */
static void
opt_reply(const char *arg)
{
	struct peer_override *o;
	char step[32], *eq, *end;
	long code;

	if (cf.nreply == PEER_MAXREPLY)
		die("too many --reply");
	o = &cf.reply[cf.nreply];
	if ((eq = strchr(arg, '=')) == NULL || (size_t)(eq - arg) >= sizeof(step))
		die("--reply %s: want step=code[:text]", arg);
	memcpy(step, arg, eq - arg);
	step[eq - arg] = '\0';
	if (step_parse(step, o->step, sizeof(o->step), &o->nth) == -1)
		die("--reply %s: unknown step", arg);
	code = strtol(eq + 1, &end, 10);
	if (code < 200 || code > 599 || (*end != '\0' && *end != ':'))
		die("--reply %s: bad code", arg);
	o->code = code;
	o->text = *end == ':' ? xstrdup(end + 1) : NULL;
	cf.nreply++;
}

static void
opt_hostile(const char *arg)
{
	static const char *kinds[] = { "", "longline", "badmulti", "endless",
	    "barecode", "barelf", "garbage", "nul", NULL };
	char kind[32];
	const char *c;
	int i, nth;

	c = strchr(arg, ':');
	if (c == NULL)
		c = arg + strlen(arg);
	if ((size_t)(c - arg) >= sizeof(kind))
		die("--hostile %s: unknown kind", arg);
	memcpy(kind, arg, c - arg);
	kind[c - arg] = '\0';
	for (i = 1; kinds[i] != NULL; i++)
		if (strcmp(kinds[i], kind) == 0)
			break;
	if (kinds[i] == NULL)
		die("--hostile %s: unknown kind", arg);
	cf.hostile = i;
	strlcpy(cf.hostile_step, "greeting", sizeof(cf.hostile_step));
	if (*c == ':' && step_parse(c + 1, cf.hostile_step,
	    sizeof(cf.hostile_step), &nth) == -1)
		die("--hostile %s: unknown step", arg);
}

/* ---- output records --------------------------------------------------- */

static void
append_line(const char *path, const char *fmt, ...)
{
	char line[4096];
	va_list ap;
	int fd, n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644)) == -1)
		return;
	/* One write(2) per line: O_APPEND keeps lines whole across children. */
	(void)write(fd, line, n);
	close(fd);
}

/* Printable copy of a protocol line for the logs and the meta file. */
static void
escape(char *dst, size_t dstsz, const char *src, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 5 < dstsz; i++) {
		unsigned char c = src[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			dst[o++] = c;
		else
			o += snprintf(dst + o, dstsz - o, "\\x%02x", c);
	}
	if (i < len && o + 4 < dstsz)
		o += snprintf(dst + o, dstsz - o, "...");
	dst[o] = '\0';
}

static void
translog(struct sess *s, const char *dir, const char *line, size_t len)
{
	char path[4096], esc[1024];

	if (!s->translog)
		return;
	escape(esc, sizeof(esc), line, len);
	snprintf(path, sizeof(path), "%s/transcript.log", cf.spool);
	append_line(path, "conn=%lu %s %s", s->conn, dir, esc);
}

static void
connlog(const char *fmt, ...)
{
	char line[1024], path[4096];
	const char *p = cf.connlog;
	va_list ap;

	if (p == NULL && cf.spool == NULL)
		return;
	if (p == NULL) {
		snprintf(path, sizeof(path), "%s/connections.log", cf.spool);
		p = path;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	append_line(p, "%s", line);
}

/* Next record number, shared by all children through a locked file. */
static unsigned long
spool_seq(void)
{
	char path[4096], num[32];
	unsigned long n = 0;
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "%s/.seq", cf.spool);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1)
		die("open %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX) == -1)
		die("flock: %s", strerror(errno));
	if ((r = pread(fd, num, sizeof(num) - 1, 0)) > 0) {
		num[r] = '\0';
		n = strtoul(num, NULL, 10);
	}
	n++;
	r = snprintf(num, sizeof(num), "%lu\n", n);
	if (ftruncate(fd, 0) == -1 || pwrite(fd, num, r, 0) != r)
		die("write %s: %s", path, strerror(errno));
	close(fd);
	return n;
}

static void
write_file(const char *path, const char *data, size_t len)
{
	char tmp[4200];
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fp = fopen(tmp, "w")) == NULL)
		die("fopen %s: %s", tmp, strerror(errno));
	if (len > 0 && fwrite(data, 1, len, fp) != len)
		die("write %s", tmp);
	if (fclose(fp) != 0 || rename(tmp, path) == -1)
		die("close %s: %s", path, strerror(errno));
}

/*
 * Record an accepted message: NNNNNN.eml (dot-unstuffed content),
 * NNNNNN.raw (the DATA phase as it came on the wire, terminator
 * included), then NNNNNN.meta last, so a .meta means a whole record.
 */
static unsigned long
spool_record(struct sess *s, const char *raw, size_t rawlen,
    const char *eml, size_t emllen)
{
	char path[4096], esc[2048], mlog[4096];
	unsigned long seq;
	char *meta = NULL;
	size_t metalen = 0;
	FILE *fp;
	int i;

	if (cf.spool == NULL || cf.no_record)
		return 0;
	seq = spool_seq();
	snprintf(mlog, sizeof(mlog), "%s/messages.log", cf.spool);
	escape(esc, sizeof(esc), s->mail_from, strlen(s->mail_from));
	append_line(mlog, "seq=%lu conn=%lu client=%s:%d from=%s rcpts=%d "
	    "size=%zu", seq, s->conn, s->caddr, s->cport, esc, s->nrcpt,
	    emllen);
	if (cf.count_only)
		return seq;

	snprintf(path, sizeof(path), "%s/%06lu.eml", cf.spool, seq);
	write_file(path, eml, emllen);
	snprintf(path, sizeof(path), "%s/%06lu.raw", cf.spool, seq);
	write_file(path, raw, rawlen);

	if ((fp = open_memstream(&meta, &metalen)) == NULL)
		die("open_memstream");
	fprintf(fp, "seq=%lu\nconn=%lu\ntime=%lld\n", seq, s->conn,
	    (long long)time(NULL));
	fprintf(fp, "client_addr=%s\nclient_port=%d\n", s->caddr, s->cport);
	fprintf(fp, "server_addr=%s\nserver_port=%d\n", s->laddr, s->lport);
	fprintf(fp, "tls=%s\n", s->tls ? tls_conn_version(s->tls) : "none");
	if (s->tls) {
		fprintf(fp, "tls_cipher=%s\n", tls_conn_cipher(s->tls));
		if (tls_peer_cert_provided(s->tls))
			fprintf(fp, "tls_client_subject=%s\n",
			    tls_peer_cert_subject(s->tls));
	}
	escape(esc, sizeof(esc), s->auth ? s->auth : "", s->auth ?
	    strlen(s->auth) : 0);
	fprintf(fp, "auth_user=%s\n", esc);
	fprintf(fp, "helo_verb=%s\n", s->helo_verb);
	escape(esc, sizeof(esc), s->helo, strlen(s->helo));
	fprintf(fp, "helo=%s\n", esc);
	escape(esc, sizeof(esc), s->mail_from, strlen(s->mail_from));
	fprintf(fp, "mail_from=%s\n", esc);
	escape(esc, sizeof(esc), s->mail_params, strlen(s->mail_params));
	fprintf(fp, "mail_params=%s\n", esc);
	fprintf(fp, "rcpt_count=%d\n", s->nrcpt);
	for (i = 0; i < s->nrcpt; i++) {
		escape(esc, sizeof(esc), s->rcpt[i], strlen(s->rcpt[i]));
		fprintf(fp, "rcpt=%s\n", esc);
	}
	fprintf(fp, "size=%zu\nraw_size=%zu\n", emllen, rawlen);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/%06lu.meta", cf.spool, seq);
	write_file(path, meta, metalen);
	free(meta);
	return seq;
}

/* ---- I/O under the connection deadline -------------------------------- */

static void sess_end(struct sess *, const char *) __attribute__((noreturn));

static void
sess_end(struct sess *s, const char *reason)
{
	connlog("close conn=%lu addr=%s port=%d msgs=%d reason=%s", s->conn,
	    s->caddr, s->cport, s->msgs, reason);
	if (s->tls) {
		(void)tls_close(s->tls);
		tls_free(s->tls);
	}
	close(s->fd);
	_exit(0);
}

static void
sess_wait(struct sess *s, short ev)
{
	struct pollfd pfd;
	time_t now;
	int r;

	pfd.fd = s->fd;
	pfd.events = ev;
	for (;;) {
		now = time(NULL);
		if (now >= s->deadline)
			sess_end(s, "lifetime");
		r = poll(&pfd, 1, (s->deadline - now) * 1000);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			sess_end(s, "poll");
		if (r > 0)
			return;
	}
}

/* Read more input into ibuf; ends the session on EOF or error. */
static void
sess_fill(struct sess *s)
{
	ssize_t n;

	if (s->icap - s->ilen < 16384) {
		s->icap = s->icap ? s->icap * 2 : 32768;
		if ((s->ibuf = realloc(s->ibuf, s->icap)) == NULL)
			die("out of memory");
	}
	for (;;) {
		if (s->tls) {
			n = tls_read(s->tls, s->ibuf + s->ilen,
			    s->icap - s->ilen);
			if (n == TLS_WANT_POLLIN) {
				sess_wait(s, POLLIN);
				continue;
			}
			if (n == TLS_WANT_POLLOUT) {
				sess_wait(s, POLLOUT);
				continue;
			}
		} else {
			n = read(s->fd, s->ibuf + s->ilen, s->icap - s->ilen);
			if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
				sess_wait(s, POLLIN);
				continue;
			}
		}
		if (n == 0)
			sess_end(s, "eof");
		if (n < 0)
			sess_end(s, "read-error");
		s->ilen += n;
		return;
	}
}

static int
sess_write(struct sess *s, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if (s->tls) {
			n = tls_write(s->tls, p, len);
			if (n == TLS_WANT_POLLIN) {
				sess_wait(s, POLLIN);
				continue;
			}
			if (n == TLS_WANT_POLLOUT) {
				sess_wait(s, POLLOUT);
				continue;
			}
		} else {
			n = write(s->fd, p, len);
			if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
				sess_wait(s, POLLOUT);
				continue;
			}
		}
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/*
 * Take one line (terminator included) off ibuf: returns its length, the
 * line stays at ibuf[0..len) until sess_consume().
 */
static size_t
sess_line(struct sess *s, size_t max)
{
	char *nl;

	for (;;) {
		if (s->ilen > 0 &&
		    (nl = memchr(s->ibuf, '\n', s->ilen)) != NULL)
			return nl - s->ibuf + 1;
		if (s->ilen > max)
			return 0;
		sess_fill(s);
	}
}

static void
sess_consume(struct sess *s, size_t n)
{
	memmove(s->ibuf, s->ibuf + n, s->ilen - n);
	s->ilen -= n;
}

/* Read a command line, CR LF stripped, NUL-terminated copy returned. */
static char *
sess_cmd(struct sess *s)
{
	size_t n, l;
	char *line;

	n = sess_line(s, PEER_MAXLINE);
	if (n == 0) {
		translog(s, "c:", s->ibuf, 80);
		(void)sess_write(s, "500 5.5.2 line too long\r\n", 25);
		sess_end(s, "line-too-long");
	}
	l = n - 1;
	if (l > 0 && s->ibuf[l - 1] == '\r')
		l--;
	if ((line = malloc(l + 1)) == NULL)
		die("out of memory");
	memcpy(line, s->ibuf, l);
	line[l] = '\0';
	translog(s, "c:", line, l);
	sess_consume(s, n);
	return line;
}

/* ---- replies ---------------------------------------------------------- */

static void
send_raw(struct sess *s, const char *buf, size_t len)
{
	size_t i, j;

	/* Log each line of what goes out. */
	for (i = 0; i < len; i = j + 1) {
		for (j = i; j < len && buf[j] != '\n'; j++)
			;
		translog(s, "s:", buf + i, j > i && j < len &&
		    buf[j - 1] == '\r' ? j - i - 1 : j - i);
		if (j - i > 1000)
			break;
	}
	if (sess_write(s, buf, len) == -1)
		sess_end(s, "write-error");
}

static void
send_hostile(struct sess *s, int code)
{
	char buf[256];
	char *big;
	int i, n;

	switch (cf.hostile) {
	case H_LONGLINE:
		n = 100000;
		if ((big = malloc(n + 16)) == NULL)
			die("out of memory");
		i = snprintf(big, 16, "%d ", code);
		memset(big + i, 'x', n);
		memcpy(big + i + n, "\r\n", 2);
		send_raw(s, big, i + n + 2);
		free(big);
		return;
	case H_BADMULTI:
		n = snprintf(buf, sizeof(buf), "%d-first line\r\n"
		    "continuation without a code\r\n%d-other code\r\n"
		    "%d last line\r\n", code, code == 250 ? 220 : 250, code);
		send_raw(s, buf, n);
		return;
	case H_ENDLESS:
		/* Bounded: at most 10^6 lines or until the client leaves. */
		for (i = 0; i < 1000000; i++) {
			n = snprintf(buf, sizeof(buf),
			    "%d-endless reply line %d\r\n", code, i);
			if (sess_write(s, buf, n) == -1)
				sess_end(s, "endless-done");
		}
		sess_end(s, "endless-done");
	case H_BARECODE:
		n = snprintf(buf, sizeof(buf), "%d\r\n", code);
		break;
	case H_BARELF:
		n = snprintf(buf, sizeof(buf), "%d bare LF ending\n", code);
		break;
	case H_GARBAGE:
		n = snprintf(buf, sizeof(buf), "hello, this is no reply\r\n");
		break;
	case H_NUL:
		n = snprintf(buf, sizeof(buf), "%d text", code);
		buf[n++] = '\0';
		n += snprintf(buf + n, sizeof(buf) - n, "with NUL\r\n");
		break;
	default:
		return;
	}
	send_raw(s, buf, n);
}

static int
step_slow(const char *step)
{
	return cf.slow_ms > 0 && (cf.slow_step[0] == '\0' ||
	    strcmp(cf.slow_step, step) == 0);
}

/*
 * The override for this step and occurrence, if the table applies to
 * this connection.  rcpt counts within the transaction, others within
 * the connection.
 */
static struct peer_override *
override_find(struct sess *s, const char *step, int nth)
{
	int i;

	if (!s->overrides)
		return NULL;
	for (i = 0; i < cf.nreply; i++)
		if (strcmp(cf.reply[i].step, step) == 0 &&
		    (cf.reply[i].nth == 0 || cf.reply[i].nth == nth))
			return &cf.reply[i];
	return NULL;
}

/*
 * Reply at a step: an override, a hostile reply or the default.  Returns
 * the code sent; after a 421 the session ends.  The default text may be
 * multi-line (lines separated by '\n', code added to each).
 */
static int
reply(struct sess *s, const char *step, int code, const char *fmt, ...)
{
	struct peer_override *o;
	char text[8192], out[9000];
	const char *p, *nl;
	size_t len = 0;
	va_list ap;
	int si, nth;

	si = step_index(step);
	nth = strcmp(step, "rcpt") == 0 ? s->rcpt_seen : ++s->nstep[si];
	if (step_slow(step)) {
		struct timespec ts = { cf.slow_ms / 1000,
		    (cf.slow_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
	if (cf.hostile != H_NONE && strcmp(cf.hostile_step, step) == 0) {
		send_hostile(s, code);
		return code;
	}
	if ((o = override_find(s, step, nth)) != NULL) {
		code = o->code;
		snprintf(text, sizeof(text), "%s", o->text ? o->text :
		    "peer scripted reply");
	} else {
		va_start(ap, fmt);
		vsnprintf(text, sizeof(text), fmt, ap);
		va_end(ap);
	}
	for (p = text; ; p = nl + 1) {
		nl = strchr(p, '\n');
		len += snprintf(out + len, sizeof(out) - len, "%d%c%.*s\r\n",
		    code, nl ? '-' : ' ', nl ? (int)(nl - p) : (int)strlen(p),
		    p);
		if (nl == NULL || len >= sizeof(out))
			break;
	}
	if (len >= sizeof(out))
		len = sizeof(out) - 1;
	send_raw(s, out, len);
	if (code == 421)
		sess_end(s, "421");
	return code;
}

/* ---- the SMTP state machine ------------------------------------------- */

static void
trans_reset(struct sess *s)
{
	int i;

	free(s->mail_from);
	free(s->mail_params);
	s->mail_from = s->mail_params = NULL;
	for (i = 0; i < s->nrcpt; i++)
		free(s->rcpt[i]);
	s->nrcpt = s->rcpt_seen = 0;
}

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decode base64 into a new buffer of *outlen bytes; NULL if malformed. */
static char *
b64decode(const char *in, size_t *outlen)
{
	size_t len = strlen(in), o = 0, i;
	unsigned int acc = 0;
	int bits = 0, v, pad = 0;
	char *out;

	if ((out = malloc(len + 1)) == NULL)
		die("out of memory");
	for (i = 0; i < len; i++) {
		if (in[i] == '=') {
			pad++;
			continue;
		}
		if (pad || (v = b64val((unsigned char)in[i])) == -1) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (acc >> bits) & 0xff;
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

static char *
auth_read(struct sess *s, const char *challenge)
{
	char buf[64];
	char *line;
	int n;

	/* Challenges are never scripted: --reply auth= is the final reply. */
	n = snprintf(buf, sizeof(buf), "334 %s\r\n", challenge);
	send_raw(s, buf, n);
	line = sess_cmd(s);
	if (strcmp(line, "*") == 0) {
		free(line);
		return NULL;
	}
	return line;
}

static void
do_auth(struct sess *s, char *arg)
{
	char *mech, *init, *resp = NULL, *dec, *user = NULL, *pass = NULL;
	size_t len;
	int ok = 0;

	if (cf.auth_user == NULL) {
		reply(s, "auth", 503, "5.5.1 AUTH not offered");
		return;
	}
	if (s->auth) {
		reply(s, "auth", 503, "5.5.1 already authenticated");
		return;
	}
	mech = strtok(arg, " ");
	init = strtok(NULL, " ");
	if (mech && strcasecmp(mech, "PLAIN") == 0) {
		resp = init ? xstrdup(init) : auth_read(s, "");
		if (resp == NULL) {
			reply(s, "auth", 501, "5.7.0 AUTH cancelled");
			return;
		}
		if ((dec = b64decode(resp, &len)) != NULL) {
			/* authzid NUL authcid NUL passwd */
			char *u = memchr(dec, '\0', len);
			char *p = u ? memchr(u + 1, '\0', len - (u + 1 - dec)) :
			    NULL;
			if (u && p) {
				user = xstrdup(u + 1);
				pass = xstrdup(p + 1);
			}
			free(dec);
		}
	} else if (mech && strcasecmp(mech, "LOGIN") == 0) {
		resp = init ? xstrdup(init) : auth_read(s, "VXNlcm5hbWU6");
		if (resp && (user = b64decode(resp, &len)) != NULL) {
			free(resp);
			resp = auth_read(s, "UGFzc3dvcmQ6");
			if (resp)
				pass = b64decode(resp, &len);
		}
		if (resp == NULL) {
			free(user);
			reply(s, "auth", 501, "5.7.0 AUTH cancelled");
			return;
		}
	} else {
		reply(s, "auth", 504, "5.5.4 mechanism not supported");
		return;
	}
	free(resp);
	if (user && pass && strcmp(user, cf.auth_user) == 0 &&
	    strcmp(pass, cf.auth_pass) == 0)
		ok = 1;
	if (!ok) {
		connlog("auth conn=%lu result=fail", s->conn);
		reply(s, "auth", 535, "5.7.8 authentication failed");
	} else if (reply(s, "auth", 235, "2.7.0 authenticated") == 235) {
		s->auth = user;
		user = NULL;
	}
	free(user);
	free(pass);
}

static void
do_ehlo(struct sess *s, const char *verb, const char *arg)
{
	char text[4096];
	size_t len = 0;
	int i;

	if (*arg == '\0') {
		reply(s, verb, 501, "5.5.4 %s needs a domain", verb);
		return;
	}
	trans_reset(s);
	free(s->helo);
	s->helo = xstrdup(arg);
	if (strcmp(verb, "helo") == 0) {
		strlcpy(s->helo_verb, "HELO", sizeof(s->helo_verb));
		reply(s, "helo", 250, "%s hello %s", cf.hostname, arg);
		return;
	}
	strlcpy(s->helo_verb, "EHLO", sizeof(s->helo_verb));
	len += snprintf(text + len, sizeof(text) - len, "%s hello %s\n",
	    cf.hostname, arg);
	if (!cf.no_pipelining)
		len += snprintf(text + len, sizeof(text) - len,
		    "PIPELINING\n");
	len += snprintf(text + len, sizeof(text) - len,
	    "8BITMIME\nENHANCEDSTATUSCODES\n");
	if (cf.max_size > 0)
		len += snprintf(text + len, sizeof(text) - len, "SIZE %ld\n",
		    cf.max_size);
	if (cf.starttls && s->tls == NULL)
		len += snprintf(text + len, sizeof(text) - len, "STARTTLS\n");
	if (cf.auth_user)
		len += snprintf(text + len, sizeof(text) - len,
		    "AUTH PLAIN LOGIN\n");
	for (i = 0; i < cf.next && len < sizeof(text); i++)
		len += snprintf(text + len, sizeof(text) - len, "%s\n",
		    cf.ext[i]);
	if (len < sizeof(text))
		snprintf(text + len, sizeof(text) - len, "HELP");
	reply(s, "ehlo", 250, "%s", text);
}

static void
tls_start(struct sess *s)
{
	int r;

	if (tls_accept_socket(tlsserver, &s->tls, s->fd) == -1)
		die("tls_accept_socket: %s", tls_error(tlsserver));
	for (;;) {
		r = tls_handshake(s->tls);
		if (r == TLS_WANT_POLLIN)
			sess_wait(s, POLLIN);
		else if (r == TLS_WANT_POLLOUT)
			sess_wait(s, POLLOUT);
		else
			break;
	}
	if (r == -1) {
		connlog("tls conn=%lu result=fail error=\"%s\"", s->conn,
		    tls_error(s->tls));
		tls_free(s->tls);
		s->tls = NULL;
		sess_end(s, "tls-handshake-failed");
	}
	connlog("tls conn=%lu result=ok version=%s", s->conn,
	    tls_conn_version(s->tls));
}

static void
do_starttls(struct sess *s)
{
	if (!cf.starttls || s->tls != NULL) {
		reply(s, "starttls", 502, "5.5.1 STARTTLS not offered");
		return;
	}
	if (reply(s, "starttls", 220, "2.0.0 ready to start TLS") != 220)
		return;
	if (s->ilen > 0) {
		/* Plaintext sent after STARTTLS must not survive (injection). */
		connlog("tls conn=%lu discarded=%zu", s->conn, s->ilen);
		s->ilen = 0;
	}
	tls_start(s);
	trans_reset(s);
	free(s->helo);
	s->helo = xstrdup("");
	s->helo_verb[0] = '\0';
}

/* "<addr> params" after FROM: or TO: -> addr with brackets, params. */
static int
parse_path(const char *p, char **addr, char **params)
{
	const char *e;

	while (*p == ' ')
		p++;
	if (*p != '<' || (e = strchr(p, '>')) == NULL)
		return -1;
	*addr = strndup(p, e - p + 1);
	e++;
	while (*e == ' ')
		e++;
	*params = xstrdup(e);
	return *addr ? 0 : -1;
}

static void
do_mail(struct sess *s, const char *arg)
{
	char *addr, *params;
	const char *sz;

	if (s->helo == NULL || s->helo_verb[0] == '\0') {
		reply(s, "mail", 503, "5.5.1 EHLO or HELO first");
		return;
	}
	if (cf.require_tls && s->tls == NULL) {
		reply(s, "mail", 530, "5.7.0 must issue STARTTLS first");
		return;
	}
	if (cf.auth_user && s->auth == NULL) {
		reply(s, "mail", 530, "5.7.0 authentication required");
		return;
	}
	if (s->mail_from) {
		reply(s, "mail", 503, "5.5.1 nested MAIL");
		return;
	}
	if (strncasecmp(arg, "FROM:", 5) != 0 ||
	    parse_path(arg + 5, &addr, &params) == -1) {
		reply(s, "mail", 501, "5.5.4 syntax: MAIL FROM:<address>");
		return;
	}
	if (cf.max_size > 0 && (sz = strcasestr(params, "SIZE=")) != NULL &&
	    strtol(sz + 5, NULL, 10) > cf.max_size) {
		free(addr);
		free(params);
		reply(s, "mail", 552, "5.3.4 message too big");
		return;
	}
	s->mail_from = addr;
	s->mail_params = params;
	if (reply(s, "mail", 250, "2.1.0 sender ok") / 100 != 2)
		trans_reset(s);
}

static void
do_rcpt(struct sess *s, const char *arg)
{
	char *addr, *params;

	if (s->mail_from == NULL) {
		reply(s, "rcpt", 503, "5.5.1 MAIL first");
		return;
	}
	if (strncasecmp(arg, "TO:", 3) != 0 ||
	    parse_path(arg + 3, &addr, &params) == -1) {
		reply(s, "rcpt", 501, "5.5.4 syntax: RCPT TO:<address>");
		return;
	}
	free(params);
	s->rcpt_seen++;
	if (s->nrcpt == PEER_MAXRCPT) {
		free(addr);
		reply(s, "rcpt", 452, "4.5.3 too many recipients");
		return;
	}
	if (reply(s, "rcpt", 250, "2.1.5 recipient ok") / 100 == 2)
		s->rcpt[s->nrcpt++] = addr;
	else
		free(addr);
}

static void
do_data(struct sess *s)
{
	struct { char *p; size_t len, cap; } raw = { 0 }, eml = { 0 };
	size_t n, off;
	struct peer_override *o;
	unsigned long seq;
	int code, big = 0;

	if (s->mail_from == NULL || s->nrcpt == 0) {
		reply(s, "data", s->mail_from ? 554 : 503,
		    "5.5.1 no valid recipients");
		return;
	}
	if ((code = reply(s, "data", 354, "end data with <CR><LF>.<CR><LF>"))
	    != 354) {
		if (code / 100 != 2)
			trans_reset(s);
		return;
	}
	for (;;) {
		if ((n = sess_line(s, PEER_MAXDATALINE)) == 0) {
			send_raw(s, "552 5.3.4 line too long\r\n", 25);
			sess_end(s, "data-line-too-long");
		}
		if (cf.drop_mid_data)
			sess_end(s, "drop-mid-data");
		if (!cf.count_only) {
			if (raw.len + n > raw.cap) {
				raw.cap = (raw.len + n) * 2;
				if ((raw.p = realloc(raw.p, raw.cap)) == NULL)
					die("out of memory");
			}
			memcpy(raw.p + raw.len, s->ibuf, n);
			raw.len += n;
		}
		if ((n == 3 && memcmp(s->ibuf, ".\r\n", 3) == 0) ||
		    (n == 2 && memcmp(s->ibuf, ".\n", 2) == 0)) {
			sess_consume(s, n);
			break;
		}
		off = s->ibuf[0] == '.' ? 1 : 0;
		if (cf.max_size > 0 && eml.len + n > (size_t)cf.max_size)
			big = 1;
		/* count-only keeps the size, not the bytes */
		if (!big && !cf.count_only) {
			if (eml.len + n > eml.cap) {
				eml.cap = (eml.len + n) * 2;
				if ((eml.p = realloc(eml.p, eml.cap)) == NULL)
					die("out of memory");
			}
			memcpy(eml.p + eml.len, s->ibuf + off, n - off);
		}
		if (!big)
			eml.len += n - off;
		sess_consume(s, n);
	}
	translog(s, "c:", "<data>", 6);
	if (big) {
		reply(s, "dot", 552, "5.3.4 message too big");
		goto done;
	}
	/* Record before the reply: a 250 means the record is complete. */
	o = override_find(s, "dot", s->nstep[step_index("dot")] + 1);
	seq = 0;
	if (o == NULL || o->code / 100 == 2) {
		seq = spool_record(s, raw.p, raw.len, eml.p, eml.len);
		s->msgs++;
	}
	reply(s, "dot", 250, "2.0.0 Ok: queued as %lu", seq);
done:
	free(raw.p);
	free(eml.p);
	trans_reset(s);
}

static void
session(int fd, unsigned long conn, struct sockaddr_storage *ss)
{
	struct sockaddr_storage ls;
	socklen_t sl = sizeof(ls);
	struct sess s;
	char *line, *arg, *verb;
	size_t i;
	int one = 1;

	memset(&s, 0, sizeof(s));
	s.fd = fd;
	s.conn = conn;
	s.deadline = time(NULL) + cf.conn_lifetime;
	s.overrides = cf.reply_conns == 0 || conn <= (unsigned long)cf.reply_conns;
	s.translog = cf.spool && !cf.no_record && !cf.count_only;
	s.helo = NULL;
	getnameinfo((struct sockaddr *)ss, sizeof(*ss), s.caddr,
	    sizeof(s.caddr), NULL, 0, NI_NUMERICHOST);
	s.cport = ntohs(ss->ss_family == AF_INET ?
	    ((struct sockaddr_in *)ss)->sin_port :
	    ((struct sockaddr_in6 *)ss)->sin6_port);
	if (getsockname(fd, (struct sockaddr *)&ls, &sl) == 0) {
		getnameinfo((struct sockaddr *)&ls, sl, s.laddr,
		    sizeof(s.laddr), NULL, 0, NI_NUMERICHOST);
		s.lport = ntohs(ls.ss_family == AF_INET ?
		    ((struct sockaddr_in *)&ls)->sin_port :
		    ((struct sockaddr_in6 *)&ls)->sin6_port);
	}
	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
		die("fcntl: %s", strerror(errno));
	/* Replies to a pipelined batch are separate writes: no Nagle wait. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (cf.smtps)
		tls_start(&s);
	reply(&s, "greeting", 220, "%s ESMTP smtp-peer", cf.hostname);
	for (;;) {
		line = sess_cmd(&s);
		verb = line;
		arg = line + strcspn(line, " ");
		if (*arg)
			*arg++ = '\0';
		for (i = 0; verb[i]; i++)
			verb[i] = tolower((unsigned char)verb[i]);
		if (strcmp(verb, "ehlo") == 0 && cf.no_ehlo)
			reply(&s, "ehlo", 500, "5.5.1 command unrecognized");
		else if (strcmp(verb, "ehlo") == 0 || strcmp(verb, "helo") == 0)
			do_ehlo(&s, verb, arg);
		else if (strcmp(verb, "starttls") == 0)
			do_starttls(&s);
		else if (strcmp(verb, "auth") == 0)
			do_auth(&s, arg);
		else if (strcmp(verb, "mail") == 0)
			do_mail(&s, arg);
		else if (strcmp(verb, "rcpt") == 0)
			do_rcpt(&s, arg);
		else if (strcmp(verb, "data") == 0)
			do_data(&s);
		else if (strcmp(verb, "rset") == 0) {
			trans_reset(&s);
			reply(&s, "rset", 250, "2.0.0 reset");
		} else if (strcmp(verb, "noop") == 0)
			reply(&s, "noop", 250, "2.0.0 ok");
		else if (strcmp(verb, "quit") == 0) {
			reply(&s, "quit", 221, "2.0.0 bye");
			free(line);
			sess_end(&s, "quit");
		} else
			send_raw(&s, "500 5.5.1 command unrecognized\r\n", 32);
		free(line);
	}
}

/* ---- the listener ----------------------------------------------------- */

static void
on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

static int
listen_on(void)
{
	struct addrinfo hints, *res;
	int fd, on = 1, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(cf.addr, cf.port, &hints, &res)) != 0)
		die("%s port %s: %s", cf.addr, cf.port, gai_strerror(e));
	if ((fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		die("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1)
		die("bind %s port %s: %s", cf.addr, cf.port, strerror(errno));
	if (listen(fd, 512) == -1)
		die("listen: %s", strerror(errno));
	freeaddrinfo(res);
	return fd;
}

static void
tls_setup(void)
{
	if (!cf.starttls && !cf.smtps)
		return;
	if (cf.cert == NULL || cf.key == NULL)
		die("--starttls and --smtps need --cert and --key");
	if ((tlscfg = tls_config_new()) == NULL)
		die("tls_config_new");
	if (tls_config_set_keypair_file(tlscfg, cf.cert, cf.key) == -1)
		die("keypair: %s", tls_config_error(tlscfg));
	tls_config_set_protocols(tlscfg, TLS_PROTOCOLS_ALL);
	if (cf.clientca) {
		if (tls_config_set_ca_file(tlscfg, cf.clientca) == -1)
			die("client ca: %s", tls_config_error(tlscfg));
		tls_config_verify_client_optional(tlscfg);
	}
	if ((tlsserver = tls_server()) == NULL)
		die("tls_server");
	if (tls_configure(tlsserver, tlscfg) == -1)
		die("tls_configure: %s", tls_error(tlsserver));
}

static void
opts(int argc, char **argv)
{
	enum { O_STARTTLS = 256, O_SMTPS, O_REQTLS, O_CERT, O_KEY, O_CLIENTCA,
	    O_AUTH, O_REPLY, O_REPLYCONNS, O_DROP, O_SLOW, O_HOSTILE,
	    O_NOEHLO, O_NOPIPE, O_PIDFILE, O_CONNLOG, O_NOREC, O_COUNT,
	    O_CONNLIFE, O_LIFE, O_EXT, O_MAXSIZE, O_HOSTNAME };
	static struct option lo[] = {
		{ "starttls", no_argument, NULL, O_STARTTLS },
		{ "smtps", no_argument, NULL, O_SMTPS },
		{ "require-tls", no_argument, NULL, O_REQTLS },
		{ "cert", required_argument, NULL, O_CERT },
		{ "key", required_argument, NULL, O_KEY },
		{ "client-ca", required_argument, NULL, O_CLIENTCA },
		{ "auth", required_argument, NULL, O_AUTH },
		{ "reply", required_argument, NULL, O_REPLY },
		{ "reply-conns", required_argument, NULL, O_REPLYCONNS },
		{ "drop-mid-data", no_argument, NULL, O_DROP },
		{ "slow", required_argument, NULL, O_SLOW },
		{ "hostile", required_argument, NULL, O_HOSTILE },
		{ "no-ehlo", no_argument, NULL, O_NOEHLO },
		{ "no-pipelining", no_argument, NULL, O_NOPIPE },
		{ "pidfile", required_argument, NULL, O_PIDFILE },
		{ "conn-log", required_argument, NULL, O_CONNLOG },
		{ "no-record", no_argument, NULL, O_NOREC },
		{ "count-only", no_argument, NULL, O_COUNT },
		{ "max-conn-lifetime", required_argument, NULL, O_CONNLIFE },
		{ "lifetime", required_argument, NULL, O_LIFE },
		{ "ext", required_argument, NULL, O_EXT },
		{ "max-size", required_argument, NULL, O_MAXSIZE },
		{ "hostname", required_argument, NULL, O_HOSTNAME },
		{ NULL, 0, NULL, 0 }
	};
	char *c;
	int ch, nth;

	cf.addr = "127.0.0.1";
	cf.hostname = "peer.test";
	cf.conn_lifetime = 300;
	cf.lifetime = 3600;
	while ((ch = getopt_long(argc, argv, "l:p:s:q", lo, NULL)) != -1) {
		switch (ch) {
		case 'l': cf.addr = optarg; break;
		case 'p': cf.port = optarg; break;
		case 's': cf.spool = optarg; break;
		case 'q': cf.quiet = 1; break;
		case O_STARTTLS: cf.starttls = 1; break;
		case O_SMTPS: cf.smtps = 1; break;
		case O_REQTLS: cf.require_tls = 1; break;
		case O_CERT: cf.cert = optarg; break;
		case O_KEY: cf.key = optarg; break;
		case O_CLIENTCA: cf.clientca = optarg; break;
		case O_AUTH:
			if ((c = strchr(optarg, ':')) == NULL)
				die("--auth wants user:pass");
			cf.auth_user = strndup(optarg, c - optarg);
			cf.auth_pass = xstrdup(c + 1);
			break;
		case O_REPLY: opt_reply(optarg); break;
		case O_REPLYCONNS: cf.reply_conns = atoi(optarg); break;
		case O_DROP: cf.drop_mid_data = 1; break;
		case O_SLOW:
			cf.slow_ms = atoi(optarg);
			if ((c = strchr(optarg, ':')) != NULL &&
			    step_parse(c + 1, cf.slow_step,
			    sizeof(cf.slow_step), &nth) == -1)
				die("--slow %s: unknown step", optarg);
			break;
		case O_HOSTILE: opt_hostile(optarg); break;
		case O_NOEHLO: cf.no_ehlo = 1; break;
		case O_NOPIPE: cf.no_pipelining = 1; break;
		case O_PIDFILE: cf.pidfile = optarg; break;
		case O_CONNLOG: cf.connlog = optarg; break;
		case O_NOREC: cf.no_record = 1; break;
		case O_COUNT: cf.count_only = 1; break;
		case O_CONNLIFE: cf.conn_lifetime = atol(optarg); break;
		case O_LIFE: cf.lifetime = atol(optarg); break;
		case O_EXT:
			if (cf.next == 16)
				die("too many --ext");
			cf.ext[cf.next++] = optarg;
			break;
		case O_MAXSIZE: cf.max_size = atol(optarg); break;
		case O_HOSTNAME: cf.hostname = optarg; break;
		default: usage();
		}
	}
	if (cf.port == NULL || optind != argc)
		usage();
	if (cf.conn_lifetime <= 0 || cf.lifetime <= 0)
		die("lifetimes must be positive");
	if (cf.spool && mkdir(cf.spool, 0755) == -1 && errno != EEXIST)
		die("mkdir %s: %s", cf.spool, strerror(errno));
}

int
main(int argc, char **argv)
{
	pid_t children[PEER_MAXCHILD], pid;
	struct sockaddr_storage ss;
	struct sigaction sa;
	struct pollfd pfd;
	socklen_t sl;
	unsigned long conn = 0;
	time_t end;
	int lfd, fd, nchild = 0, i, status;
	FILE *fp;
	char addr[INET6_ADDRSTRLEN];

	opts(argc, argv);
	tls_setup();
	lfd = listen_on();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (cf.pidfile) {
		if ((fp = fopen(cf.pidfile, "w")) == NULL)
			die("%s: %s", cf.pidfile, strerror(errno));
		fprintf(fp, "%ld\n", (long)getpid());
		fclose(fp);
	}
	if (!cf.quiet)
		fprintf(stderr, "smtp-peer: pid=%ld listening=%s:%s\n",
		    (long)getpid(), cf.addr, cf.port);

	end = time(NULL) + cf.lifetime;
	pfd.fd = lfd;
	pfd.events = POLLIN;
	while (!got_term && time(NULL) < end) {
		/* Reap finished sessions. */
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			for (i = 0; i < nchild; i++)
				if (children[i] == pid) {
					children[i] = children[--nchild];
					break;
				}
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		sl = sizeof(ss);
		if ((fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
		    SOCK_CLOEXEC)) == -1)
			continue;
		conn++;
		getnameinfo((struct sockaddr *)&ss, sl, addr, sizeof(addr),
		    NULL, 0, NI_NUMERICHOST);
		connlog("connect conn=%lu addr=%s port=%d time=%lld", conn,
		    addr, ntohs(ss.ss_family == AF_INET ?
		    ((struct sockaddr_in *)&ss)->sin_port :
		    ((struct sockaddr_in6 *)&ss)->sin6_port),
		    (long long)time(NULL));
		if (nchild == PEER_MAXCHILD) {
			(void)write(fd, "421 4.3.2 too busy\r\n", 20);
			close(fd);
			continue;
		}
		if ((pid = fork()) == -1) {
			close(fd);
			continue;
		}
		if (pid == 0) {
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			close(lfd);
			session(fd, conn, &ss);
			_exit(0);
		}
		children[nchild++] = pid;
		close(fd);
	}
	close(lfd);
	for (i = 0; i < nchild; i++)
		kill(children[i], SIGTERM);
	/* Bounded wait for the sessions: 2 s, then SIGKILL. */
	for (i = 0; i < 20 && waitpid(-1, &status, WNOHANG) >= 0; i++)
		usleep(100000);
	for (i = 0; i < nchild; i++)
		kill(children[i], SIGKILL);
	while (waitpid(-1, &status, 0) > 0)
		;
	if (cf.pidfile)
		unlink(cf.pidfile);
	return 0;
}
