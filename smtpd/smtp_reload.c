/*
 * smtp's half of a reload: the parent sends the new limits and settings
 * (IMSG_RELOAD_SMTP), then every listener of the new file
 * (IMSG_RELOAD_LISTENER, with a socket when it is new), then
 * IMSG_RELOAD_COMMIT.  Sessions in progress are never touched.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "proc.h"
#include "proto.h"
#include "smtp.h"

static struct smtp_lctx	**pending;
static size_t		  npending, cpending;

static void
smtp_reload_settings(struct mreader *r)
{
	const char	*host;
	uint64_t	 size, minfree, to, todata;
	uint32_t	 rcpt, hops, vrfy, etrn, sess, sessip, errs, authf;

	if (m_get_str(r, &host) == -1 || m_get_u64(r, &size) == -1 ||
	    m_get_u32(r, &rcpt) == -1 || m_get_u32(r, &hops) == -1 ||
	    m_get_u32(r, &vrfy) == -1 || m_get_u32(r, &etrn) == -1 ||
	    m_get_u64(r, &minfree) == -1 || m_get_u32(r, &sess) == -1 ||
	    m_get_u32(r, &sessip) == -1 || m_get_u64(r, &to) == -1 ||
	    m_get_u64(r, &todata) == -1 || m_get_u32(r, &errs) == -1 ||
	    m_get_u32(r, &authf) == -1 || m_end(r) == -1)
		fatalx("smtp: bad IMSG_RELOAD_SMTP");
	strlcpy(env->hostname, host, sizeof(env->hostname));
	env->max_message_size = size;
	env->max_rcpt = rcpt;
	env->max_hops = hops;
	env->vrfy = (int)vrfy;
	env->etrn = (int)etrn;
	env->min_free_space = minfree;
	env->max_sessions = sess;
	env->max_sessions_per_ip = sessip;
	env->timeout = (time_t)to;
	env->timeout_data = (time_t)todata;
	env->max_errors = errs;
	env->max_auth_failures = authf;
}

static char *
smtp_reload_dup(const void *p, size_t len)
{
	char	*d;

	if ((d = malloc(len + 1)) == NULL)
		fatal("smtp reload");
	memcpy(d, p, len);
	d[len] = '\0';
	return d;
}

static int
smtp_reload_same_pki(const struct pki *a, const struct pki *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return a->cert_len == b->cert_len && a->key_len == b->key_len &&
	    a->cert && b->cert && a->key && b->key &&
	    memcmp(a->cert, b->cert, a->cert_len) == 0 &&
	    memcmp(a->key, b->key, a->key_len) == 0;
}

/*
 * The struct listener built here, and the one it replaces, stay
 * allocated: sessions in progress point into them.
 */
static void
smtp_reload_listener(struct mreader *r, int fd)
{
	struct listener		*l;
	struct smtp_lctx	*lc;
	struct pki		*pki = NULL;
	const char		*name, *host, *tag, *auth, *pkiname;
	const void		*ss, *cert, *key;
	size_t			 sslen, certlen, keylen;
	uint32_t		 index, port, flags;

	if (m_get_u32(r, &index) == -1 || m_get_str(r, &name) == -1 ||
	    m_get_data(r, &ss, &sslen) == -1 || m_get_u32(r, &port) == -1 ||
	    m_get_u32(r, &flags) == -1 || m_get_str(r, &host) == -1 ||
	    m_get_str(r, &tag) == -1 || m_get_str(r, &auth) == -1 ||
	    m_get_str(r, &pkiname) == -1 ||
	    m_get_data(r, &cert, &certlen) == -1 ||
	    m_get_data(r, &key, &keylen) == -1 || m_end(r) == -1 ||
	    sslen > sizeof(l->ss) || port > 65535)
		fatalx("smtp: bad IMSG_RELOAD_LISTENER");
	if ((l = calloc(1, sizeof(*l))) == NULL)
		fatal("smtp reload");
	l->index = (int)index;
	strlcpy(l->name, name, sizeof(l->name));
	memcpy(&l->ss, ss, sslen);
	l->sslen = (socklen_t)sslen;
	l->port = (uint16_t)port;
	l->flags = (int)flags;
	strlcpy(l->hostname, host, sizeof(l->hostname));
	strlcpy(l->tag, tag, sizeof(l->tag));
	if (*auth && (l->auth_table = table_new(auth, TABLE_INLINE,
	    NULL)) == NULL)
		fatal("smtp reload");
	if (*pkiname && certlen > 0 && keylen > 0) {
		if ((pki = calloc(1, sizeof(*pki))) == NULL)
			fatal("smtp reload");
		strlcpy(pki->name, pkiname, sizeof(pki->name));
		pki->cert = smtp_reload_dup(cert, certlen);
		pki->cert_len = certlen;
		pki->key = smtp_reload_dup(key, keylen);
		pki->key_len = keylen;
		l->pki = pki;
	}
	if (fd != -1) {
		if ((lc = calloc(1, sizeof(*lc))) == NULL)
			fatal("smtp reload");
		l->fd = fd;
		lc->tls = pki ? smtp_tls_server(pki) : NULL;
		log_info("smtp event=listener-added listener=%s port=%u",
		    l->name, l->port);
	} else {
		if ((lc = smtp_lctx_find(l)) == NULL)
			fatalx("smtp: reload keeps listener %s port %u that "
			    "smtp does not have", l->name, l->port);
		l->fd = lc->l->fd;
		/* an old context may be in use by a handshake: kept */
		if (!smtp_reload_same_pki(lc->l->pki, pki))
			lc->tls = pki ? smtp_tls_server(pki) : NULL;
	}
	lc->l = l;
	if (npending == cpending) {
		cpending = cpending ? cpending * 2 : 8;
		if ((pending = reallocarray(pending, cpending,
		    sizeof(*pending))) == NULL)
			fatal("smtp reload");
	}
	pending[npending++] = lc;
}

void
smtp_reload_on_imsg(struct imsg *imsg)
{
	struct mreader	 r;
	int		 fd;

	m_msg(&r, imsg);
	switch (imsg->type) {
	case IMSG_RELOAD_SMTP:
		smtp_reload_settings(&r);
		npending = 0;
		return;
	case IMSG_RELOAD_LISTENER:
		fd = imsg->fd;
		imsg->fd = -1;
		smtp_reload_listener(&r, fd);
		return;
	case IMSG_RELOAD_COMMIT:
		if (m_end(&r) == -1)
			fatalx("smtp: bad IMSG_RELOAD_COMMIT");
		smtp_listeners_set(pending, npending);
		pending = NULL;
		npending = cpending = 0;
		log_info("smtp event=reloaded");
		proc_compose(PROC_PARENT, IMSG_RELOAD_DONE, 0, -1);
		return;
	}
}
