/*
 * SMTP AUTH (RFC 4954) for the smtp process: PLAIN and LOGIN, only
 * after TLS, the credentials checked by lka against the listener's
 * passwd table; failures counted and the session cut after too many.
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

static void
smtp_auth_send(struct smtp_session *s, const char *user, const char *pass)
{
	struct mbuild	*m;

	strlcpy(s->auth_login_user, user, sizeof(s->auth_login_user));
	m = proc_create(PROC_LKA, IMSG_LKA_AUTH, s->id, -1);
	m_add_str(m, s->lctx->l->auth_table->name);
	m_add_str(m, user);
	m_add_str(m, pass);
	m_close(m);
	s->wait = W_AUTH;
	s->state = S_CMD;
}

/* PLAIN response: [authzid] NUL authcid NUL passwd */
static void
smtp_auth_plain(struct smtp_session *s, const char *b64)
{
	unsigned char	 buf[SMTP_AUTH_LINE_MAX];
	long		 n;
	char		 user[256], pass[256];
	unsigned char	*u, *p;
	size_t		 ul, pl;

	s->state = S_CMD;
	n = smtp_b64_decode(b64, strlen(b64), buf, sizeof(buf) - 1);
	if (n < 0) {
		smtp_session_reply(s, "501 5.5.2 Invalid base64 data");
		return;
	}
	buf[n] = '\0';
	if ((u = memchr(buf, '\0', (size_t)n)) == NULL ||
	    (p = memchr(u + 1, '\0', (size_t)n - (size_t)(u + 1 - buf))) ==
	    NULL) {
		smtp_session_reply(s, "501 5.5.2 Malformed PLAIN response");
		return;
	}
	u++;
	p++;
	ul = strlen((char *)u);
	pl = (size_t)n - (size_t)(p - buf);
	if (ul == 0 || ul >= sizeof(user) || pl >= sizeof(pass) ||
	    memchr(p, '\0', pl) != NULL) {
		smtp_session_reply(s, "501 5.5.2 Malformed PLAIN response");
		return;
	}
	memcpy(user, u, ul + 1);
	memcpy(pass, p, pl);
	pass[pl] = '\0';
	smtp_auth_send(s, user, pass);
	explicit_bzero(pass, sizeof(pass));
	explicit_bzero(buf, sizeof(buf));
}

void
smtp_on_auth_line(struct smtp_session *s, const char *line, size_t len)
{
	unsigned char	 buf[512];
	long		 n;

	if (len == 1 && line[0] == '*') {
		s->state = S_CMD;
		smtp_session_reply(s, "501 5.7.0 Authentication cancelled");
		return;
	}
	if (s->state == S_AUTH_PLAIN) {
		smtp_auth_plain(s, line);
		return;
	}
	n = smtp_b64_decode(line, len, buf, sizeof(buf) - 1);
	if (n < 0 || memchr(buf, '\0', (size_t)n) != NULL) {
		s->state = S_CMD;
		smtp_session_reply(s, "501 5.5.2 Invalid base64 data");
		return;
	}
	buf[n] = '\0';
	if (s->state == S_AUTH_LOGIN_USER) {
		if (n == 0 || (size_t)n >= sizeof(s->auth_login_user)) {
			s->state = S_CMD;
			smtp_session_reply(s, "501 5.5.2 Invalid user name");
			return;
		}
		strlcpy(s->auth_login_user, (char *)buf,
		    sizeof(s->auth_login_user));
		s->state = S_AUTH_LOGIN_PASS;
		smtp_session_reply(s, "334 UGFzc3dvcmQ6");
		return;
	}
	{
		char	 user[256];

		strlcpy(user, s->auth_login_user, sizeof(user));
		smtp_auth_send(s, user, (char *)buf);
	}
	explicit_bzero(buf, sizeof(buf));
}

void
smtp_cmd_auth(struct smtp_session *s, struct smtp_cmd *c)
{
	if (s->lctx == NULL || s->lctx->l->auth_table == NULL ||
	    !(s->lctx->l->flags & (LISTEN_AUTH | LISTEN_AUTH_OPTIONAL))) {
		smtp_session_reply(s, "503 5.5.1 AUTH not supported");
		return;
	}
	if (!s->tls_done) {
		smtp_session_reply(s, "538 5.7.11 Encryption required for "
		    "requested authentication mechanism");
		return;
	}
	if (s->helo == 0) {
		smtp_session_reply(s, "503 5.5.1 Say EHLO first");
		return;
	}
	if (s->auth_user[0] || s->in_tx) {
		smtp_session_reply(s, "503 5.5.1 AUTH not allowed now");
		return;
	}
	if (strcasecmp(c->arg, "PLAIN") == 0) {
		if (c->arg2 == NULL) {
			s->state = S_AUTH_PLAIN;
			smtp_session_reply(s, "334 ");
		} else if (strcmp(c->arg2, "=") == 0)
			smtp_auth_plain(s, "");
		else
			smtp_auth_plain(s, c->arg2);
		return;
	}
	if (strcasecmp(c->arg, "LOGIN") == 0) {
		if (c->arg2 == NULL) {
			s->state = S_AUTH_LOGIN_USER;
			smtp_session_reply(s, "334 VXNlcm5hbWU6");
		} else {
			s->state = S_AUTH_LOGIN_USER;
			smtp_on_auth_line(s, c->arg2, strlen(c->arg2));
		}
		return;
	}
	smtp_session_reply(s, "504 5.5.4 Unsupported authentication "
	    "mechanism");
}

void
smtp_on_auth_result(struct smtp_session *s, uint32_t u)
{
	if (u == 1) {
		strlcpy(s->auth_user, s->auth_login_user,
		    sizeof(s->auth_user));
		log_info("smtp session=%s event=authenticated user=%s",
		    s->id_str, s->auth_user);
		smtp_session_reply(s, "235 2.7.0 Authentication succeeded");
	} else if (u == 2)
		smtp_session_reply(s, "454 4.7.0 Temporary authentication "
		    "failure");
	else {
		log_info("smtp session=%s event=auth-failed address=%s "
		    "user=%s", s->id_str, s->addr, s->auth_login_user);
		smtp_session_reply(s, "535 5.7.8 Authentication credentials "
		    "invalid");
		if (++s->auth_failures >= (env->max_auth_failures ?
		    env->max_auth_failures : 3) && !s->quit) {
			smtp_session_reply(s, "421 4.7.0 Too many "
			    "authentication failures");
			s->quit = 1;
		}
	}
	explicit_bzero(s->auth_login_user, sizeof(s->auth_login_user));
}
