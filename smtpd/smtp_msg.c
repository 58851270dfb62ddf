/*
 * The message of an smtp session: asks the queue for a message fd,
 * writes the Received header and the filtered body into it (the body
 * straight from the input buffer with writev: copied once), then sends
 * one envelope per (recipient, action) and the commit; the reply to the
 * final dot (or BDAT LAST) is the queue's answer to the commit.
 */
#include <sys/uio.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "envelope.h"
#include "log.h"
#include "proc.h"
#include "proto.h"
#include "smtp.h"
#include "smtp_msg.h"

void
smtp_msg_create(struct smtp_session *s, int bdat)
{
	proc_compose(PROC_QUEUE, IMSG_QUEUE_CREATE, s->id, -1);
	s->wait = W_CREATE;
	s->create_bdat = bdat;
}

static const char *
smtp_msg_proto(struct smtp_session *s)
{
	static const char *names[2][4] = {
		{ "ESMTP", "ESMTPS", "ESMTPA", "ESMTPSA" },
		{ "UTF8SMTP", "UTF8SMTPS", "UTF8SMTPA", "UTF8SMTPSA" }
	};

	if (s->helo == 1)
		return "SMTP";
	return names[s->smtputf8 ? 1 : 0][(s->tls_done ? 1 : 0) |
	    (s->auth_user[0] ? 2 : 0)];
}

static void
smtp_msg_date(char *buf, size_t len)
{
	time_t		 now = time(NULL);
	struct tm	 tm;

	localtime_r(&now, &tm);
	if (strftime(buf, len, "%a, %d %b %Y %H:%M:%S %z", &tm) == 0)
		strlcpy(buf, "Thu, 01 Jan 1970 00:00:00 +0000", len);
}

/* RFC 5321 4.4 trace header, first in the message. */
static void
smtp_msg_received(struct smtp_session *s)
{
	struct buf		*b = &s->msgbuf;
	struct smtp_rcpt	*rc;
	char			 date[64];

	smtp_msg_date(date, sizeof(date));
	buf_printf(b, "Received: from %s ", s->helo_name[0] ?
	    s->helo_name : "unknown");
	if (s->enqueue)
		buf_printf(b, "(uid %u)", (unsigned)s->uid);
	else if (strchr(s->addr, ':') != NULL)
		buf_printf(b, "([IPv6:%s])", s->addr);
	else
		buf_printf(b, "([%s])", s->addr);
	buf_printf(b, "\r\n\tby %s (smtpd) with %s id %08x", s->hostname,
	    smtp_msg_proto(s), s->msgid);
	if (s->tls)
		buf_printf(b, "\r\n\t(version=%s cipher=%s bits=%d)",
		    tls_conn_version(s->tls), tls_conn_cipher(s->tls),
		    tls_conn_cipher_strength(s->tls));
	if (s->auth_user[0] && s->lctx &&
	    (s->lctx->l->flags & LISTEN_RECEIVED_AUTH))
		buf_printf(b, "\r\n\t(authenticated user %s)", s->auth_user);
	if (s->nrcpt == 1 && (rc = TAILQ_FIRST(&s->rcpts)) != NULL)
		buf_printf(b, "\r\n\tfor <%s>", rc->evp.orig_rcpt);
	buf_printf(b, ";\r\n\t%s\r\n", date);
}

/*
 * The body is written from the spans the filter hands out, which point
 * into the session's input buffer: they are gathered here and written
 * before that input is consumed (one session at a time: the process
 * has one thread and flushes before it returns to the event loop).
 */
#define SMTP_IOV_MAX	256

static struct iovec	 msg_iov[SMTP_IOV_MAX];
static int		 msg_niov;

static void
smtp_msg_flush(struct smtp_session *s)
{
	struct iovec	*v = msg_iov;
	int		 n = msg_niov;
	ssize_t		 w;

	msg_niov = 0;
	if (s->msg_failed || s->msgfd == -1)
		return;
	while (n > 0) {
		if ((w = writev(s->msgfd, v, n)) == -1) {
			if (errno == EINTR)
				continue;
			s->msg_failed = errno;
			log_warn("smtp session=%s event=message-write-error",
			    s->id_str);
			return;
		}
		s->msgsize += (uint64_t)w;
		while (n > 0 && (size_t)w >= v->iov_len) {
			w -= (ssize_t)v->iov_len;
			v++;
			n--;
		}
		if (n > 0) {
			v->iov_base = (char *)v->iov_base + w;
			v->iov_len -= (size_t)w;
		}
	}
}

static void
smtp_msg_emit(void *arg, const char *p, size_t len)
{
	struct smtp_session	*s = arg;
	struct iovec		*last;

	if (msg_niov > 0) {
		last = &msg_iov[msg_niov - 1];
		if ((const char *)last->iov_base + last->iov_len == p) {
			last->iov_len += len;
			return;
		}
	}
	if (msg_niov == SMTP_IOV_MAX)
		smtp_msg_flush(s);
	msg_iov[msg_niov].iov_base = (void *)(uintptr_t)p;
	msg_iov[msg_niov].iov_len = len;
	msg_niov++;
}

static void	smtp_msg_write(struct smtp_session *);

static void
smtp_msg_start(struct smtp_session *s, int dot)
{
	const char	*add_date = NULL, *add_msgid = NULL;
	char		 date[64];

	buf_reset(&s->msgbuf);
	s->msgsize = 0;
	s->msg_failed = 0;
	smtp_msg_received(s);
	if (s->enqueue) {
		smtp_msg_date(date, sizeof(date));
		snprintf(s->add_date, sizeof(s->add_date), "Date: %s\r\n",
		    date);
		snprintf(s->add_msgid, sizeof(s->add_msgid),
		    "Message-ID: <%08x%08x.%08x@%s>\r\n", arc4random(),
		    arc4random(), s->msgid, s->hostname);
		add_date = s->add_date;
		add_msgid = s->add_msgid;
	}
	smtp_data_init(&s->data, dot, env->max_message_size, env->max_hops,
	    add_date, add_msgid, smtp_msg_emit, s);
	smtp_msg_write(s);	/* the Received header */
}

/* Write msgbuf (the Received header) to the queue's fd. */
static void
smtp_msg_write(struct smtp_session *s)
{
	size_t	 off = 0;
	ssize_t	 n;

	if (s->msg_failed || s->msgfd == -1) {
		buf_reset(&s->msgbuf);
		return;
	}
	while (off < s->msgbuf.len) {
		n = write(s->msgfd, s->msgbuf.data + off, s->msgbuf.len - off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			s->msg_failed = errno;
			log_warn("smtp session=%s event=message-write-error",
			    s->id_str);
			break;
		}
		off += (size_t)n;
	}
	s->msgsize += off;
	buf_reset(&s->msgbuf);
}

void
smtp_msg_on_create(struct smtp_session *s, struct imsg *imsg,
    struct mreader *r)
{
	uint32_t	 ok, msgid;
	const char	*reply = "451 4.3.0 Temporary queue failure";
	struct mbuild	*m;

	if (m_get_u32(r, &ok) == -1 || m_get_u32(r, &msgid) == -1)
		fatalx("smtp: bad create result");
	if (r->left > 0 && m_get_str(r, &reply) == -1)
		fatalx("smtp: bad create result");
	if (ok && imsg->fd == -1) {
		log_warnx("smtp session=%s event=create-without-fd",
		    s->id_str);
		m = proc_create(PROC_QUEUE, IMSG_QUEUE_ROLLBACK, s->id, -1);
		m_add_u32(m, msgid);
		m_close(m);
		ok = 0;
	}
	if (!ok) {
		if (s->create_bdat) {
			strlcpy(s->bdat_error, reply, sizeof(s->bdat_error));
			s->bdat_active = 0;
			smtp_set_state(s, S_BDAT);
		} else
			smtp_session_reply_from(s, reply,
			    "451 4.3.0 Temporary queue failure");
		return;
	}
	s->msgfd = imsg->fd;
	imsg->fd = -1;
	s->msgid = msgid;
	smtp_msg_start(s, !s->create_bdat);
	if (s->create_bdat)
		smtp_set_state(s, S_BDAT);
	else {
		smtp_set_state(s, S_DATA);
		smtp_session_reply(s, "354 Enter mail, end with \".\" on a "
		    "line by itself");
	}
	smtp_io_timer(s);
}

void
smtp_msg_bdat(struct smtp_session *s, uint64_t size, int last)
{
	s->bdat_left = size;
	s->bdat_chunk = size;
	s->bdat_last = last;
	s->bdat_error[0] = '\0';
	if (!s->in_tx)
		strlcpy(s->bdat_error, "503 5.5.1 Need MAIL before BDAT",
		    sizeof(s->bdat_error));
	else if (s->nrcpt == 0)
		strlcpy(s->bdat_error, "503 5.5.1 Need RCPT before BDAT",
		    sizeof(s->bdat_error));
	else if (!s->bdat_active) {
		s->bdat_active = 1;
		smtp_msg_create(s, 1);
		return;
	}
	smtp_set_state(s, S_BDAT);
}

static void
smtp_msg_end(struct smtp_session *s)
{
	struct smtp_rcpt	*rc;
	struct mbuild		*m;
	struct buf		 text;
	int			 err, failed;
	char			 esc[64];

	err = smtp_data_finish(&s->data);
	if (err == SMTP_DATA_OK)
		smtp_msg_flush(s);
	msg_niov = 0;
	close(s->msgfd);
	s->msgfd = -1;
	smtp_set_state(s, S_CMD);
	s->bdat_active = 0;
	smtp_io_timer(s);
	failed = s->msg_failed;
	if (err != SMTP_DATA_OK || failed) {
		log_info("smtp session=%s event=message-refused from=<%s> "
		    "reason=\"%s\"", s->id_str, log_escape(esc, sizeof(esc),
		    s->sender, strlen(s->sender)), err ?
		    smtp_data_strerror(err) : "write error");
		smtp_session_tx_reset(s);
		if (err)
			smtp_session_reply(s, "%s", smtp_data_strerror(err));
		else if (failed == ENOSPC || failed == EDQUOT)
			smtp_session_reply(s, "452 4.3.1 Insufficient system "
			    "storage");
		else
			smtp_session_reply(s, "451 4.3.0 Error while writing "
			    "the message");
		return;
	}
	buf_init(&text);
	TAILQ_FOREACH(rc, &s->rcpts, entry) {
		struct envelope	*e = &rc->evp;

		e->id = 0;
		strlcpy(e->sender, s->sender, sizeof(e->sender));
		strlcpy(e->helo, s->helo_name, sizeof(e->helo));
		strlcpy(e->client_addr, s->addr, sizeof(e->client_addr));
		strlcpy(e->auth_user, s->auth_user, sizeof(e->auth_user));
		if (s->lctx)
			strlcpy(e->listener_tag, s->lctx->l->tag,
			    sizeof(e->listener_tag));
		e->flags = s->evflags;
		if (s->auth_user[0])
			e->flags |= EF_AUTHENTICATED;
		if (s->is_local)
			e->flags |= EF_LOCAL;
		e->dsn_ret = s->dsn_ret;
		strlcpy(e->dsn_envid, s->dsn_envid, sizeof(e->dsn_envid));
		e->size = s->msgsize;
		e->creation = time(NULL);
		buf_reset(&text);
		envelope_dump(e, &text);
		m = proc_create(PROC_QUEUE, IMSG_QUEUE_ENVELOPE, s->id, -1);
		m_add_u32(m, s->msgid);
		m_add_str(m, buf_cstr(&text));
		m_close(m);
	}
	buf_free(&text);
	m = proc_create(PROC_QUEUE, IMSG_QUEUE_COMMIT, s->id, -1);
	m_add_u32(m, s->msgid);
	m_add_u64(m, s->msgsize);
	m_close(m);
	log_debug("smtp session=%s event=commit msgid=%08x size=%llu",
	    s->id_str, s->msgid, (unsigned long long)s->msgsize);
	s->msgid = 0;	/* the queue owns it now: no rollback */
	s->wait = W_COMMIT;
}

void
smtp_msg_on_commit(struct smtp_session *s, uint32_t ok, const char *reply)
{
	char	 esc[64];

	log_info("smtp session=%s event=message from=<%s> nrcpt=%u "
	    "size=%llu result=%s reply=\"%s\"", s->id_str,
	    log_escape(esc, sizeof(esc), s->sender, strlen(s->sender)),
	    s->nrcpt, (unsigned long long)s->msgsize, ok ? "ok" : "failed",
	    reply);
	if (ok) {
		smtp_stat("smtp.message", 1);
		smtp_stat_bytes("smtp.bytes", s->msgsize);
	}
	smtp_session_tx_reset(s);
	smtp_session_reply_from(s, reply, ok ? "250 2.0.0 Message accepted" :
	    "451 4.3.0 Temporary queue failure");
}

static void
smtp_msg_chunk_done(struct smtp_session *s)
{
	smtp_set_state(s, S_CMD);
	smtp_io_timer(s);
	if (s->bdat_error[0]) {
		smtp_session_reply(s, "%s", s->bdat_error);
		s->bdat_error[0] = '\0';
		return;
	}
	if (!s->bdat_last) {
		smtp_session_reply(s, "250 2.0.0 %llu octets received",
		    (unsigned long long)s->bdat_chunk);
		return;
	}
	smtp_msg_end(s);
}

int
smtp_msg_input(struct smtp_session *s)
{
	size_t	 n;

	if (s->state == S_DATA) {
		if (s->in.len == 0)
			return 0;
		n = smtp_data_feed(&s->data, s->in.data, s->in.len);
		smtp_msg_flush(s);	/* before the input moves */
		buf_consume(&s->in, n);
		if (!s->data.done)
			return 0;
		smtp_msg_end(s);
		return 1;
	}
	/* S_BDAT */
	if (s->bdat_left > 0) {
		if (s->in.len == 0)
			return 0;
		n = s->in.len < s->bdat_left ? s->in.len :
		    (size_t)s->bdat_left;
		if (s->msgfd != -1 && s->bdat_error[0] == '\0') {
			smtp_data_feed(&s->data, s->in.data, n);
			smtp_msg_flush(s);	/* before the input moves */
		}
		buf_consume(&s->in, n);
		s->bdat_left -= n;
		if (s->bdat_left > 0)
			return 0;
	}
	smtp_msg_chunk_done(s);
	return 1;
}
