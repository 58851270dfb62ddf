/*
 * The outbound SMTP session: one connection to one hop, as an explicit
 * state machine (enum mta_state, one reply handler).  Setup: connect
 * (bind src first), greeting, EHLO/HELO, STARTTLS per the hop's TLS mode,
 * AUTH PLAIN/LOGIN inside TLS only.  Then transactions handed over by the
 * connector (mta_route.c): MAIL with SIZE/BODY/SMTPUTF8/DSN, RCPTs
 * (pipelined when offered), DATA with dot-stuffing, per recipient
 * results.  Failures are reported to the connector or the task, which
 * decide about failover; every wait is bounded by a timer.
 */
#include <sys/types.h>

#include <errno.h>
#include <event.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mta.h"
#include "mta_io.h"
#include "mta_reply.h"

#define BODY_CHUNK	16384
#define BODY_HIWAT	65536

enum mta_state {
	S_CONNECT,
	S_TLS_HANDSHAKE,
	S_BANNER,
	S_EHLO,
	S_HELO,
	S_STARTTLS,
	S_AUTH_PLAIN,
	S_AUTH_LOGIN,
	S_AUTH_USER,
	S_AUTH_PASS,
	S_READY,
	S_MAIL,
	S_RCPT,
	S_DATA,
	S_BODY,
	S_EOM,
	S_RSET,
	S_QUIT,
	S_DEAD
};

static const char *state_names[] = {
	"CONNECT", "TLS_HANDSHAKE", "BANNER", "EHLO", "HELO", "STARTTLS",
	"AUTH_PLAIN", "AUTH_LOGIN", "AUTH_USER", "AUTH_PASS", "READY",
	"MAIL", "RCPT", "DATA", "BODY", "EOM", "RSET", "QUIT", "DEAD"
};

struct mta_session {
	uint64_t		 id;
	struct mta_connector	*conn;
	struct route_hop	 hop;
	int			 plain;		/* opportunistic fallback */
	struct mta_io		 io;
	enum mta_state		 state;
	struct mta_reply	 reply;
	unsigned		 ext;
	uint64_t		 maxsize;
	int			 tls;		/* TLS is up */
	int			 setup_done;
	unsigned		 msgcount;
	struct event		 timer;
	char			 pending_err[256];	/* connect failed */
	int			 busy;		/* inside a callback */
	int			 zombie;	/* freed while busy */

	/* the transaction */
	struct mta_task		*task;
	size_t			*sent;		/* rcpt indexes, in order */
	size_t			 nsent;
	size_t			 nreplied;
	size_t			 naccepted;
	int			 pipelining;
	int			 mail_code;	/* != 0: MAIL refused */
	char			 mail_line[512];
	off_t			 body_off;
	int			 bol;
	int			 prev_cr;
};

static void	s_on_io(struct mta_io *, enum mta_io_event, void *);
static void	s_on_timer(int, short, void *);
static void	s_fail(struct mta_session *, const char *, int);
static void	s_ready(struct mta_session *);
static void	s_send_rcpt(struct mta_session *, size_t);

static void
s_state(struct mta_session *s, enum mta_state st)
{
	log_debug("mta session=%016" PRIx64 " state %s -> %s", s->id,
	    state_names[s->state], state_names[st]);
	s->state = st;
}

static void
s_timer(struct mta_session *s, int secs)
{
	struct timeval	 tv;

	evtimer_del(&s->timer);
	if (secs < 0)
		return;
	tv.tv_sec = secs;
	tv.tv_usec = 0;
	evtimer_add(&s->timer, &tv);
}

/* Release a session; while a callback runs on it, only mark it. */
static void
s_free(struct mta_session *s)
{
	evtimer_del(&s->timer);
	mta_io_close(&s->io);
	mta_reply_free(&s->reply);
	free(s->sent);
	s->sent = NULL;
	if (s->busy) {
		s->zombie = 1;
		return;
	}
	free(s);
}

static void
s_enter(struct mta_session *s)
{
	s->busy++;
}

/* 1 if the session was freed inside the callback. */
static int
s_leave(struct mta_session *s)
{
	if (--s->busy == 0 && s->zombie) {
		free(s);
		return 1;
	}
	return 0;
}

const char *
mta_session_tlsdesc(struct mta_session *s)
{
	const char	*v;

	if (s->tls && (v = mta_io_tls_version(&s->io)) != NULL)
		return v;
	return "none";
}

struct mta_session *
mta_session_new(struct mta_connector *c)
{
	struct mta_session	*s;
	char			 err[256];

	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal("mta_session_new");
	s->id = mta_newid();
	s->conn = c;
	s->hop = *mta_connector_hop(c);
	s->plain = mta_connector_plain(c);
	mta_reply_init(&s->reply);
	mta_io_init(&s->io, s_on_io, s);
	evtimer_set(&s->timer, s_on_timer, s);
	s->state = S_CONNECT;
	log_debug("mta session=%016" PRIx64 " connecting to %s:%u src=%s",
	    s->id, s->hop.addr, s->hop.port, s->hop.src[0] ? s->hop.src :
	    "any");
	if (mta_io_connect(&s->io, s->hop.addr, s->hop.port, s->hop.src,
	    err, sizeof(err)) == -1) {
		/* report from the loop, not from inside the caller */
		strlcpy(s->pending_err, err, sizeof(s->pending_err));
		s_timer(s, 0);
		return s;
	}
	s_timer(s, mta_timeout_connect());
	return s;
}

/* Every failure ends here: the session is closed and freed. */
static void
s_fail(struct mta_session *s, const char *why, int tls_fallback)
{
	struct mta_task	*task = s->task;
	char		 reason[300];

	strlcpy(reason, why, sizeof(reason));
	log_debug("mta session=%016" PRIx64 " failed in %s: %s", s->id,
	    state_names[s->state], reason);
	s->task = NULL;
	s_state(s, S_DEAD);
	mta_io_close(&s->io);
	if (!s->setup_done) {
		mta_connector_session_failed(s->conn, s, reason,
		    tls_fallback);
	} else {
		if (task != NULL)
			mta_health_fail(s->hop.addr, s->hop.port, s->hop.host,
			    reason);
		mta_connector_session_closed(s->conn, s);
	}
	if (task != NULL)
		mta_task_hop_failed(task, reason, 0);
	s_free(s);
}

/* A normal end (QUIT answered, idle peer gone). */
static void
s_close(struct mta_session *s)
{
	log_debug("mta session=%016" PRIx64 " closed after %u messages",
	    s->id, s->msgcount);
	s_state(s, S_DEAD);
	mta_io_close(&s->io);
	mta_connector_session_closed(s->conn, s);
	s_free(s);
}

static void
s_failf(struct mta_session *s, const char *what, const char *line)
{
	char	 why[600];

	snprintf(why, sizeof(why), "%s: %s", what, line);
	s_fail(s, why, 0);
}

static void
s_cmd(struct mta_session *s, enum mta_state st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
s_cmd(struct mta_session *s, enum mta_state st, const char *fmt, ...)
{
	va_list	 ap;
	char	 line[2048];
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		fatalx("mta: command too long");
	mta_io_add(&s->io, line, (size_t)n);
	mta_io_add(&s->io, "\r\n", 2);
	mta_io_flush(&s->io);
	s_state(s, st);
	s_timer(s, mta_timeout_reply());
}

static void
b64(const unsigned char *in, size_t n, char *out, size_t outlen)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t	 i, o = 0;
	uint32_t v;

	for (i = 0; i < n && o + 5 < outlen; i += 3) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	out[o] = '\0';
}

static void
s_starttls(struct mta_session *s)
{
	struct tls	*ctx;
	char		 err[256];
	int		 verify;

	verify = (s->hop.tls == RELAY_TLS_REQUIRE ||
	    s->hop.tls == RELAY_TLS_SMTPS) && !s->hop.no_verify;
	if ((ctx = mta_tls_client(&s->hop, verify, err, sizeof(err))) ==
	    NULL) {
		s_fail(s, err, 0);
		return;
	}
	/* plaintext sent after the 220 must never be read as TLS-era
	 * replies (STARTTLS command injection) */
	buf_reset(&s->io.in);
	s_state(s, S_TLS_HANDSHAKE);
	if (mta_io_starttls(&s->io, ctx, s->hop.host[0] ? s->hop.host :
	    s->hop.addr) == -1) {
		s_fail(s, s->io.error, s->hop.tls == RELAY_TLS_OPPORTUNISTIC);
		return;
	}
	s_timer(s, mta_timeout_reply());
}

static void
s_setup_done(struct mta_session *s)
{
	s->setup_done = 1;
	log_debug("mta session=%016" PRIx64 " ready to %s:%u tls=%s", s->id,
	    s->hop.addr, s->hop.port, mta_session_tlsdesc(s));
	s_ready(s);
}

static void
s_auth(struct mta_session *s)
{
	char	 raw[2 * ROUTE_CRED_MAX + 2], enc[4 * ROUTE_CRED_MAX];
	size_t	 ul, pl;

	if (s->hop.auth_user[0] == '\0') {
		s_setup_done(s);
		return;
	}
	if (!s->tls) {
		s_fail(s, "AUTH not attempted: no TLS", 0);
		return;
	}
	if (s->ext & MTA_EXT_AUTH_PLAIN) {
		ul = strlen(s->hop.auth_user);
		pl = strlen(s->hop.auth_pass);
		raw[0] = '\0';
		memcpy(raw + 1, s->hop.auth_user, ul);
		raw[ul + 1] = '\0';
		memcpy(raw + ul + 2, s->hop.auth_pass, pl);
		b64((unsigned char *)raw, ul + pl + 2, enc, sizeof(enc));
		explicit_bzero(raw, sizeof(raw));
		s_cmd(s, S_AUTH_PLAIN, "AUTH PLAIN %s", enc);
		explicit_bzero(enc, sizeof(enc));
	} else if (s->ext & MTA_EXT_AUTH_LOGIN)
		s_cmd(s, S_AUTH_LOGIN, "AUTH LOGIN");
	else
		s_fail(s, "AUTH PLAIN or LOGIN not offered", 0);
}

static void
s_after_ehlo(struct mta_session *s)
{
	int	 want;

	if (s->tls) {
		s_auth(s);
		return;
	}
	want = s->hop.tls == RELAY_TLS_REQUIRE ||
	    (s->hop.tls == RELAY_TLS_OPPORTUNISTIC && !s->plain);
	if (want && (s->ext & MTA_EXT_STARTTLS)) {
		s_cmd(s, S_STARTTLS, "STARTTLS");
		return;
	}
	if (s->hop.tls == RELAY_TLS_REQUIRE) {
		s_fail(s, "STARTTLS not offered", 0);
		return;
	}
	s_auth(s);
}

static void
s_ready(struct mta_session *s)
{
	if (s->msgcount >= mta_msg_per_conn()) {
		mta_session_quit(s);
		return;
	}
	s_state(s, S_READY);
	s_timer(s, mta_timeout_idle());
	mta_connector_ready(s->conn, s);
}

void
mta_session_quit(struct mta_session *s)
{
	s_cmd(s, S_QUIT, "QUIT");
	s_timer(s, 10);
}

/* xtext (RFC 3461) of s into out. */
static void
xtext(const char *in, char *out, size_t outlen)
{
	size_t	 o = 0;

	for (; *in && o + 4 < outlen; in++) {
		unsigned char c = (unsigned char)*in;
		if (c < 33 || c > 126 || c == '+' || c == '=')
			o += (size_t)snprintf(out + o, outlen - o, "+%02X", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

#define TXN_READY	0
#define TXN_RSET	1
#define TXN_CLOSE	2	/* server is in DATA: only closing aborts */

/* End of a transaction: results go to the task, the session goes on. */
static void
s_txn_end(struct mta_session *s, int how)
{
	struct mta_task	*task = s->task;

	s->task = NULL;
	if (task != NULL)
		mta_task_done(task, mta_session_tlsdesc(s));
	if (how == TXN_RSET)
		s_cmd(s, S_RSET, "RSET");
	else if (how == TXN_CLOSE)
		s_close(s);
	else
		s_ready(s);
}

/* Set every recipient still waiting in this transaction. */
static void
s_set_rcpts(struct mta_session *s, enum mta_rcpt_status from,
    enum mta_rcpt_status to, const char *line)
{
	struct mta_rcpt	*r;
	size_t		 i;

	for (i = 0; i < s->nsent; i++) {
		r = &s->task->rcpts[s->sent[i]];
		if (r->status != from)
			continue;
		r->status = to;
		strlcpy(r->line, line, sizeof(r->line));
	}
}

static enum mta_rcpt_status
code_status(int code)
{
	if (code / 100 == 2)
		return RCPT_OK;
	if (code / 100 == 5)
		return RCPT_PERMFAIL;
	return RCPT_TEMPFAIL;
}

/* Fail every pending recipient of the task without sending anything. */
static void
s_refuse_all(struct mta_session *s, const char *line)
{
	s_set_rcpts(s, RCPT_PENDING, RCPT_PERMFAIL, line);
	s_txn_end(s, TXN_READY);
}

void
mta_session_assign(struct mta_session *s, struct mta_task *task)
{
	struct buf	 cmd;
	char		 envid[400];
	size_t		 i;
	int		 eightbit;

	s->task = task;
	s->nsent = s->nreplied = s->naccepted = 0;
	s->mail_code = 0;
	free(s->sent);
	if ((s->sent = calloc(task->nrcpts, sizeof(*s->sent))) == NULL)
		fatal("mta_session_assign");
	for (i = 0; i < task->nrcpts; i++)
		if (task->rcpts[i].status == RCPT_PENDING)
			s->sent[s->nsent++] = i;
	s->pipelining = (s->ext & MTA_EXT_PIPELINING) != 0;
	task->remote_dsn = (s->ext & MTA_EXT_DSN) != 0;
	log_debug("mta session=%016" PRIx64 " task=%016" PRIx64
	    " rcpts=%zu", s->id, task->id, s->nsent);

	if ((task->flags & EF_SMTPUTF8) && !(s->ext & MTA_EXT_SMTPUTF8)) {
		s_refuse_all(s, "553 5.6.7 remote server does not support "
		    "SMTPUTF8");
		return;
	}
	eightbit = (task->flags & EF_8BITMIME) != 0;
	if (eightbit && !(s->ext & MTA_EXT_8BITMIME)) {
		/* announced 8-bit, in fact 7-bit: sent as is, no BODY= */
		if (task->body8 == 0) {
			switch (mta_body_7bit(task->fd)) {
			case -1:
				s_set_rcpts(s, RCPT_PENDING, RCPT_TEMPFAIL,
				    "451 4.3.0 cannot read message");
				s_txn_end(s, TXN_READY);
				return;
			case 1:
				task->body8 = 1;
				break;
			default:
				task->body8 = 2;
				break;
			}
		}
		if (task->body8 == 2) {
			s_refuse_all(s, "554 5.6.3 remote server does not "
			    "support 8BITMIME");
			return;
		}
		eightbit = 0;
		log_debug("mta session=%016" PRIx64 " task=%016" PRIx64
		    " 8BITMIME not offered, body is 7-bit: sent as is",
		    s->id, task->id);
	}
	if ((s->ext & MTA_EXT_SIZE) && s->maxsize > 0 &&
	    task->size > s->maxsize) {
		s_refuse_all(s, "552 5.3.4 message too big for remote server");
		return;
	}
	buf_init(&cmd);
	buf_printf(&cmd, "MAIL FROM:<%s>", task->sender);
	if (s->ext & MTA_EXT_SIZE)
		buf_printf(&cmd, " SIZE=%" PRIu64, task->size);
	if (eightbit)
		buf_addstr(&cmd, " BODY=8BITMIME");
	if (task->flags & EF_SMTPUTF8)
		buf_addstr(&cmd, " SMTPUTF8");
	if (s->ext & MTA_EXT_DSN) {
		if (task->dsn_ret == DSN_RET_FULL)
			buf_addstr(&cmd, " RET=FULL");
		else if (task->dsn_ret == DSN_RET_HDRS)
			buf_addstr(&cmd, " RET=HDRS");
		if (task->dsn_envid[0]) {
			xtext(task->dsn_envid, envid, sizeof(envid));
			buf_printf(&cmd, " ENVID=%s", envid);
		}
	}
	if (s->pipelining) {
		/* MAIL, every RCPT and DATA leave in one write */
		mta_io_add(&s->io, cmd.data, cmd.len);
		mta_io_add(&s->io, "\r\n", 2);
		for (i = 0; i < s->nsent; i++)
			s_send_rcpt(s, i);
		s_cmd(s, S_MAIL, "DATA");
	} else
		s_cmd(s, S_MAIL, "%s", cmd.data);
	buf_free(&cmd);
}

/* Queue the RCPT of the k-th sent recipient (not flushed). */
static void
s_send_rcpt(struct mta_session *s, size_t k)
{
	struct mta_rcpt	*r = &s->task->rcpts[s->sent[k]];
	char		 orcpt[ADDR_MAX * 3 + 16];
	const char	*semi;

	mta_io_printf(&s->io, "RCPT TO:<%s>", r->addr);
	if (s->ext & MTA_EXT_DSN) {
		if (r->dsn_notify & DSN_NOTIFY_NEVER)
			mta_io_printf(&s->io, " NOTIFY=NEVER");
		else if (r->dsn_notify)
			mta_io_printf(&s->io, " NOTIFY=%s%s%s%s%s",
			    (r->dsn_notify & DSN_NOTIFY_SUCCESS) ?
			    "SUCCESS" : "",
			    (r->dsn_notify & DSN_NOTIFY_SUCCESS) &&
			    (r->dsn_notify & (DSN_NOTIFY_FAILURE |
			    DSN_NOTIFY_DELAY)) ? "," : "",
			    (r->dsn_notify & DSN_NOTIFY_FAILURE) ?
			    "FAILURE" : "",
			    (r->dsn_notify & DSN_NOTIFY_FAILURE) &&
			    (r->dsn_notify & DSN_NOTIFY_DELAY) ? "," : "",
			    (r->dsn_notify & DSN_NOTIFY_DELAY) ? "DELAY" : "");
		if (r->orcpt[0] && (semi = strchr(r->orcpt, ';')) != NULL) {
			xtext(semi + 1, orcpt, sizeof(orcpt));
			mta_io_printf(&s->io, " ORCPT=%.*s;%s",
			    (int)(semi - r->orcpt), r->orcpt, orcpt);
		}
	}
	mta_io_add(&s->io, "\r\n", 2);
}

/* MAIL was refused: 4xx moves the task to its next hop, 5xx bounces.
 * The caller decides what happens to the session. */
static void
s_mail_refused(struct mta_session *s)
{
	struct mta_task	*task = s->task;
	struct mta_rcpt	*r;
	char		 why[600];
	size_t		 i;

	s->task = NULL;
	for (i = 0; i < s->nsent; i++) {
		r = &task->rcpts[s->sent[i]];
		if (r->reported)
			continue;
		if (s->mail_code / 100 == 5) {
			r->status = RCPT_PERMFAIL;
			strlcpy(r->line, s->mail_line, sizeof(r->line));
		} else
			r->status = RCPT_PENDING;
	}
	if (s->mail_code / 100 == 5) {
		mta_task_done(task, mta_session_tlsdesc(s));
		return;
	}
	snprintf(why, sizeof(why), "MAIL: %s", s->mail_line);
	mta_health_fail(s->hop.addr, s->hop.port, s->hop.host, why);
	mta_task_hop_failed(task, why, 0);
}

static void
s_body(struct mta_session *s)
{
	char	 chunk[BODY_CHUNK], out[BODY_CHUNK * 2 + 8];
	ssize_t	 n, i;
	size_t	 o;

	while (s->io.out.len < BODY_HIWAT) {
		n = pread(s->task->fd, chunk, sizeof(chunk), s->body_off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			char line[300];
			snprintf(line, sizeof(line), "451 4.3.0 cannot read "
			    "message: %s", strerror(errno));
			s_set_rcpts(s, RCPT_ACCEPTED, RCPT_TEMPFAIL, line);
			/* abort DATA by closing: the server drops it */
			s_txn_end(s, TXN_CLOSE);
			return;
		}
		if (n == 0) {
			if (!s->bol)
				mta_io_add(&s->io, "\r\n", 2);
			mta_io_add(&s->io, ".\r\n", 3);
			s_state(s, S_EOM);
			s_timer(s, mta_timeout_reply());
			mta_io_flush(&s->io);
			return;
		}
		s->body_off += n;
		for (i = 0, o = 0; i < n; i++) {
			char c = chunk[i];
			if (s->bol && c == '.')
				out[o++] = '.';
			if (c == '\n' && !s->prev_cr)
				out[o++] = '\r';
			out[o++] = c;
			s->prev_cr = (c == '\r');
			s->bol = (c == '\n');
		}
		mta_io_add(&s->io, out, o);
	}
	mta_io_want_drain(&s->io, BODY_HIWAT / 4);
	mta_io_flush(&s->io);
	s_timer(s, mta_timeout_reply());
}

/* Handle one complete reply.  The session may be gone afterwards. */
static void
s_on_reply(struct mta_session *s)
{
	struct mta_reply	*rp = &s->reply;
	int			 code = rp->code;
	const char		*line = rp->summary;
	char			 enc[4 * ROUTE_CRED_MAX];
	struct mta_rcpt		*r;

	log_debug("mta session=%016" PRIx64 " <<< %s", s->id, line);
	switch (s->state) {
	case S_BANNER:
		if (code / 100 != 2) {
			s_failf(s, "greeting", line);
			return;
		}
		s_cmd(s, S_EHLO, "EHLO %s", s->hop.helo);
		return;
	case S_EHLO:
		if (code / 100 == 2) {
			s->ext = mta_reply_ehlo(rp, &s->maxsize);
			s_after_ehlo(s);
		} else if (code / 100 == 5)
			s_cmd(s, S_HELO, "HELO %s", s->hop.helo);
		else
			s_failf(s, "EHLO", line);
		return;
	case S_HELO:
		if (code / 100 != 2) {
			s_failf(s, "HELO", line);
			return;
		}
		s->ext = 0;
		s_after_ehlo(s);
		return;
	case S_STARTTLS:
		if (code == 220) {
			s_starttls(s);
			return;
		}
		if (s->hop.tls == RELAY_TLS_REQUIRE) {
			s_failf(s, "STARTTLS refused", line);
			return;
		}
		s_auth(s);		/* opportunistic: plain text */
		return;
	case S_AUTH_PLAIN:
	case S_AUTH_PASS:
		if (code != 235) {
			s_failf(s, "AUTH refused", line);
			return;
		}
		s_setup_done(s);
		return;
	case S_AUTH_LOGIN:
		if (code != 334) {
			s_failf(s, "AUTH refused", line);
			return;
		}
		b64((const unsigned char *)s->hop.auth_user,
		    strlen(s->hop.auth_user), enc, sizeof(enc));
		s_cmd(s, S_AUTH_USER, "%s", enc);
		return;
	case S_AUTH_USER:
		if (code != 334) {
			s_failf(s, "AUTH refused", line);
			return;
		}
		b64((const unsigned char *)s->hop.auth_pass,
		    strlen(s->hop.auth_pass), enc, sizeof(enc));
		s_cmd(s, S_AUTH_PASS, "%s", enc);
		explicit_bzero(enc, sizeof(enc));
		return;
	case S_MAIL:
		if (code / 100 != 2) {
			s->mail_code = code;
			strlcpy(s->mail_line, line, sizeof(s->mail_line));
			if (!s->pipelining) {
				s_mail_refused(s);
				s_cmd(s, S_RSET, "RSET");
				return;
			}
		}
		s_state(s, S_RCPT);
		if (!s->pipelining) {
			s_send_rcpt(s, 0);
			mta_io_flush(&s->io);
			s_timer(s, mta_timeout_reply());
		}
		return;
	case S_RCPT:
		r = &s->task->rcpts[s->sent[s->nreplied++]];
		if (s->mail_code == 0) {
			if (code / 100 == 2) {
				r->status = RCPT_ACCEPTED;
				s->naccepted++;
			} else {
				r->status = code_status(code);
				strlcpy(r->line, line, sizeof(r->line));
			}
		}
		if (s->nreplied < s->nsent) {
			if (!s->pipelining) {
				s_send_rcpt(s, s->nreplied);
				mta_io_flush(&s->io);
				s_timer(s, mta_timeout_reply());
			}
			return;
		}
		if (s->pipelining) {
			s_state(s, S_DATA);	/* DATA was sent already */
			return;
		}
		if (s->naccepted == 0)
			s_txn_end(s, TXN_RSET);
		else
			s_cmd(s, S_DATA, "DATA");
		return;
	case S_DATA:
		if (s->mail_code != 0) {
			s_mail_refused(s);
			if (code == 354)
				s_close(s);
			else
				s_cmd(s, S_RSET, "RSET");
			return;
		}
		if (s->naccepted == 0) {
			s_txn_end(s, code == 354 ? TXN_CLOSE : TXN_RSET);
			return;
		}
		if (code != 354) {
			s_set_rcpts(s, RCPT_ACCEPTED, code_status(code) ==
			    RCPT_OK ? RCPT_TEMPFAIL : code_status(code), line);
			s_txn_end(s, TXN_RSET);
			return;
		}
		s_state(s, S_BODY);
		s->body_off = 0;
		s->bol = 1;
		s->prev_cr = 0;
		s_body(s);
		return;
	case S_EOM:
		s_set_rcpts(s, RCPT_ACCEPTED, code_status(code), line);
		s->msgcount++;
		s_txn_end(s, TXN_READY);
		return;
	case S_RSET:
		if (code / 100 != 2) {
			mta_session_quit(s);
			return;
		}
		s_ready(s);
		return;
	case S_QUIT:
		s_close(s);
		return;
	default:
		s_failf(s, "unexpected reply", line);
		return;
	}
}

static void
s_on_data(struct mta_session *s)
{
	enum mta_reply_status	 st;
	size_t			 used;
	char			 why[300];

	while (s->io.in.len > 0) {
		if (s->state == S_BODY)
			return;		/* read after the dot */
		st = mta_reply_parse(&s->reply, s->io.in.data, s->io.in.len,
		    &used);
		buf_consume(&s->io.in, used);
		if (st == MTA_REPLY_MORE)
			return;
		if (st == MTA_REPLY_ERROR) {
			snprintf(why, sizeof(why), "protocol error: %s",
			    s->reply.error);
			s_fail(s, why, 0);
			return;
		}
		if (s->state == S_READY || s->state == S_CONNECT ||
		    s->state == S_TLS_HANDSHAKE) {
			s_failf(s, "unexpected reply", s->reply.summary);
			return;
		}
		/* a server speaking out of turn (more than the one reply we
		 * wait for) is not trusted with the rest (CVE-2020-8794) */
		if (s->io.in.len > 0 && !(s->pipelining &&
		    (s->state == S_MAIL || s->state == S_RCPT))) {
			s_failf(s, "protocol error: data after reply",
			    s->reply.summary);
			return;
		}
		s_on_reply(s);
		if (s->zombie)
			return;
		mta_reply_reset(&s->reply);
	}
}

static void
s_on_io(struct mta_io *io, enum mta_io_event ev, void *arg)
{
	struct mta_session	*s = arg;
	int			 fallback;

	(void)io;
	s_enter(s);
	switch (ev) {
	case MTA_IO_CONNECTED:
		log_debug("mta session=%016" PRIx64 " connected to %s:%u",
		    s->id, s->hop.addr, s->hop.port);
		if (s->hop.tls == RELAY_TLS_SMTPS)
			s_starttls(s);
		else {
			s_state(s, S_BANNER);
			s_timer(s, mta_timeout_reply());
		}
		break;
	case MTA_IO_TLS_READY:
		s->tls = 1;
		log_debug("mta session=%016" PRIx64 " TLS %s", s->id,
		    mta_session_tlsdesc(s));
		if (s->hop.tls == RELAY_TLS_SMTPS) {
			s_state(s, S_BANNER);
			s_timer(s, mta_timeout_reply());
		} else
			s_cmd(s, S_EHLO, "EHLO %s", s->hop.helo);
		break;
	case MTA_IO_DATA:
		s_on_data(s);
		break;
	case MTA_IO_DRAINED:
		if (s->state == S_BODY)
			s_body(s);
		break;
	case MTA_IO_CLOSED:
	case MTA_IO_ERROR:
		if (s->state == S_QUIT || s->state == S_READY) {
			s_close(s);
			break;
		}
		fallback = s->state == S_TLS_HANDSHAKE &&
		    s->hop.tls == RELAY_TLS_OPPORTUNISTIC;
		s_fail(s, s->io.error, fallback);
		break;
	}
	s_leave(s);
}

static void
s_on_timer(int fd, short ev, void *arg)
{
	struct mta_session	*s = arg;
	char			 why[300];

	(void)fd;
	(void)ev;
	s_enter(s);
	if (s->pending_err[0]) {
		s_fail(s, s->pending_err, 0);
	} else if (s->state == S_READY) {
		mta_session_quit(s);
	} else if (s->state == S_QUIT) {
		s_close(s);
	} else {
		snprintf(why, sizeof(why), "timeout in state %s",
		    state_names[s->state]);
		s_fail(s, why, s->state == S_TLS_HANDSHAKE &&
		    s->hop.tls == RELAY_TLS_OPPORTUNISTIC);
	}
	s_leave(s);
}
