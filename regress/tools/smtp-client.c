/*
 * smtp-client: runs a scripted SMTP conversation for the regression tests
 * and checks every reply code.  Script steps run in command-line order;
 * what is sent and received is printed ("C: " / "S: ").  Exit 0 when
 * every expectation held, 1 when one failed, 2 on usage or setup errors.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tls.h>

#define CL_MAXLINE	(1024 * 1024)
#define CL_MAXLINES	1000

struct step {
	int		 op;
	const char	*arg;
};

static struct {
	const char	*host, *port, *src, *ca, *cert, *key, *servername;
	int		 smtps, noverify, timeout, quiet;
} cf;

static int		 fd = -1;
static struct tls	*tls;
static char		*ibuf;
static size_t		 ilen, icap;
static char		*last;		/* text of the last reply */
static size_t		 lastlen;

static void usage(void) __attribute__((noreturn));
static void fail(int, const char *, ...)
    __attribute__((noreturn, format(printf, 2, 3)));

static void
usage(void)
{
	fprintf(stderr, "usage: smtp-client [-h host] -p port [-b srcaddr] "
	    "[-t sec] [-q] [--smtps]\n"
	    "\t[--ca file] [--cert file --key file] [--servername name] "
	    "[--no-verify]\n"
	    "\tstep...\n"
	    "steps: -s line | -r bytes | -m body | -D file | -e code | "
	    "-x text | -l nlines\n"
	    "\t-T (start TLS) | -F (TLS must fail) | -c (expect close) | "
	    "-w ms\n");
	exit(2);
}

static void
fail(int code, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	fprintf(stderr, "smtp-client: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(code);
}

/* Print a protocol line with control bytes made visible. */
static void
show(const char *tag, const char *p, size_t len)
{
	size_t i;

	if (cf.quiet)
		return;
	fputs(tag, stdout);
	for (i = 0; i < len && i < 4096; i++) {
		unsigned char c = p[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			putchar(c);
		else if (c == '\r' && i == len - 2 && p[i + 1] == '\n')
			;
		else if (c == '\n' && i == len - 1 && i > 0 && p[i - 1] == '\r')
			;
		else
			printf("\\x%02x", c);
	}
	if (i < len)
		printf("...(%zu bytes)", len);
	putchar('\n');
}

/* Decode C-style escapes (\r \n \t \0 \\ \xHH) into a new buffer. */
static char *
unescape(const char *s, size_t *outlen)
{
	char *out, *o;
	unsigned int v;

	if ((out = malloc(strlen(s) + 1)) == NULL)
		fail(2, "out of memory");
	for (o = out; *s; s++) {
		if (*s != '\\' || s[1] == '\0') {
			*o++ = *s;
			continue;
		}
		switch (*++s) {
		case 'r': *o++ = '\r'; break;
		case 'n': *o++ = '\n'; break;
		case 't': *o++ = '\t'; break;
		case '0': *o++ = '\0'; break;
		case 'x':
			if (sscanf(s + 1, "%2x", &v) != 1)
				fail(2, "bad \\x escape");
			*o++ = v;
			s += 2;
			break;
		default: *o++ = *s; break;
		}
	}
	*outlen = o - out;
	return out;
}

static void
wait_io(short ev)
{
	struct pollfd pfd = { fd, ev, 0 };
	int r;

	while ((r = poll(&pfd, 1, cf.timeout * 1000)) == -1 && errno == EINTR)
		;
	if (r == 0)
		fail(1, "timeout after %d s waiting for the server", cf.timeout);
	if (r == -1)
		fail(2, "poll: %s", strerror(errno));
}

static void
write_out(const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if (tls) {
			n = tls_write(tls, p, len);
			if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT) {
				wait_io(n == TLS_WANT_POLLIN ? POLLIN : POLLOUT);
				continue;
			}
			if (n == -1)
				fail(1, "tls_write: %s", tls_error(tls));
		} else {
			n = write(fd, p, len);
			if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
				wait_io(POLLOUT);
				continue;
			}
			if (n == -1)
				fail(1, "write: %s", strerror(errno));
		}
		p += n;
		len -= n;
	}
}

/*
 * Output is gathered per step and leaves in one write: a line and its
 * CRLF, or a body and its final dot, never in separate segments.
 */
static char *obuf;
static size_t olen, ocap;

static void
send_bytes(const char *p, size_t len)
{
	if (olen + len > ocap) {
		while (olen + len > ocap)
			ocap = ocap ? ocap * 2 : 16384;
		if ((obuf = realloc(obuf, ocap)) == NULL)
			fail(2, "out of memory");
	}
	memcpy(obuf + olen, p, len);
	olen += len;
}

static void
flush_out(void)
{
	if (olen > 0)
		write_out(obuf, olen);
	olen = 0;
}

/* Read more bytes; returns 0 at EOF. */
static int
fill(void)
{
	ssize_t n;

	if (icap - ilen < 8192) {
		icap = icap ? icap * 2 : 16384;
		if ((ibuf = realloc(ibuf, icap)) == NULL)
			fail(2, "out of memory");
	}
	for (;;) {
		if (tls) {
			n = tls_read(tls, ibuf + ilen, icap - ilen);
			if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT) {
				wait_io(n == TLS_WANT_POLLIN ? POLLIN : POLLOUT);
				continue;
			}
			if (n == -1)
				return 0;
		} else {
			n = read(fd, ibuf + ilen, icap - ilen);
			if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
				wait_io(POLLIN);
				continue;
			}
			if (n == -1)
				return 0;
		}
		ilen += n;
		return n > 0;
	}
}

/* One line off the input, terminator included; 0 at EOF. */
static size_t
read_line(char **line)
{
	char *nl = NULL;
	size_t n;

	while (ilen == 0 || (nl = memchr(ibuf, '\n', ilen)) == NULL) {
		if (ilen > CL_MAXLINE)
			fail(1, "reply line longer than %d bytes", CL_MAXLINE);
		if (!fill())
			return 0;
	}
	n = nl - ibuf + 1;
	free(*line);
	if ((*line = malloc(n + 1)) == NULL)
		fail(2, "out of memory");
	memcpy(*line, ibuf, n);
	(*line)[n] = '\0';
	memmove(ibuf, ibuf + n, ilen - n);
	ilen -= n;
	return n;
}

/* Does a 3-digit code match a pattern like 250, 2xx or 45x? */
static int
code_match(const char *pat, const char *code)
{
	int i;

	for (i = 0; i < 3; i++)
		if (pat[i] != 'x' && pat[i] != 'X' && pat[i] != code[i])
			return 0;
	return pat[3] == '\0';
}

/* Read one whole (possibly multi-line) reply and check its code. */
static void
expect(const char *pat)
{
	char *line = NULL, code[4] = "";
	size_t n, nlines = 0;

	lastlen = 0;
	for (;;) {
		if ((n = read_line(&line)) == 0)
			fail(1, "expected %s, got end of connection", pat);
		show("S: ", line, n);
		if (n < 4 || line[0] < '2' || line[0] > '5' ||
		    line[1] < '0' || line[1] > '9' || line[2] < '0' ||
		    line[2] > '9' || (line[3] != ' ' && line[3] != '-' &&
		    line[3] != '\r' && line[3] != '\n'))
			fail(1, "expected %s, got a malformed reply line", pat);
		if (code[0] == '\0')
			memcpy(code, line, 3);
		else if (memcmp(code, line, 3) != 0)
			fail(1, "expected %s, got a multi-line reply mixing "
			    "codes %s and %.3s", pat, code, line);
		if ((last = realloc(last, lastlen + n + 1)) == NULL)
			fail(2, "out of memory");
		memcpy(last + lastlen, line, n);
		lastlen += n;
		last[lastlen] = '\0';
		if (line[3] != '-')
			break;
		if (++nlines > CL_MAXLINES)
			fail(1, "expected %s, got a reply of more than %d "
			    "lines", pat, CL_MAXLINES);
	}
	free(line);
	if (!code_match(pat, code))
		fail(1, "expected %s, got %s", pat, code);
}

static void
raw_lines(int count)
{
	char *line = NULL;
	size_t n;
	int i;

	for (i = 0; i < count; i++) {
		if ((n = read_line(&line)) == 0)
			fail(1, "end of connection after %d lines", i);
		show("S: ", line, n);
	}
	free(line);
}

static void
expect_close(void)
{
	char *line = NULL;
	size_t n;

	while ((n = read_line(&line)) != 0)
		show("S: ", line, n);
	free(line);
	if (!cf.quiet)
		printf("closed\n");
}

/*
 * Send a body dot-stuffed with CR LF line ends (a bare LF becomes CR LF),
 * then the final dot.  Raw bytes go through -r instead.
 */
static void
send_body(const char *p, size_t len)
{
	const char *end = p + len, *q;
	size_t n;

	while (p < end) {
		q = memchr(p, '\n', end - p);
		n = q ? (size_t)(q - p) : (size_t)(end - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (*p == '.')
			send_bytes(".", 1);
		send_bytes(p, n);
		send_bytes("\r\n", 2);
		p = q ? q + 1 : end;
	}
	send_bytes(".\r\n", 3);
	if (!cf.quiet)
		printf("C: <body %zu bytes>\nC: .\n", len);
}

static void
send_file(const char *path)
{
	char *data = NULL;
	size_t len = 0, n;
	char chunk[65536];
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL)
		fail(2, "%s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if ((data = realloc(data, len + n)) == NULL)
			fail(2, "out of memory");
		memcpy(data + len, chunk, n);
		len += n;
	}
	fclose(fp);
	send_body(data, len);
	free(data);
}

static void
start_tls(int mustfail)
{
	struct tls_config *tc;
	int r;

	if ((tc = tls_config_new()) == NULL || (tls = tls_client()) == NULL)
		fail(2, "tls setup");
	tls_config_set_protocols(tc, TLS_PROTOCOLS_ALL);
	if (cf.ca && tls_config_set_ca_file(tc, cf.ca) == -1)
		fail(2, "ca %s: %s", cf.ca, tls_config_error(tc));
	if (cf.noverify) {
		tls_config_insecure_noverifycert(tc);
		tls_config_insecure_noverifyname(tc);
	}
	if (cf.cert && tls_config_set_keypair_file(tc, cf.cert,
	    cf.key ? cf.key : cf.cert) == -1)
		fail(2, "cert %s: %s", cf.cert, tls_config_error(tc));
	if (tls_configure(tls, tc) == -1)
		fail(2, "tls_configure: %s", tls_error(tls));
	if (ilen > 0)
		fail(1, "server sent %zu bytes before the TLS handshake", ilen);
	if (tls_connect_socket(tls, fd, cf.servername ? cf.servername :
	    cf.host) == -1)
		fail(2, "tls_connect_socket: %s", tls_error(tls));
	while ((r = tls_handshake(tls)) == TLS_WANT_POLLIN ||
	    r == TLS_WANT_POLLOUT)
		wait_io(r == TLS_WANT_POLLIN ? POLLIN : POLLOUT);
	if (r == -1) {
		if (!cf.quiet)
			printf("TLS: handshake failed: %s\n", tls_error(tls));
		if (mustfail)
			exit(0);
		fail(1, "TLS handshake: %s", tls_error(tls));
	}
	if (mustfail)
		fail(1, "TLS handshake succeeded but should have failed");
	if (!cf.quiet)
		printf("TLS: %s %s\n", tls_conn_version(tls),
		    tls_conn_cipher(tls));
}

static void
do_connect(void)
{
	struct addrinfo hints, *res, *ai, *sres;
	int e, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(cf.host, cf.port, &hints, &res)) != 0)
		fail(2, "%s: %s", cf.host, gai_strerror(e));
	for (ai = res; ai; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, SOCK_STREAM, 0)) == -1)
			continue;
		if (cf.src) {
			hints.ai_flags = AI_NUMERICHOST;
			hints.ai_family = ai->ai_family;
			if (getaddrinfo(cf.src, NULL, &hints, &sres) != 0)
				fail(2, "bad source address %s", cf.src);
			if (bind(fd, sres->ai_addr, sres->ai_addrlen) == -1)
				fail(2, "bind %s: %s", cf.src, strerror(errno));
			freeaddrinfo(sres);
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd == -1)
		fail(2, "connect %s port %s: %s", cf.host, cf.port,
		    strerror(errno));
	freeaddrinfo(res);
	/* Steps are whole writes: no Nagle wait behind a delayed ACK. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
		fail(2, "fcntl: %s", strerror(errno));
}

int
main(int argc, char **argv)
{
	enum { O_SMTPS = 256, O_CA, O_CERT, O_KEY, O_SNI, O_NOVERIFY };
	static struct option lo[] = {
		{ "smtps", no_argument, NULL, O_SMTPS },
		{ "ca", required_argument, NULL, O_CA },
		{ "cert", required_argument, NULL, O_CERT },
		{ "key", required_argument, NULL, O_KEY },
		{ "servername", required_argument, NULL, O_SNI },
		{ "no-verify", no_argument, NULL, O_NOVERIFY },
		{ NULL, 0, NULL, 0 }
	};
	struct step *steps;
	int nsteps = 0, ch, i;
	char *data;
	size_t len;

	if ((steps = calloc(argc, sizeof(*steps))) == NULL)
		return 2;
	cf.host = "127.0.0.1";
	cf.timeout = 10;
	while ((ch = getopt_long(argc, argv, "+h:p:b:t:qs:r:m:D:e:x:l:TFcw:",
	    lo, NULL)) != -1) {
		switch (ch) {
		case 'h': cf.host = optarg; break;
		case 'p': cf.port = optarg; break;
		case 'b': cf.src = optarg; break;
		case 't': cf.timeout = atoi(optarg); break;
		case 'q': cf.quiet = 1; break;
		case O_SMTPS: cf.smtps = 1; break;
		case O_CA: cf.ca = optarg; break;
		case O_CERT: cf.cert = optarg; break;
		case O_KEY: cf.key = optarg; break;
		case O_SNI: cf.servername = optarg; break;
		case O_NOVERIFY: cf.noverify = 1; break;
		case 's': case 'r': case 'm': case 'D': case 'e': case 'x':
		case 'l': case 'T': case 'F': case 'c': case 'w':
			steps[nsteps].op = ch;
			steps[nsteps++].arg = optarg;
			break;
		default:
			usage();
		}
	}
	if (cf.port == NULL || optind != argc || cf.timeout <= 0)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	do_connect();
	if (cf.smtps)
		start_tls(0);
	for (i = 0; i < nsteps; i++) {
		const char *a = steps[i].arg;

		flush_out();
		switch (steps[i].op) {
		case 's':
			show("C: ", a, strlen(a));
			send_bytes(a, strlen(a));
			send_bytes("\r\n", 2);
			break;
		case 'r':
			data = unescape(a, &len);
			show("C: ", data, len);
			send_bytes(data, len);
			free(data);
			break;
		case 'm':
			data = unescape(a, &len);
			send_body(data, len);
			free(data);
			break;
		case 'D':
			send_file(a);
			break;
		case 'e':
			expect(a);
			break;
		case 'x':
			if (last == NULL || strstr(last, a) == NULL)
				fail(1, "last reply does not contain \"%s\"",
				    a);
			break;
		case 'l':
			raw_lines(atoi(a));
			break;
		case 'T':
		case 'F':
			if (tls)
				fail(2, "TLS already started");
			start_tls(steps[i].op == 'F');
			break;
		case 'c':
			expect_close();
			break;
		case 'w':
			usleep(atoi(a) * 1000);
			break;
		}
	}
	flush_out();
	if (tls)
		(void)tls_close(tls);
	close(fd);
	return 0;
}
