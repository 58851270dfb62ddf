/*
 * The SMTP side of sendmail(8): the dialog with the daemon's smtp process
 * over the stream the control socket handed us (a `from local` session),
 * and the -bs relay between stdin/stdout and that stream.  Blocking I/O
 * with a timeout on every read; the result is a sysexits(3) code.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "sendmail.h"

#define SM_TIMEOUT_MS	(300 * 1000)
#define SM_REPLY_MAX	(64 * 1024)

struct sm_conn {
	int		 fd;
	struct buf	 in;
	FILE		*trace;
	char		 last[512];	/* last reply line */
	int		 ext_8bit, ext_dsn, ext_utf8;
};

static int
sm_write(struct sm_conn *c, const char *p, size_t len)
{
	ssize_t	 n;
	struct pollfd pfd = { c->fd, POLLOUT, 0 };

	while (len > 0) {
		if (poll(&pfd, 1, SM_TIMEOUT_MS) <= 0)
			return -1;
		if ((n = write(c->fd, p, len)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
sm_cmd(struct sm_conn *c, const char *line)
{
	if (c->trace)
		fprintf(c->trace, ">>> %s\n", line);
	if (sm_write(c, line, strlen(line)) == -1 || sm_write(c, "\r\n", 2))
		return -1;
	return 0;
}

/*
 * Read one (possibly multi-line) reply; returns the code, -1 on a lost
 * or malformed connection.  each, if set, is called for every line.
 */
static int
sm_reply(struct sm_conn *c, void (*each)(struct sm_conn *, const char *))
{
	struct pollfd	 pfd = { c->fd, POLLIN, 0 };
	char		 tmp[4096], *nl, *line;
	ssize_t		 n;
	size_t		 ll;
	int		 code = -1;

	for (;;) {
		while ((nl = memchr(c->in.data ? c->in.data : "", '\n',
		    c->in.len)) == NULL) {
			if (c->in.len > SM_REPLY_MAX)
				return -1;
			if (poll(&pfd, 1, SM_TIMEOUT_MS) <= 0)
				return -1;
			if ((n = read(c->fd, tmp, sizeof(tmp))) == -1) {
				if (errno == EINTR || errno == EAGAIN)
					continue;
				return -1;
			}
			if (n == 0)
				return -1;
			buf_add(&c->in, tmp, (size_t)n);
		}
		ll = (size_t)(nl - c->in.data);
		if ((line = strndup(c->in.data, ll)) == NULL)
			return -1;
		buf_consume(&c->in, ll + 1);
		if (ll > 0 && line[ll - 1] == '\r')
			line[--ll] = '\0';
		if (c->trace)
			fprintf(c->trace, "<<< %s\n", line);
		if (ll < 3 || line[0] < '2' || line[0] > '5' ||
		    line[1] < '0' || line[1] > '9' || line[2] < '0' ||
		    line[2] > '9' || (ll > 3 && line[3] != ' ' &&
		    line[3] != '-')) {
			free(line);
			return -1;
		}
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 +
		    (line[2] - '0');
		strlcpy(c->last, line, sizeof(c->last));
		if (each)
			each(c, ll > 4 ? line + 4 : "");
		if (ll == 3 || line[3] == ' ') {
			free(line);
			return code;
		}
		free(line);
	}
}

static void
sm_on_ehlo_line(struct sm_conn *c, const char *kw)
{
	if (strncasecmp(kw, "8BITMIME", 8) == 0)
		c->ext_8bit = 1;
	else if (strncasecmp(kw, "DSN", 3) == 0 && (kw[3] == '\0' ||
	    kw[3] == ' '))
		c->ext_dsn = 1;
	else if (strncasecmp(kw, "SMTPUTF8", 8) == 0)
		c->ext_utf8 = 1;
}

/* xtext (RFC 3461) of s. */
static void
sm_xtext(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s < 33 || *s > 126 || *s == '+' || *s == '=')
			buf_printf(b, "+%02X", (unsigned char)*s);
		else
			buf_addc(b, *s);
	}
}

static int
sm_fail(struct sm_conn *c, char *err, size_t errlen, const char *what,
    int code)
{
	if (code == -1) {
		snprintf(err, errlen, "%s: connection to the daemon lost",
		    what);
		return EX_TEMPFAIL;
	}
	snprintf(err, errlen, "%s: %s", what, c->last);
	return code >= 500 ? EX_UNAVAILABLE : EX_TEMPFAIL;
}

int
sm_smtp_send(int fd, const struct sm_job *j, FILE *trace, char *err,
    size_t errlen)
{
	struct sm_conn	 c;
	struct buf	 cmd;
	const char	*p, *end, *eol;
	size_t		 i, accepted = 0;
	int		 code, ret = EX_OK, permfail = 0;

	memset(&c, 0, sizeof(c));
	c.fd = fd;
	c.trace = trace;
	buf_init(&c.in);
	buf_init(&cmd);
	err[0] = '\0';

	if ((code = sm_reply(&c, NULL)) != 220) {
		ret = sm_fail(&c, err, errlen, "greeting", code);
		goto done;
	}
	if ((sm_cmd(&c, "EHLO localhost") == -1) ||
	    (code = sm_reply(&c, sm_on_ehlo_line)) != 250) {
		ret = sm_fail(&c, err, errlen, "EHLO", code);
		goto done;
	}

	buf_printf(&cmd, "MAIL FROM:<%s>", j->sender);
	if (j->body[0] && c.ext_8bit)
		buf_printf(&cmd, " BODY=%s", j->body);
	if (c.ext_dsn && j->ret[0])
		buf_printf(&cmd, " RET=%s", j->ret);
	if (c.ext_dsn && j->envid) {
		buf_addstr(&cmd, " ENVID=");
		sm_xtext(&cmd, j->envid);
	}
	if (sm_cmd(&c, buf_cstr(&cmd)) == -1 ||
	    (code = sm_reply(&c, NULL)) != 250) {
		ret = sm_fail(&c, err, errlen, "MAIL FROM", code);
		if (code == 501 || code == 553)
			ret = EX_DATAERR;
		else if (code >= 500)
			ret = EX_NOPERM;
		goto done;
	}

	for (i = 0; i < j->nrcpts; i++) {
		buf_reset(&cmd);
		buf_printf(&cmd, "RCPT TO:<%s>", j->rcpts[i]);
		if (c.ext_dsn && j->notify[0])
			buf_printf(&cmd, " NOTIFY=%s", j->notify);
		if (sm_cmd(&c, buf_cstr(&cmd)) == -1 ||
		    (code = sm_reply(&c, NULL)) == -1) {
			ret = sm_fail(&c, err, errlen, "RCPT TO", -1);
			goto done;
		}
		if (code / 100 == 2) {
			accepted++;
			continue;
		}
		fprintf(stderr, "sendmail: %s: %s\n", j->rcpts[i], c.last);
		if (code >= 500)
			permfail++;
	}
	if (accepted == 0) {
		snprintf(err, errlen, "no recipient accepted: %s", c.last);
		ret = permfail ? EX_NOUSER : EX_TEMPFAIL;
		goto done;
	}

	if (sm_cmd(&c, "DATA") == -1 || (code = sm_reply(&c, NULL)) != 354) {
		ret = sm_fail(&c, err, errlen, "DATA", code);
		goto done;
	}
	/* The message, dot-stuffed, CRLF line ends. */
	buf_reset(&cmd);
	p = j->msg.data ? j->msg.data : "";
	end = p + j->msg.len;
	while (p < end) {
		eol = memchr(p, '\n', end - p);
		if (eol == NULL)
			eol = end;
		if (*p == '.')
			buf_addc(&cmd, '.');
		buf_add(&cmd, p, eol - p);
		buf_addstr(&cmd, "\r\n");
		p = eol + 1;
		if (cmd.len > 65536 || p >= end) {
			if (sm_write(&c, cmd.data, cmd.len) == -1) {
				ret = sm_fail(&c, err, errlen, "DATA", -1);
				goto done;
			}
			buf_reset(&cmd);
		}
	}
	if (trace)
		fprintf(trace, ">>> (%zu bytes of message)\n", j->msg.len);
	if (sm_cmd(&c, ".") == -1 || (code = sm_reply(&c, NULL)) != 250) {
		ret = sm_fail(&c, err, errlen, "end of DATA", code);
		if (code >= 500)
			ret = EX_DATAERR;
		goto done;
	}
	if (permfail)
		snprintf(err, errlen, "some recipients were refused");
	sm_cmd(&c, "QUIT");
	sm_reply(&c, NULL);
done:
	buf_free(&c.in);
	buf_free(&cmd);
	return ret;
}

int
sm_smtp_relay(int fd)
{
	struct pollfd	 pfd[2];
	char		 b[8192];
	ssize_t		 n;
	int		 in_open = 1;

	pfd[0].fd = STDIN_FILENO;
	pfd[1].fd = fd;
	for (;;) {
		pfd[0].events = in_open ? POLLIN : 0;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, SM_TIMEOUT_MS) <= 0)
			return EX_TEMPFAIL;
		if (pfd[0].revents & (POLLIN | POLLHUP)) {
			if ((n = read(STDIN_FILENO, b, sizeof(b))) <= 0) {
				in_open = 0;
				shutdown(fd, SHUT_WR);
			} else if (write(fd, b, (size_t)n) != n)
				return EX_IOERR;
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			if ((n = read(fd, b, sizeof(b))) <= 0)
				return EX_OK;
			if (write(STDOUT_FILENO, b, (size_t)n) != n)
				return EX_IOERR;
		}
	}
}
