/*
 * The smtp process: accepts connections on the listeners the parent
 * opened, keeps the sessions by id, and routes the answers of lka and
 * queue to them.  Runs as _smtpd chrooted to an empty directory: it
 * never opens a file or resolves a name.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <event.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "proc.h"
#include "proto.h"
#include "smtp.h"

/* Sessions by id: a small chained hash table. */
#define SMTP_HASH	1024

struct snode {
	LIST_ENTRY(snode)	 entry;
	struct smtp_session	*s;
};
LIST_HEAD(sbucket, snode);

static struct sbucket	 sessions[SMTP_HASH];
static struct smtp_lctx	**lctxs;	/* each stays allocated: sessions
					 * point to theirs */
static size_t		 nlctx;
static int		 paused;
static struct event	 ev_resume;	/* after EMFILE */
unsigned		 smtp_nsessions;

struct smtp_session *
smtp_session_find(uint32_t id)
{
	struct snode	*n;

	LIST_FOREACH(n, &sessions[id % SMTP_HASH], entry)
		if (n->s->id == id)
			return n->s;
	return NULL;
}

void
smtp_session_register(struct smtp_session *s)
{
	struct snode	*n;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		fatal("smtp_session_register");
	n->s = s;
	LIST_INSERT_HEAD(&sessions[s->id % SMTP_HASH], n, entry);
	smtp_nsessions++;
}

void
smtp_session_unregister(struct smtp_session *s)
{
	struct snode	*n;

	LIST_FOREACH(n, &sessions[s->id % SMTP_HASH], entry)
		if (n->s == s)
			break;
	if (n == NULL)
		return;
	LIST_REMOVE(n, entry);
	free(n);
	smtp_nsessions--;
}

unsigned
smtp_sessions_from(const char *addr)
{
	struct snode	*n;
	unsigned	 count = 0;
	size_t		 i;

	for (i = 0; i < SMTP_HASH; i++)
		LIST_FOREACH(n, &sessions[i], entry)
			if (strcmp(n->s->addr, addr) == 0)
				count++;
	return count;
}

void
smtp_stat(const char *name, int delta)
{
	struct mbuild	*m;

	if (proc_chan(PROC_CONTROL) == NULL)
		return;
	m = proc_create(PROC_CONTROL, IMSG_STAT_INCR, 0, -1);
	m_add_str(m, name);
	m_add_int(m, delta);
	m_close(m);
}

/* A counter increment too large for one IMSG_STAT_INCR int delta. */
void
smtp_stat_bytes(const char *name, uint64_t n)
{
	while (n > INT_MAX) {
		smtp_stat(name, INT_MAX);
		n -= INT_MAX;
	}
	if (n > 0)
		smtp_stat(name, (int)n);
}

static void
smtp_listen_enable(int on)
{
	size_t	 i;

	for (i = 0; i < nlctx; i++) {
		if (on && !lctxs[i]->active && lctxs[i]->l->fd != -1) {
			event_add(&lctxs[i]->ev, NULL);
			lctxs[i]->active = 1;
		} else if (!on && lctxs[i]->active) {
			event_del(&lctxs[i]->ev);
			lctxs[i]->active = 0;
		}
	}
}

static void
smtp_on_resume(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	if (!paused)
		smtp_listen_enable(1);
}

static void
smtp_on_accept(int fd, short ev, void *arg)
{
	struct smtp_lctx	*lc = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	struct timeval		 tv = { 1, 0 };
	int			 cfd, i, one = 1;

	(void)ev;
	for (i = 0; i < 64; i++) {
		len = sizeof(ss);
		cfd = accept4(fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd == -1) {
			if (errno == EMFILE || errno == ENFILE) {
				log_warn("smtp event=accept-paused");
				smtp_listen_enable(0);
				evtimer_add(&ev_resume, &tv);
			}
			return;
		}
		/* Replies are whole writes: never wait for a delayed ACK. */
		if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)
			(void)setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
		smtp_session_new(cfd, lc, (struct sockaddr *)&ss, 0, 0);
	}
}

struct tls *
smtp_tls_server(struct pki *pki)
{
	struct tls_config	*cfg;
	struct tls		*ctx;

	if ((cfg = tls_config_new()) == NULL)
		fatalx("smtp: tls_config_new");
	if (tls_config_set_keypair_mem(cfg, (const uint8_t *)pki->cert,
	    pki->cert_len, (const uint8_t *)pki->key, pki->key_len) == -1)
		fatalx("smtp: pki %s: %s", pki->name, tls_config_error(cfg));
	tls_config_set_protocols(cfg, TLS_PROTOCOLS_DEFAULT);
	if (tls_config_set_ciphers(cfg, "secure") == -1)
		fatalx("smtp: ciphers: %s", tls_config_error(cfg));
	if ((ctx = tls_server()) == NULL)
		fatalx("smtp: tls_server");
	if (tls_configure(ctx, cfg) == -1)
		fatalx("smtp: pki %s: %s", pki->name, tls_error(ctx));
	tls_config_free(cfg);
	return ctx;
}

static void
smtp_listeners_init(void)
{
	struct listener		*l;
	struct smtp_lctx	**set, *lc;
	size_t			 n = 0;

	TAILQ_FOREACH(l, &env->listeners, entry)
		n++;
	if ((set = calloc(n ? n : 1, sizeof(*set))) == NULL)
		fatal("smtp_listeners_init");
	n = 0;
	TAILQ_FOREACH(l, &env->listeners, entry) {
		if ((lc = calloc(1, sizeof(*lc))) == NULL)
			fatal("smtp_listeners_init");
		lc->l = l;
		if (l->pki && l->pki->cert && l->pki->key)
			lc->tls = smtp_tls_server(l->pki);
		set[n++] = lc;
	}
	evtimer_set(&ev_resume, smtp_on_resume, NULL);
	smtp_listeners_set(set, n);
}

struct smtp_lctx *
smtp_lctx_find(const struct listener *l)
{
	size_t	 i;

	for (i = 0; i < nlctx; i++)
		if (lctxs[i]->l->port == l->port &&
		    lctxs[i]->l->sslen == l->sslen &&
		    memcmp(&lctxs[i]->l->ss, &l->ss, l->sslen) == 0)
			return lctxs[i];
	return NULL;
}

void
smtp_listeners_set(struct smtp_lctx **set, size_t n)
{
	struct smtp_lctx	*lc;
	size_t			 i, j;

	/* Listeners gone from the set: no new sessions, old ones go on. */
	for (i = 0; i < nlctx; i++) {
		lc = lctxs[i];
		for (j = 0; j < n && set[j] != lc; j++)
			;
		if (j < n)
			continue;
		if (lc->active)
			event_del(&lc->ev);
		lc->active = 0;
		if (lc->l->fd != -1) {
			log_info("smtp event=listener-closed listener=%s "
			    "port=%u", lc->l->name, lc->l->port);
			close(lc->l->fd);
			lc->l->fd = -1;
		}
	}
	for (i = 0; i < n; i++) {
		lc = set[i];
		if (lc->l->flags & (LISTEN_TLS | LISTEN_TLS_REQUIRE |
		    LISTEN_SMTPS) && lc->tls == NULL)
			log_warnx("smtp listener=%s event=no-pki tls=off",
			    lc->l->name);
		if (lc->l->fd == -1 || lc->active)
			continue;
		event_set(&lc->ev, lc->l->fd, EV_READ | EV_PERSIST,
		    smtp_on_accept, lc);
		if (!paused) {
			event_add(&lc->ev, NULL);
			lc->active = 1;
		}
	}
	free(lctxs);
	lctxs = set;
	nlctx = n;
}

static void
smtp_ctl_answer(uint32_t peerid)
{
	struct mbuild	*m;

	m = proc_create(PROC_CONTROL, IMSG_CTL_END, peerid, -1);
	m_add_u32(m, 1);
	m_add_str(m, "");
	m_close(m);
}

static void
smtp_dispatch(enum proc_id from, struct imsg *imsg)
{
	struct smtp_session	*s;
	struct mreader		 r;
	const char		*str;
	uint32_t		 u;

	switch (imsg->type) {
	case IMSG_LKA_CONNECT_RESULT:
	case IMSG_LKA_RCPT_RESULT:
	case IMSG_LKA_AUTH_RESULT:
	case IMSG_LKA_VRFY_RESULT:
	case IMSG_QUEUE_CREATE_RESULT:
	case IMSG_QUEUE_COMMIT_RESULT:
	case IMSG_QUEUE_DISKCHECK_RESULT:
		if ((s = smtp_session_find(imsg->peerid)) == NULL)
			smtp_orphan_imsg(imsg);
		else
			smtp_session_on_imsg(s, imsg);
		return;
	case IMSG_SMTP_ENQUEUE:
		m_msg(&r, imsg);
		if (m_get_u32(&r, &u) == -1 || m_end(&r) == -1 ||
		    imsg->fd == -1) {
			log_warnx("smtp: bad IMSG_SMTP_ENQUEUE");
			return;
		}
		smtp_session_new(imsg->fd, NULL, NULL, 1, (uid_t)u);
		imsg->fd = -1;
		return;
	case IMSG_CTL_PAUSE:
	case IMSG_CTL_RESUME:
		m_msg(&r, imsg);
		if (m_get_str(&r, &str) == -1 || m_end(&r) == -1) {
			log_warnx("smtp: bad pause/resume");
			return;
		}
		if (strcmp(str, "smtp") != 0)
			return;
		paused = imsg->type == IMSG_CTL_PAUSE;
		smtp_listen_enable(!paused);
		log_info("smtp event=%s", paused ? "paused" : "resumed");
		smtp_ctl_answer(imsg->peerid);
		return;
	case IMSG_RELOAD_SMTP:
	case IMSG_RELOAD_LISTENER:
	case IMSG_RELOAD_COMMIT:
		if (from != PROC_PARENT)
			fatalx("smtp: reload imsg from %s", proc_name(from));
		smtp_reload_on_imsg(imsg);	/* smtp_reload.c */
		return;
	case IMSG_CTL_LOG_VERBOSE:
		m_msg(&r, imsg);
		if (m_get_u32(&r, &u) == 0 && m_end(&r) == 0)
			log_setverbose((int)u);
		return;
	}
	log_debug("smtp: imsg %u from %s ignored", imsg->type,
	    proc_name(from));
}

void
smtp_main(void)
{
	proc_child_start(PROC_SMTP, SMTPD_USER, "/var/empty", smtp_dispatch);
	smtp_listeners_init();
	event_dispatch();
	exit(0);
}
