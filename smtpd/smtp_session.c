/*
 * The ESMTP server state machine: one session per client, commands
 * parsed by smtp_cmd_parse, every policy decision asked of lka, the
 * message streamed into the fd the queue gives (smtp_msg.c).  A
 * command that must wait for an answer stops input processing until the
 * answer comes; smtp_io_pump then resumes it.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "proc.h"
#include "proto.h"
#include "smtp.h"
#include "smtp_cmd.h"
#include "smtp_msg.h"
#include "smtp_tx.h"

static uint32_t	 smtp_next_id;

static void	smtp_on_command(struct smtp_session *, const char *, size_t);

static unsigned
max_errors(void)
{
	return env->max_errors ? env->max_errors : 10;
}

void
smtp_session_reply(struct smtp_session *s, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 start = s->out.len;
	char	 esc[256];

	va_start(ap, fmt);
	{
		char	 line[1024];
		int	 n;

		n = vsnprintf(line, sizeof(line), fmt, ap);
		if (n < 0 || (size_t)n >= sizeof(line))
			fatalx("smtp_session_reply: line too long");
		buf_add(&s->out, line, (size_t)n);
		buf_add(&s->out, "\r\n", 2);
	}
	va_end(ap);
	log_debug("smtp session=%s reply=\"%s\"", s->id_str,
	    log_escape(esc, sizeof(esc), s->out.data + start,
	    s->out.len - start - 2));
	if (s->out.data[start] == '5' && !s->quit) {
		if (++s->errors >= max_errors()) {
			log_info("smtp session=%s event=too-many-errors "
			    "address=%s", s->id_str, s->addr);
			buf_addstr(&s->out, "421 4.7.0 Too many errors\r\n");
			s->quit = 1;
		}
	}
}

static const char *
state_name(enum smtp_state st)
{
	switch (st) {
	case S_CONNECTING:	return "connecting";
	case S_TLS_ACCEPT:	return "tls-accept";
	case S_CMD:		return "command";
	case S_AUTH_PLAIN:	return "auth-plain";
	case S_AUTH_LOGIN_USER:	return "auth-login-user";
	case S_AUTH_LOGIN_PASS:	return "auth-login-pass";
	case S_DATA:		return "data";
	case S_BDAT:		return "bdat";
	}
	return "?";
}

/* Every transition of the session state machine goes through here. */
void
smtp_set_state(struct smtp_session *s, enum smtp_state st)
{
	if (s->state != st)
		log_debug("smtp session=%s state=%s->%s", s->id_str,
		    state_name(s->state), state_name(st));
	s->state = st;
}

static int
is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in6	*sin6;
	const uint8_t			*b;

	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr)
		    >> 24) == 127;
	if (sa->sa_family != AF_INET6)
		return 0;
	sin6 = (const struct sockaddr_in6 *)sa;
	if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
		return 1;
	b = sin6->sin6_addr.s6_addr;
	return IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && b[12] == 127;
}

static void
smtp_send_connect(struct smtp_session *s)
{
	struct mbuild	*m;

	m = proc_create(PROC_LKA, IMSG_LKA_CONNECT, s->id, -1);
	m_add_u32(m, s->lindex);
	m_add_str(m, s->addr);
	m_add_u32(m, s->port);
	m_add_u32(m, (uint32_t)s->is_local);
	m_close(m);
	s->wait = W_CONNECT;
	smtp_set_state(s, S_CONNECTING);
}

void
smtp_session_new(int fd, struct smtp_lctx *lc, const struct sockaddr *sa,
    int enqueue, uid_t uid)
{
	struct smtp_session	*s;
	char			 serv[16];
	unsigned		 maxs, maxip;
	int			 flags;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal("smtp_session_new");
	do {
		s->id = ++smtp_next_id;
	} while (s->id == 0 || smtp_session_find(s->id) != NULL);
	snprintf(s->id_str, sizeof(s->id_str), "%08x", s->id);
	s->fd = fd;
	s->lctx = lc;
	s->lindex = lc ? (uint32_t)lc->l->index : UINT32_MAX;
	s->hostname = (lc && lc->l->hostname[0]) ? lc->l->hostname :
	    env->hostname[0] ? env->hostname : "localhost";
	s->enqueue = enqueue;
	s->uid = uid;
	s->msgfd = -1;
	TAILQ_INIT(&s->rcpts);
	buf_init(&s->in);
	buf_init(&s->out);
	buf_init(&s->msgbuf);
	if (enqueue || sa == NULL) {
		strlcpy(s->addr, "local", sizeof(s->addr));
		s->is_local = 1;
	} else {
		if (getnameinfo(sa, sa->sa_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
		    s->addr, sizeof(s->addr), serv, sizeof(serv),
		    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
			strlcpy(s->addr, "unknown", sizeof(s->addr));
		s->port = (uint16_t)atoi(serv);
		/* "::ffff:127.0.0.1" reads better as 127.0.0.1 */
		if (strncmp(s->addr, "::ffff:", 7) == 0 &&
		    strchr(s->addr + 7, '.') != NULL)
			memmove(s->addr, s->addr + 7, strlen(s->addr + 7) + 1);
		s->is_local = is_loopback(sa);
	}
	/* the enqueue socketpair comes from control as it was made */
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		log_warn("smtp session=%s fcntl", s->id_str);
	smtp_session_register(s);
	smtp_stat("smtp.session", 1);
	if (enqueue)
		log_info("smtp session=%s event=connected address=local "
		    "uid=%u", s->id_str, (unsigned)uid);
	else
		log_info("smtp session=%s event=connected address=%s port=%u "
		    "listener=%s", s->id_str, s->addr, s->port,
		    lc ? lc->l->name : "?");
	smtp_io_start(s);

	maxs = env->max_sessions ? env->max_sessions : 1000;
	maxip = env->max_sessions_per_ip ? env->max_sessions_per_ip : 50;
	if (smtp_nsessions > maxs || (!enqueue &&
	    smtp_sessions_from(s->addr) > maxip)) {
		log_info("smtp session=%s event=refused reason=limit "
		    "address=%s", s->id_str, s->addr);
		smtp_stat("smtp.refused", 1);
		smtp_session_reply(s, "421 4.7.0 %s Too many connections, "
		    "try again later", s->hostname);
		s->quit = 1;
	} else if (enqueue)
		smtp_session_connected(s);
	else if (lc && (lc->l->flags & LISTEN_SMTPS) && lc->tls) {
		s->smtps_pending = 1;
		if (smtp_io_starttls(s) == -1)
			s->quit = 1;
	} else
		smtp_send_connect(s);
	smtp_io_pump(s);	/* may free s */
}

void
smtp_session_connected(struct smtp_session *s)
{
	smtp_set_state(s, S_CMD);
	smtp_session_reply(s, "220 %s ESMTP smtpd", s->hostname);
	smtp_io_timer(s);
}

static void
smtp_tx_reset(struct smtp_session *s)
{
	struct smtp_rcpt	*r;
	struct mbuild		*m;

	while ((r = TAILQ_FIRST(&s->rcpts)) != NULL) {
		TAILQ_REMOVE(&s->rcpts, r, entry);
		free(r);
	}
	if (s->msgfd != -1) {
		close(s->msgfd);
		s->msgfd = -1;
	}
	if (s->msgid != 0) {
		m = proc_create(PROC_QUEUE, IMSG_QUEUE_ROLLBACK, s->id, -1);
		m_add_u32(m, s->msgid);
		m_close(m);
		s->msgid = 0;
	}
	buf_reset(&s->msgbuf);
	s->in_tx = 0;
	s->nrcpt = 0;
	s->nenv = 0;
	s->sender[0] = '\0';
	s->evflags = 0;
	s->smtputf8 = 0;
	s->dsn_ret = DSN_RET_DEFAULT;
	s->dsn_envid[0] = '\0';
	s->msg_failed = 0;
	s->msgsize = 0;
	s->bdat_active = 0;
	s->bdat_last = 0;
}

void
smtp_session_cleanup(struct smtp_session *s)
{
	smtp_tx_reset(s);
	smtp_stat("smtp.session", -1);
	log_info("smtp session=%s event=closed address=%s", s->id_str,
	    s->addr);
}

void
smtp_session_tls_done(struct smtp_session *s)
{
	s->tls_done = 1;
	log_info("smtp session=%s event=tls version=%s cipher=%s",
	    s->id_str, tls_conn_version(s->tls), tls_conn_cipher(s->tls));
	if (s->smtps_pending) {
		s->smtps_pending = 0;
		smtp_send_connect(s);
		return;
	}
	/* RFC 3207 4.2: forget everything learnt before TLS. */
	smtp_tx_reset(s);
	s->helo = 0;
	s->helo_name[0] = '\0';
	s->auth_user[0] = '\0';
	smtp_io_timer(s);
}

void
smtp_session_timeout(struct smtp_session *s)
{
	log_info("smtp session=%s event=timeout address=%s state=%d",
	    s->id_str, s->addr, (int)s->state);
	s->quit = 1;
	buf_addstr(&s->out, "421 4.4.2 Timeout, closing connection\r\n");
}

/*
 * Next complete line of at most max octets (LF included) into line.
 * Returns its length without CRLF, -1 when more input is needed, -2 for
 * an overlong line (consumed).  Lines are taken at s->in_off, so that a
 * pipelined batch is not shifted in memory once per command.
 */
static long
smtp_getline(struct smtp_session *s, size_t max, char *line)
{
	const char	*data = s->in.data + s->in_off, *lf;
	size_t		 len = s->in.len - s->in_off, n;

	lf = len ? memchr(data, '\n', len) : NULL;
	if (lf == NULL) {
		if (len > max) {
			/* drop it, but keep a final CR for the CRLF */
			s->skip_line = 1;
			s->in_off = s->in.len - 1;
		}
		return -1;
	}
	n = (size_t)(lf - data) + 1;
	s->in_off += n;
	if (s->skip_line || n > max) {
		s->skip_line = 0;
		return -2;
	}
	memcpy(line, data, n);
	n--;				/* LF */
	if (n > 0 && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	return (long)n;
}

/* Drop the consumed commands from the input buffer. */
static void
smtp_compact(struct smtp_session *s)
{
	if (s->in_off) {
		buf_consume(&s->in, s->in_off);
		s->in_off = 0;
	}
}

static void
smtp_process_input(struct smtp_session *s)
{
	char	 line[SMTP_AUTH_LINE_MAX + 1];
	long	 n;
	size_t	 max;

	s->out_full = 0;
	while (!s->quit && !s->starttls && s->wait == W_NONE) {
		if (s->out.len > SMTP_OUT_MAX) {
			s->out_full = 1;	/* a client that does not read */
			return;
		}
		switch (s->state) {
		case S_CONNECTING:
		case S_TLS_ACCEPT:
			return;
		case S_DATA:
		case S_BDAT:
			smtp_compact(s);
			if (smtp_msg_input(s) == 0)
				return;
			continue;
		default:
			break;
		}
		max = s->state == S_CMD ? SMTP_LINE_MAX : SMTP_AUTH_LINE_MAX;
		n = smtp_getline(s, max, line);
		if (n == -1)
			return;
		smtp_io_timer(s);	/* bounds a whole line, not a gap */
		if (n == -2) {
			smtp_session_reply(s, "500 5.5.2 Line too long");
			if (s->state != S_CMD)
				smtp_set_state(s, S_CMD);
			continue;
		}
		if (s->state == S_CMD)
			smtp_on_command(s, line, (size_t)n);
		else
			smtp_on_auth_line(s, line, (size_t)n);
	}
}

void
smtp_session_process(struct smtp_session *s)
{
	smtp_process_input(s);
	smtp_compact(s);
}

/* --- commands --- */

static void
smtp_cmd_ehlo(struct smtp_session *s, struct smtp_cmd *c)
{
	int	 ehlo = c->verb == SMTP_EHLO;
	int	 starttls, auth;

	if (strlen(c->arg) >= sizeof(s->helo_name)) {
		smtp_session_reply(s, "501 5.5.4 Invalid domain name");
		return;
	}
	smtp_tx_reset(s);
	strlcpy(s->helo_name, c->arg, sizeof(s->helo_name));
	s->helo = ehlo ? 2 : 1;
	if (!ehlo) {
		smtp_session_reply(s, "250 %s Hello %s [%s], pleased to meet "
		    "you", s->hostname, s->helo_name, s->addr);
		return;
	}
	starttls = s->lctx && s->lctx->tls && !s->tls_done &&
	    (s->lctx->l->flags & (LISTEN_TLS | LISTEN_TLS_REQUIRE));
	auth = s->lctx && s->tls_done && s->lctx->l->auth_table &&
	    (s->lctx->l->flags & (LISTEN_AUTH | LISTEN_AUTH_OPTIONAL));
	smtp_session_reply(s, "250-%s Hello %s [%s], pleased to meet you",
	    s->hostname, s->helo_name, s->addr);
	smtp_session_reply(s, "250-8BITMIME");
	smtp_session_reply(s, "250-ENHANCEDSTATUSCODES");
	if (env->max_message_size)
		smtp_session_reply(s, "250-SIZE %llu",
		    (unsigned long long)env->max_message_size);
	else
		smtp_session_reply(s, "250-SIZE");
	smtp_session_reply(s, "250-PIPELINING");
	smtp_session_reply(s, "250-SMTPUTF8");
	smtp_session_reply(s, "250-DSN");
	smtp_session_reply(s, "250-CHUNKING");
	if (starttls)
		smtp_session_reply(s, "250-STARTTLS");
	if (auth)
		smtp_session_reply(s, "250-AUTH PLAIN LOGIN");
	if (env->etrn)
		smtp_session_reply(s, "250-ETRN");
	smtp_session_reply(s, "250 HELP");
}

static void
smtp_cmd_starttls(struct smtp_session *s)
{
	char	 esc[64];

	if (s->lctx == NULL || s->lctx->tls == NULL ||
	    !(s->lctx->l->flags & (LISTEN_TLS | LISTEN_TLS_REQUIRE))) {
		smtp_session_reply(s, "502 5.5.1 STARTTLS not supported");
		return;
	}
	if (s->tls_done) {
		smtp_session_reply(s, "503 5.5.1 TLS already active");
		return;
	}
	if (s->in_tx) {
		smtp_session_reply(s, "503 5.5.1 STARTTLS not allowed in a "
		    "mail transaction");
		return;
	}
	smtp_session_reply(s, "220 2.0.0 Ready to start TLS");
	if (s->in.len > s->in_off) {
		/* CVE-2011-0411: never run what was sent in the clear */
		log_info("smtp session=%s event=starttls-injection "
		    "address=%s bytes=%zu data=\"%s\"", s->id_str, s->addr,
		    s->in.len - s->in_off, log_escape(esc, sizeof(esc),
		    s->in.data + s->in_off, s->in.len - s->in_off));
	}
	buf_reset(&s->in);
	s->in_off = 0;
	s->starttls = 1;
}

static void
smtp_cmd_data(struct smtp_session *s, struct smtp_cmd *c)
{
	if (c->verb == SMTP_BDAT) {
		smtp_msg_bdat(s, c->bdat_size, c->bdat_last);
		return;
	}
	if (!s->in_tx) {
		smtp_session_reply(s, "503 5.5.1 Need MAIL before DATA");
		return;
	}
	if (s->nrcpt == 0) {
		smtp_session_reply(s, "503 5.5.1 Need RCPT before DATA");
		return;
	}
	if (s->bdat_active) {
		smtp_session_reply(s, "503 5.5.1 DATA not allowed after BDAT");
		return;
	}
	smtp_msg_create(s, 0);
}

static void
smtp_cmd_vrfy(struct smtp_session *s, struct smtp_cmd *c)
{
	struct mbuild	*m;
	char		 a[SMTP_LINE_MAX];
	size_t		 n;

	if (!env->vrfy) {
		smtp_session_reply(s, "252 2.5.0 Cannot VRFY user, but will "
		    "accept message and attempt delivery");
		return;
	}
	strlcpy(a, c->arg[0] == '<' ? c->arg + 1 : c->arg, sizeof(a));
	n = strlen(a);
	if (n && a[n - 1] == '>')
		a[n - 1] = '\0';
	m = proc_create(PROC_LKA, IMSG_LKA_VRFY, s->id, -1);
	m_add_str(m, a);
	m_close(m);
	s->wait = W_VRFY;
}

static void
smtp_cmd_etrn(struct smtp_session *s, struct smtp_cmd *c)
{
	struct mbuild	*m;
	const char	*d = c->arg;

	if (!env->etrn) {
		smtp_session_reply(s, "502 5.5.1 ETRN not supported");
		return;
	}
	if (s->helo == 0) {
		smtp_session_reply(s, "503 5.5.1 Say EHLO first");
		return;
	}
	if (*d == '@' || *d == '#')
		d++;
	m = proc_create(PROC_QUEUE, IMSG_QUEUE_ETRN, s->id, -1);
	m_add_str(m, d);
	m_close(m);
	smtp_session_reply(s, "250 2.0.0 Queuing started");
}

static void
smtp_on_command(struct smtp_session *s, const char *line, size_t len)
{
	struct smtp_cmd	 c;
	char		 esc[128];
	int		 r;

	r = smtp_cmd_parse(line, len, &c);
	log_debug("smtp session=%s command=\"%s\"", s->id_str,
	    c.verb == SMTP_AUTH ? "AUTH ..." :
	    log_escape(esc, sizeof(esc), line, len));
	switch (r) {
	case SMTP_CMD_OK:
		break;
	case SMTP_CMD_ETOOLONG:
		smtp_session_reply(s, "500 5.5.2 Line too long");
		return;
	case SMTP_CMD_ENUL:
		smtp_session_reply(s, "500 5.5.2 NUL octet in command");
		return;
	case SMTP_CMD_EUNKNOWN:
		smtp_session_reply(s, "500 5.5.1 Command unrecognized");
		return;
	case SMTP_CMD_EPATH:
		smtp_session_reply(s, c.verb == SMTP_MAIL ?
		    "501 5.1.7 Bad sender address syntax" :
		    "501 5.1.3 Bad recipient address syntax");
		return;
	case SMTP_CMD_EPARAM:
	case SMTP_CMD_ETOOMANY:
		smtp_session_reply(s, "555 5.5.4 Malformed or unsupported "
		    "parameters");
		return;
	default:
		smtp_session_reply(s, "501 5.5.4 Syntax error in arguments");
		return;
	}
	switch (c.verb) {
	case SMTP_HELO:
	case SMTP_EHLO:
		smtp_cmd_ehlo(s, &c);
		break;
	case SMTP_STARTTLS:
		smtp_cmd_starttls(s);
		break;
	case SMTP_AUTH:
		smtp_cmd_auth(s, &c);
		break;
	case SMTP_MAIL:
		smtp_cmd_mail(s, &c);
		break;
	case SMTP_RCPT:
		smtp_cmd_rcpt(s, &c);
		break;
	case SMTP_DATA:
	case SMTP_BDAT:
		smtp_cmd_data(s, &c);
		break;
	case SMTP_RSET:
		smtp_tx_reset(s);
		smtp_session_reply(s, "250 2.0.0 Reset state");
		break;
	case SMTP_NOOP:
		smtp_session_reply(s, "250 2.0.0 Ok");
		break;
	case SMTP_HELP:
		smtp_session_reply(s, "214 2.0.0 Commands: EHLO HELO MAIL "
		    "RCPT DATA BDAT RSET NOOP QUIT HELP VRFY ETRN STARTTLS "
		    "AUTH");
		break;
	case SMTP_QUIT:
		smtp_session_reply(s, "221 2.0.0 Bye");
		s->quit = 1;
		break;
	case SMTP_VRFY:
		smtp_cmd_vrfy(s, &c);
		break;
	case SMTP_EXPN:
		smtp_session_reply(s, "502 5.5.1 EXPN not supported");
		break;
	case SMTP_ETRN:
		smtp_cmd_etrn(s, &c);
		break;
	case SMTP_UNKNOWN:
		smtp_session_reply(s, "500 5.5.1 Command unrecognized");
		break;
	}
}

/* --- answers from lka and queue --- */

/* A reply line from another process: "NNN text", else the fallback. */
void
smtp_session_reply_from(struct smtp_session *s, const char *line,
    const char *fallback)
{
	size_t	 i;

	if (strlen(line) < 4 || strlen(line) > 512 ||
	    (line[0] != '2' && line[0] != '4' && line[0] != '5') ||
	    line[3] != ' ')
		line = fallback;
	for (i = 0; line[i]; i++)
		if ((unsigned char)line[i] < 32) {
			line = fallback;
			break;
		}
	smtp_session_reply(s, "%s", line);
}

void
smtp_session_on_imsg(struct smtp_session *s, struct imsg *imsg)
{
	struct mreader	 r;
	const char	*str;
	uint32_t	 u;
	enum smtp_wait	 w = s->wait;

	if (s->quit) {
		/* timed out while waiting: the answer is moot */
		s->wait = W_NONE;
		smtp_orphan_imsg(imsg);
		smtp_io_pump(s);
		return;
	}
	m_msg(&r, imsg);
	s->wait = W_NONE;
	switch (imsg->type) {
	case IMSG_LKA_CONNECT_RESULT:
		if (w != W_CONNECT || m_get_u32(&r, &u) == -1 ||
		    m_get_str(&r, &str) == -1 || m_end(&r) == -1)
			fatalx("smtp: bad connect result");
		if (u == 1)
			smtp_session_connected(s);
		else {
			log_info("smtp session=%s event=refused address=%s "
			    "reply=\"%s\"", s->id_str, s->addr, str);
			smtp_stat("smtp.refused", 1);
			smtp_session_reply_from(s, str, "554 5.7.1 Access denied");
			s->quit = 1;
		}
		break;
	case IMSG_LKA_RCPT_RESULT:
		if (w != W_RCPT)
			fatalx("smtp: unexpected rcpt result");
		smtp_on_rcpt_result(s, &r);
		break;
	case IMSG_LKA_AUTH_RESULT:
		if (w != W_AUTH || m_get_u32(&r, &u) == -1 || m_end(&r) == -1)
			fatalx("smtp: bad auth result");
		smtp_on_auth_result(s, u);
		break;
	case IMSG_LKA_VRFY_RESULT:
		if (w != W_VRFY || m_get_str(&r, &str) == -1 ||
		    m_end(&r) == -1)
			fatalx("smtp: bad vrfy result");
		smtp_session_reply_from(s, str, "252 2.5.0 Cannot VRFY user");
		break;
	case IMSG_QUEUE_DISKCHECK_RESULT:
		if (w != W_DISKCHECK || m_get_u32(&r, &u) == -1 ||
		    m_end(&r) == -1)
			fatalx("smtp: bad diskcheck result");
		if (u) {
			s->in_tx = 1;
			smtp_session_reply(s, "250 2.1.0 Ok");
		} else {
			smtp_tx_reset(s);
			smtp_session_reply(s, "452 4.3.1 Insufficient system "
			    "storage");
		}
		break;
	case IMSG_QUEUE_CREATE_RESULT:
		if (w != W_CREATE)
			fatalx("smtp: unexpected create result");
		smtp_msg_on_create(s, imsg, &r);
		break;
	case IMSG_QUEUE_COMMIT_RESULT:
		if (w != W_COMMIT || m_get_u32(&r, &u) == -1 ||
		    m_get_str(&r, &str) == -1 || m_end(&r) == -1)
			fatalx("smtp: bad commit result");
		smtp_msg_on_commit(s, u, str);
		break;
	}
	smtp_io_pump(s);
}

/* An answer for a session that is gone. */
void
smtp_orphan_imsg(struct imsg *imsg)
{
	struct mreader	 r;
	struct mbuild	*m;
	uint32_t	 ok, msgid;

	if (imsg->type != IMSG_QUEUE_CREATE_RESULT)
		return;
	m_msg(&r, imsg);
	if (m_get_u32(&r, &ok) == -1 || m_get_u32(&r, &msgid) == -1 || !ok)
		return;
	m = proc_create(PROC_QUEUE, IMSG_QUEUE_ROLLBACK, imsg->peerid, -1);
	m_add_u32(m, msgid);
	m_close(m);
}

void
smtp_session_tx_reset(struct smtp_session *s)
{
	smtp_tx_reset(s);
}
