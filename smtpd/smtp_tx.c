/*
 * The envelope part of an smtp transaction: MAIL FROM with its ESMTP
 * parameters (SIZE, BODY, SMTPUTF8, RET, ENVID, AUTH), RCPT TO with
 * NOTIFY and ORCPT, each recipient decided by lka.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "log.h"
#include "proc.h"
#include "proto.h"
#include "smtp.h"
#include "smtp_cmd.h"
#include "smtp_tx.h"

/* Envelopes of one transaction: what the queue takes in one message
 * (queue_store.c INCOMING_EVP_MAX); each is ~4.5 KB held here. */
#define SMTP_TX_ENV_MAX		20000

static const char *
addr_error(int r, int sender)
{
	if (r == ADDR_E8BIT)
		return "553 5.6.7 UTF-8 address requires SMTPUTF8";
	return sender ? "553 5.1.7 Sender address syntax error" :
	    "553 5.1.3 Recipient address syntax error";
}

/* xtext parameter into out: 0, or -1 with the reply sent. */
static int
smtp_xtext_param(struct smtp_session *s, const char *v, char *out,
    size_t outlen)
{
	long	 n;

	n = addr_xtext_decode(v, strlen(v), out, outlen);
	if (n == -2) {
		smtp_session_reply(s, "501 5.5.4 Invalid characters in "
		    "parameter");
		return -1;
	}
	if (n < 0) {
		smtp_session_reply(s, "501 5.5.4 Malformed xtext parameter");
		return -1;
	}
	return 0;
}

void
smtp_cmd_mail(struct smtp_session *s, struct smtp_cmd *c)
{
	struct mailaddr	 ma;
	size_t		 i;
	int		 r, utf8 = 0;
	unsigned	 flags = 0;
	enum dsn_ret	 ret = DSN_RET_DEFAULT;
	char		 envid[128] = "", tmp[SMTP_LINE_MAX];
	unsigned long long size;
	char		*end;

	if (s->helo == 0) {
		smtp_session_reply(s, "503 5.5.1 Say EHLO first");
		return;
	}
	if (s->in_tx || s->wait == W_DISKCHECK) {
		smtp_session_reply(s, "503 5.5.1 Nested MAIL command");
		return;
	}
	if (s->lctx && (s->lctx->l->flags & LISTEN_TLS_REQUIRE) &&
	    !s->tls_done) {
		smtp_session_reply(s, "530 5.7.0 Must issue a STARTTLS "
		    "command first");
		return;
	}
	if (s->lctx && (s->lctx->l->flags & LISTEN_AUTH) &&
	    s->auth_user[0] == '\0') {
		smtp_session_reply(s, "530 5.7.0 Authentication required");
		return;
	}
	for (i = 0; i < c->nparams; i++) {
		const char *k = c->params[i].key, *v = c->params[i].value;

		if (strcasecmp(k, "SIZE") == 0 && v) {
			size = strtoull(v, &end, 10);
			if (*end != '\0' || *v == '-') {
				smtp_session_reply(s, "501 5.5.4 Bad SIZE");
				return;
			}
			if (env->max_message_size &&
			    size > env->max_message_size) {
				smtp_session_reply(s, "552 5.3.4 Message too "
				    "big");
				return;
			}
		} else if (strcasecmp(k, "BODY") == 0 && v) {
			if (strcasecmp(v, "8BITMIME") == 0)
				flags |= EF_8BITMIME;
			else if (strcasecmp(v, "7BIT") != 0) {
				smtp_session_reply(s, "501 5.5.4 Unsupported "
				    "BODY");
				return;
			}
		} else if (strcasecmp(k, "SMTPUTF8") == 0 && v == NULL) {
			utf8 = 1;
			flags |= EF_SMTPUTF8;
		} else if (strcasecmp(k, "RET") == 0 && v) {
			if (strcasecmp(v, "FULL") == 0)
				ret = DSN_RET_FULL;
			else if (strcasecmp(v, "HDRS") == 0)
				ret = DSN_RET_HDRS;
			else {
				smtp_session_reply(s, "501 5.5.4 Bad RET");
				return;
			}
		} else if (strcasecmp(k, "ENVID") == 0 && v) {
			if (strlen(v) > 100 * 3) {
				smtp_session_reply(s, "501 5.5.4 ENVID too "
				    "long");
				return;
			}
			if (smtp_xtext_param(s, v, envid, sizeof(envid)) == -1)
				return;
		} else if (strcasecmp(k, "AUTH") == 0 && v) {
			if (smtp_xtext_param(s, v, tmp, sizeof(tmp)) == -1)
				return;
		} else {
			smtp_session_reply(s, "555 5.5.4 Unsupported "
			    "parameter %s", strcasecmp(k, "SIZE") == 0 ||
			    strcasecmp(k, "BODY") == 0 ? "value" : "");
			return;
		}
	}
	r = addr_parse_path(c->arg, strlen(c->arg), utf8 ? ADDR_UTF8 : 0, 1,
	    0, &ma);
	if (r != ADDR_OK) {
		smtp_session_reply(s, "%s", addr_error(r, 1));
		return;
	}
	if (addr_format(&ma, s->sender, sizeof(s->sender)) == -1) {
		smtp_session_reply(s, "553 5.1.7 Sender address too long");
		return;
	}
	s->evflags = flags;
	s->smtputf8 = utf8;
	s->dsn_ret = ret;
	strlcpy(s->dsn_envid, envid, sizeof(s->dsn_envid));
	if (env->min_free_space) {
		proc_compose(PROC_QUEUE, IMSG_QUEUE_DISKCHECK, s->id, -1);
		s->wait = W_DISKCHECK;
		return;
	}
	s->in_tx = 1;
	smtp_session_reply(s, "250 2.1.0 Ok");
}

static int
parse_notify(const char *v, unsigned *out)
{
	char	 tmp[64], *p, *tok;

	if (strlcpy(tmp, v, sizeof(tmp)) >= sizeof(tmp))
		return -1;
	*out = 0;
	for (p = tmp; (tok = strsep(&p, ",")) != NULL;) {
		if (strcasecmp(tok, "NEVER") == 0)
			*out |= DSN_NOTIFY_NEVER;
		else if (strcasecmp(tok, "SUCCESS") == 0)
			*out |= DSN_NOTIFY_SUCCESS;
		else if (strcasecmp(tok, "FAILURE") == 0)
			*out |= DSN_NOTIFY_FAILURE;
		else if (strcasecmp(tok, "DELAY") == 0)
			*out |= DSN_NOTIFY_DELAY;
		else
			return -1;
	}
	if ((*out & DSN_NOTIFY_NEVER) && *out != DSN_NOTIFY_NEVER)
		return -1;
	return 0;
}

void
smtp_cmd_rcpt(struct smtp_session *s, struct smtp_cmd *c)
{
	struct envelope	*e = &s->pending;
	struct mailaddr	 ma;
	struct mbuild	*m;
	size_t		 i;
	int		 r;
	unsigned	 maxr = env->max_rcpt ? env->max_rcpt : 1000;

	if (!s->in_tx) {
		smtp_session_reply(s, "503 5.5.1 Need MAIL before RCPT");
		return;
	}
	if (s->nrcpt >= maxr) {
		smtp_session_reply(s, "452 4.5.3 Too many recipients");
		return;
	}
	memset(e, 0, sizeof(*e));
	for (i = 0; i < c->nparams; i++) {
		const char *k = c->params[i].key, *v = c->params[i].value;

		if (strcasecmp(k, "NOTIFY") == 0 && v) {
			if (parse_notify(v, &e->dsn_notify) == -1) {
				smtp_session_reply(s, "501 5.5.4 Bad NOTIFY");
				return;
			}
		} else if (strcasecmp(k, "ORCPT") == 0 && v) {
			const char *semi = strchr(v, ';');

			if (semi == NULL || semi == v) {
				smtp_session_reply(s, "501 5.5.4 Bad ORCPT");
				return;
			}
			if (smtp_xtext_param(s, v, e->dsn_orcpt,
			    sizeof(e->dsn_orcpt)) == -1)
				return;
		} else {
			smtp_session_reply(s, "555 5.5.4 Unsupported "
			    "parameter");
			return;
		}
	}
	r = addr_parse_path(c->arg, strlen(c->arg),
	    s->smtputf8 ? ADDR_UTF8 : 0, 0, 1, &ma);
	if (r != ADDR_OK) {
		smtp_session_reply(s, "%s", addr_error(r, 0));
		return;
	}
	if (ma.domain[0] == '\0')	/* <postmaster> */
		strlcpy(ma.domain, s->hostname, sizeof(ma.domain));
	if (addr_format(&ma, e->orig_rcpt, sizeof(e->orig_rcpt)) == -1) {
		smtp_session_reply(s, "553 5.1.3 Recipient address too long");
		return;
	}
	m = proc_create(PROC_LKA, IMSG_LKA_RCPT, s->id, -1);
	m_add_u32(m, s->lindex);
	m_add_str(m, s->addr);
	m_add_u32(m, (uint32_t)s->is_local);
	m_add_str(m, s->auth_user);
	m_add_str(m, s->sender);
	m_add_str(m, e->orig_rcpt);
	m_add_str(m, s->lctx ? s->lctx->l->tag : "");
	m_close(m);
	s->wait = W_RCPT;
}

void
smtp_on_rcpt_result(struct smtp_session *s, struct mreader *r)
{
	struct smtp_rcpt	*rc;
	struct smtp_rcpts	 list;
	const char		*reply, *action, *rcpt, *user;
	uint32_t		 ok, count, i;
	int			 bad = 0;

	TAILQ_INIT(&list);
	if (m_get_u32(r, &ok) == -1 || m_get_str(r, &reply) == -1 ||
	    m_get_u32(r, &count) == -1 || count > 10000)
		bad = 1;
	for (i = 0; !bad && i < count; i++) {
		if (m_get_str(r, &action) == -1 || m_get_str(r, &rcpt) == -1 ||
		    m_get_str(r, &user) == -1) {
			bad = 1;
			break;
		}
		if ((rc = calloc(1, sizeof(*rc))) == NULL)
			fatal("smtp_on_rcpt_result");
		rc->evp = s->pending;
		if (strlcpy(rc->evp.action, action, sizeof(rc->evp.action)) >=
		    sizeof(rc->evp.action) ||
		    strlcpy(rc->evp.rcpt, rcpt, sizeof(rc->evp.rcpt)) >=
		    sizeof(rc->evp.rcpt) ||
		    strlcpy(rc->evp.user, user, sizeof(rc->evp.user)) >=
		    sizeof(rc->evp.user))
			bad = 1;
		rc->evp.type = user[0] ? ENV_MDA : ENV_MTA;
		TAILQ_INSERT_TAIL(&list, rc, entry);
	}
	if (!bad && m_end(r) == -1)
		bad = 1;
	if (bad || (ok && count == 0)) {
		while ((rc = TAILQ_FIRST(&list)) != NULL) {
			TAILQ_REMOVE(&list, rc, entry);
			free(rc);
		}
		if (bad)
			log_warnx("smtp session=%s event=bad-imsg "
			    "type=rcpt-result", s->id_str);
		smtp_session_reply(s, "451 4.3.0 Temporary failure");
		return;
	}
	if (!ok) {
		char e1[128], e2[128], e3[128];

		log_info("smtp session=%s event=rcpt-refused from=<%s> "
		    "to=<%s> reply=\"%s\"", s->id_str,
		    log_escape(e1, sizeof(e1), s->sender, strlen(s->sender)),
		    log_escape(e2, sizeof(e2), s->pending.orig_rcpt,
		    strlen(s->pending.orig_rcpt)),
		    log_escape(e3, sizeof(e3), reply, strlen(reply)));
		smtp_session_reply_from(s, reply, "550 5.7.1 Delivery not authorized");
		return;
	}
	if (s->nenv + count > SMTP_TX_ENV_MAX) {
		/* aliases can multiply RCPTs: bound what is held here */
		while ((rc = TAILQ_FIRST(&list)) != NULL) {
			TAILQ_REMOVE(&list, rc, entry);
			free(rc);
		}
		smtp_session_reply(s, "452 4.5.3 Too many recipients");
		return;
	}
	while ((rc = TAILQ_FIRST(&list)) != NULL) {
		TAILQ_REMOVE(&list, rc, entry);
		TAILQ_INSERT_TAIL(&s->rcpts, rc, entry);
	}
	s->nenv += count;
	s->nrcpt++;
	smtp_session_reply(s, "250 2.1.5 Recipient ok");
}

