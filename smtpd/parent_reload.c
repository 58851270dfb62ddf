/*
 * The parent's half of applying a validated reload: listeners (kept by
 * address and port, new ones opened here, removed ones closed), and what
 * the chrooted smtp, queue and mta processes need of the new file, sent
 * to them as IMSG_RELOAD_* (common/proto.h).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tls.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "parent.h"
#include "proc.h"
#include "proto.h"
#include "smtpd/reload.h"

/* The listener of list with l's address and port, or NULL. */
static struct listener *
reload_listener_match(struct listenerlist *list, const struct listener *l)
{
	struct listener	*o;

	TAILQ_FOREACH(o, list, entry)
		if (o->port == l->port && o->sslen == l->sslen &&
		    memcmp(&o->ss, &l->ss, l->sslen) == 0)
			return o;
	return NULL;
}

/*
 * The certificate and key of l make a TLS server context (smtp builds
 * one from them and could not refuse); 0 if so, else -1 with the error
 * in errs.
 */
static int
reload_pki_check(const struct listener *l, const char *path,
    struct buf *errs)
{
	struct tls_config	*cfg;
	struct tls		*ctx = NULL;
	int			 ret = -1;

	if (l->pki == NULL || l->pki->cert == NULL || l->pki->key == NULL)
		return 0;
	if (tls_init() == -1 || (cfg = tls_config_new()) == NULL)
		fatalx("parent: tls_config_new");
	if (tls_config_set_keypair_mem(cfg, (const uint8_t *)l->pki->cert,
	    l->pki->cert_len, (const uint8_t *)l->pki->key,
	    l->pki->key_len) == -1)
		buf_printf(errs, "%s:%d: pki %s: %s\n", path, l->line,
		    l->pki->name, tls_config_error(cfg));
	else if ((ctx = tls_server()) == NULL)
		fatalx("parent: tls_server");
	else if (tls_configure(ctx, cfg) == -1)
		buf_printf(errs, "%s:%d: pki %s: %s\n", path, l->line,
		    l->pki->name, tls_error(ctx));
	else
		ret = 0;
	tls_free(ctx);
	tls_config_free(cfg);
	return ret;
}

int
reload_listeners_open(struct smtpd_config *old, struct smtpd_config *conf,
    const char *path, struct buf *errs)
{
	struct listener	*l, *o;
	int		 saved;

	TAILQ_FOREACH(l, &conf->listeners, entry)
		l->fd = -1;
	TAILQ_FOREACH(l, &conf->listeners, entry)
		if (reload_pki_check(l, path, errs) == -1)
			return -1;
	TAILQ_FOREACH(l, &conf->listeners, entry) {
		if ((o = reload_listener_match(&old->listeners, l)) != NULL &&
		    o->fd != -1)
			continue;	/* kept: smtp has it */
		if (parent_listen(l) == -1) {
			saved = errno;
			buf_printf(errs, "%s:%d: cannot listen on %s port %u: "
			    "%s\n", path, l->line, l->name, l->port,
			    strerror(saved));
			reload_listeners_abort(conf);
			return -1;
		}
	}
	return 0;
}

void
reload_listeners_abort(struct smtpd_config *conf)
{
	struct listener	*l;

	TAILQ_FOREACH(l, &conf->listeners, entry)
		if (l->fd != -1) {
			close(l->fd);
			l->fd = -1;
		}
}

/*
 * The new listeners take over: kept ones inherit the old socket, the
 * parent closes its copy of the removed ones (smtp closes its own on
 * IMSG_RELOAD_COMMIT).
 */
static void
reload_listeners_swap(struct smtpd_config *old, struct smtpd_config *conf,
    int *opened, size_t nopened)
{
	struct listener	*l, *o;
	size_t		 i = 0;

	TAILQ_FOREACH(l, &conf->listeners, entry) {
		if (i < nopened)
			opened[i] = l->fd != -1;
		i++;
		if (l->fd != -1)
			continue;
		if ((o = reload_listener_match(&old->listeners, l)) != NULL) {
			l->fd = o->fd;
			o->fd = -1;
		}
	}
	TAILQ_FOREACH(o, &old->listeners, entry)
		if (o->fd != -1) {
			log_info("parent event=listener-closed listener=%s "
			    "port=%u", o->name, o->port);
			close(o->fd);
			o->fd = -1;
		}
}

static void
reload_send_smtp(struct smtpd_config *conf, int *opened, size_t nopened)
{
	struct mbuild	*m;
	struct listener	*l;
	size_t		 i = 0;
	int		 fd;

	m = proc_create(PROC_SMTP, IMSG_RELOAD_SMTP, 0, -1);
	m_add_str(m, conf->hostname);
	m_add_u64(m, conf->max_message_size);
	m_add_u32(m, conf->max_rcpt);
	m_add_u32(m, conf->max_hops);
	m_add_u32(m, (uint32_t)conf->vrfy);
	m_add_u32(m, (uint32_t)conf->etrn);
	m_add_u64(m, conf->min_free_space);
	m_add_u32(m, conf->max_sessions);
	m_add_u32(m, conf->max_sessions_per_ip);
	m_add_u64(m, (uint64_t)conf->timeout);
	m_add_u64(m, (uint64_t)conf->timeout_data);
	m_add_u32(m, conf->max_errors);
	m_add_u32(m, conf->max_auth_failures);
	m_close(m);
	TAILQ_FOREACH(l, &conf->listeners, entry) {
		fd = -1;
		if (i < nopened && opened[i] && (fd = dup(l->fd)) == -1)
			fatal("parent: reload: dup listener");
		i++;
		m = proc_create(PROC_SMTP, IMSG_RELOAD_LISTENER, 0, fd);
		m_add_u32(m, (uint32_t)l->index);
		m_add_str(m, l->name);
		m_add_data(m, &l->ss, l->sslen);
		m_add_u32(m, l->port);
		m_add_u32(m, (uint32_t)l->flags);
		m_add_str(m, l->hostname);
		m_add_str(m, l->tag);
		m_add_str(m, l->auth_table ? l->auth_table->name : "");
		m_add_str(m, l->pki ? l->pki->name : "");
		m_add_data(m, l->pki && l->pki->cert ? l->pki->cert : "",
		    l->pki && l->pki->cert ? l->pki->cert_len : 0);
		m_add_data(m, l->pki && l->pki->key ? l->pki->key : "",
		    l->pki && l->pki->key ? l->pki->key_len : 0);
		m_close(m);
	}
	proc_compose(PROC_SMTP, IMSG_RELOAD_COMMIT, 0, -1);
}

static void
reload_send_queue(struct smtpd_config *conf)
{
	struct mbuild	*m;
	struct action	*a;
	uint32_t	 n = 0;

	TAILQ_FOREACH(a, &conf->actions, entry)
		n++;
	m = proc_create(PROC_QUEUE, IMSG_RELOAD_QUEUE, 0, -1);
	m_add_u64(m, (uint64_t)conf->queue_ttl);
	m_add_u64(m, (uint64_t)conf->queue_retry);
	m_add_u64(m, (uint64_t)conf->queue_retry_max);
	m_add_u64(m, (uint64_t)conf->bounce_warn_interval);
	m_add_u64(m, conf->min_free_space);
	m_add_str(m, conf->hostname);
	m_add_str(m, conf->postmaster);
	m_add_u32(m, n);
	TAILQ_FOREACH(a, &conf->actions, entry) {
		m_add_str(m, a->name);
		m_add_u32(m, (uint32_t)a->method);
	}
	m_close(m);
}

/*
 * CA files of relay actions, read here (mta cannot open them), one
 * message each so that a large bundle fits.
 */
static void
reload_send_mta(struct smtpd_config *conf)
{
	struct mbuild	*m;
	struct action	*a, *next;
	uint8_t		*mem;
	size_t		 len;

	for (a = TAILQ_FIRST(&conf->actions); a != NULL; a = next) {
		next = TAILQ_NEXT(a, entry);
		while (next != NULL && (next->method != A_RELAY ||
		    next->ca_file == NULL))
			next = TAILQ_NEXT(next, entry);
		if (a->method != A_RELAY || a->ca_file == NULL)
			continue;
		len = 0;
		if ((mem = tls_load_file(a->ca_file, &len, NULL)) == NULL)
			log_warnx("parent event=reload-ca-unreadable file=%s",
			    a->ca_file);
		else if (len > IMSG_MAX_SIZE - 8192) {
			log_warnx("parent event=reload-ca-too-large file=%s",
			    a->ca_file);
			tls_unload_file(mem, len);
			mem = NULL;
		}
		if (mem == NULL)
			len = 0;
		m = proc_create(PROC_MTA, IMSG_RELOAD_MTA, 0, -1);
		m_add_u32(m, next != NULL);
		m_add_str(m, a->ca_file);
		m_add_data(m, mem ? mem : (const uint8_t *)"", len);
		m_close(m);
		if (mem)
			tls_unload_file(mem, len);
		if (next == NULL)
			return;
	}
	/* no CA file: one message says so */
	m = proc_create(PROC_MTA, IMSG_RELOAD_MTA, 0, -1);
	m_add_u32(m, 0);
	m_add_str(m, "");
	m_add_data(m, "", 0);
	m_close(m);
}

int
reload_push(struct smtpd_config *old, struct smtpd_config *conf)
{
	struct listener	*l;
	int		*opened;
	size_t		 n = 0;
	int		 sent = 0;

	TAILQ_FOREACH(l, &conf->listeners, entry)
		n++;
	if ((opened = calloc(n ? n : 1, sizeof(*opened))) == NULL)
		fatal("parent: reload");
	reload_listeners_swap(old, conf, opened, n);
	if (proc_chan(PROC_SMTP) != NULL) {
		reload_send_smtp(conf, opened, n);
		sent++;
	}
	if (proc_chan(PROC_QUEUE) != NULL) {
		reload_send_queue(conf);
		sent++;
	}
	if (proc_chan(PROC_MTA) != NULL) {
		reload_send_mta(conf);
		sent++;
	}
	free(opened);
	return sent;
}
