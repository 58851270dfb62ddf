/*
 * The failover walk.  A task (one message transaction) tries its hops in
 * order -- shuffled per message when the route is random, hops in relay
 * cooldown moved after the healthy ones -- until one gives every
 * recipient an answer.  Each distinct hop has a connector that owns its
 * sessions: idle sessions are reused (connection reuse), at most `mta
 * limit connections-per-hop` run in parallel, waiting tasks queue there.
 * A destination domain (of a task's first recipient) has at most `mta
 * limit connections-per-domain` transactions running or sessions being
 * set up for it, across connectors.  Relay health (failures, cooldown)
 * is kept per address and port.
 */
#include <event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mta.h"

struct mta_domain {
	TAILQ_ENTRY(mta_domain)	 entry;
	char			 name[RELAY_HOST_MAX + 1];
	unsigned		 active;	/* tasks in sessions */
	unsigned		 setup;		/* sessions set up for it */
	unsigned		 refs;		/* tasks pointing here */
};

struct csess {
	struct mta_session	*s;
	int			 ready_once;
	int			 idle;
	struct mta_domain	*setup_dom;	/* set up on its behalf */
};

struct mta_connector {
	TAILQ_ENTRY(mta_connector) entry;
	char			*key;
	struct route_hop	 hop;
	int			 plain;
	struct mta_tasklist	 waiting;
	size_t			 nwaiting;
	struct csess		*sess;
	unsigned		 nsess;
	unsigned		 sesscap;
	unsigned		 nsetup;
	int			 backoff;	/* no new sessions for now */
};

struct mta_relay {
	TAILQ_ENTRY(mta_relay)	 entry;
	char			 addr[RELAY_ADDR_MAX + 1];
	char			 host[RELAY_HOST_MAX + 1];
	unsigned		 port;
	unsigned		 fails;
	time_t			 until;
	time_t			 last_fail;
	time_t			 last_ok;
	char			 lasterr[300];
	unsigned long		 delivered;
	unsigned long		 failed;
};

static TAILQ_HEAD(, mta_connector) connectors =
    TAILQ_HEAD_INITIALIZER(connectors);
static TAILQ_HEAD(, mta_relay) relays = TAILQ_HEAD_INITIALIZER(relays);
static TAILQ_HEAD(, mta_domain) domains = TAILQ_HEAD_INITIALIZER(domains);
static struct event	 gc_ev;
static struct event	 pump_ev;

static void	 pump(struct mta_connector *);

static void
on_gc(int fd, short ev, void *arg)
{
	struct mta_connector	*c, *n;
	struct mta_domain	*d, *dn;
	struct timeval		 tv = { 10, 0 };

	(void)fd;
	(void)ev;
	(void)arg;
	for (c = TAILQ_FIRST(&connectors); c != NULL; c = n) {
		n = TAILQ_NEXT(c, entry);
		if (c->nsess == 0 && c->nwaiting == 0) {
			TAILQ_REMOVE(&connectors, c, entry);
			free(c->key);
			free(c->sess);
			free(c);
		}
	}
	for (d = TAILQ_FIRST(&domains); d != NULL; d = dn) {
		dn = TAILQ_NEXT(d, entry);
		if (d->active == 0 && d->setup == 0 && d->refs == 0) {
			TAILQ_REMOVE(&domains, d, entry);
			free(d);
		}
	}
	evtimer_add(&gc_ev, &tv);
}

/* A domain slot came free: connectors with waiting tasks may go on.
 * From the loop, never from inside a session callback. */
static void
on_pump(int fd, short ev, void *arg)
{
	struct mta_connector	*c;

	(void)fd;
	(void)ev;
	(void)arg;
	TAILQ_FOREACH(c, &connectors, entry)
		if (c->nwaiting > 0)
			pump(c);
}

static void
pump_later(void)
{
	struct timeval	 tv = { 0, 0 };

	if (!evtimer_pending(&pump_ev, NULL))
		evtimer_add(&pump_ev, &tv);
}

void
mta_route_init(void)
{
	struct timeval	 tv = { 10, 0 };

	evtimer_set(&gc_ev, on_gc, NULL);
	evtimer_add(&gc_ev, &tv);
	evtimer_set(&pump_ev, on_pump, NULL);
}

/* --- destination domains --- */

static struct mta_domain *
domain_get(const char *rcpt)
{
	struct mta_domain	*d;
	const char		*at;
	char			 name[RELAY_HOST_MAX + 1];
	size_t			 i;

	at = strrchr(rcpt, '@');
	strlcpy(name, at != NULL ? at + 1 : "", sizeof(name));
	for (i = 0; name[i]; i++)
		if (name[i] >= 'A' && name[i] <= 'Z')
			name[i] = (char)(name[i] - 'A' + 'a');
	TAILQ_FOREACH(d, &domains, entry)
		if (strcmp(d->name, name) == 0)
			return d;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		fatal("domain_get");
	strlcpy(d->name, name, sizeof(d->name));
	TAILQ_INSERT_TAIL(&domains, d, entry);
	return d;
}

/* 1 if one more transaction or session setup fits the domain's cap. */
static int
domain_room(const struct mta_domain *d)
{
	return d->active + d->setup < mta_conn_per_domain();
}

/* The task left its session: its domain slot is free. */
static void
task_release(struct mta_task *task)
{
	if (!task->held)
		return;
	task->held = 0;
	task->dom->active--;
	pump_later();
}

/* --- relay health --- */

static struct mta_relay *
relay_get(const char *addr, unsigned port, const char *host, int create)
{
	struct mta_relay	*r;

	TAILQ_FOREACH(r, &relays, entry)
		if (r->port == port && strcmp(r->addr, addr) == 0)
			return r;
	if (!create)
		return NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("relay_get");
	strlcpy(r->addr, addr, sizeof(r->addr));
	strlcpy(r->host, host ? host : "", sizeof(r->host));
	r->port = port;
	TAILQ_INSERT_TAIL(&relays, r, entry);
	return r;
}

void
mta_health_ok(const char *addr, unsigned port)
{
	struct mta_relay	*r;

	if ((r = relay_get(addr, port, NULL, 1)) == NULL)
		return;
	r->fails = 0;
	r->until = 0;
	r->last_ok = time(NULL);
}

void
mta_health_fail(const char *addr, unsigned port, const char *host,
    const char *why)
{
	struct mta_relay	*r;
	time_t			 cool = MTA_COOLDOWN;
	unsigned		 i;

	r = relay_get(addr, port, host, 1);
	r->failed++;
	strlcpy(r->lasterr, why, sizeof(r->lasterr));
	if (r->until > time(NULL))
		return;		/* already cooling: one failure, not five */
	r->fails++;
	for (i = 1; i < r->fails && cool < MTA_COOLDOWN_MAX; i++)
		cool *= 2;
	if (cool > MTA_COOLDOWN_MAX)
		cool = MTA_COOLDOWN_MAX;
	r->last_fail = time(NULL);
	r->until = r->last_fail + cool;
}

int
mta_health_cooling(const char *addr, unsigned port)
{
	struct mta_relay	*r;

	r = relay_get(addr, port, NULL, 0);
	return r != NULL && r->until > time(NULL);
}

void
mta_relay_foreach(void (*fn)(const struct mta_relay_info *, void *),
    void *arg)
{
	struct mta_relay	*r;
	struct mta_connector	*c;
	struct mta_relay_info	 info;

	TAILQ_FOREACH(r, &relays, entry) {
		memset(&info, 0, sizeof(info));
		info.addr = r->addr;
		info.host = r->host;
		info.port = r->port;
		info.fails = r->fails;
		info.cooldown_until = r->until;
		info.last_fail = r->last_fail;
		info.last_ok = r->last_ok;
		info.last_error = r->lasterr;
		info.delivered = r->delivered;
		info.failed = r->failed;
		TAILQ_FOREACH(c, &connectors, entry) {
			if (c->hop.port != r->port ||
			    strcmp(c->hop.addr, r->addr) != 0)
				continue;
			info.sessions += c->nsess;
			info.waiting += (unsigned)c->nwaiting;
		}
		fn(&info, arg);
	}
}

/* --- connectors --- */

const struct route_hop *
mta_connector_hop(const struct mta_connector *c)
{
	return &c->hop;
}

int
mta_connector_plain(const struct mta_connector *c)
{
	return c->plain;
}

static void
hop_key(const struct route_hop *h, int plain, struct buf *key)
{
	buf_printf(key, "%s|%u|%d|%d|%d|%s|%s|%s|%s|%s|%s", h->addr,
	    h->port, h->tls, plain, h->no_verify, h->src, h->helo, h->label,
	    h->auth_user, h->auth_pass, h->ca_file);
}

static struct mta_connector *
connector_get(const struct route_hop *hop, int plain)
{
	struct mta_connector	*c;
	struct buf		 key;

	buf_init(&key);
	hop_key(hop, plain, &key);
	TAILQ_FOREACH(c, &connectors, entry)
		if (strcmp(c->key, buf_cstr(&key)) == 0) {
			buf_free(&key);
			return c;
		}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->key = strdup(buf_cstr(&key))) == NULL)
		fatal("connector_get");
	buf_free(&key);
	c->hop = *hop;
	c->sesscap = mta_conn_per_hop();
	if ((c->sess = calloc(c->sesscap, sizeof(*c->sess))) == NULL)
		fatal("connector_get");
	c->plain = plain;
	TAILQ_INIT(&c->waiting);
	TAILQ_INSERT_TAIL(&connectors, c, entry);
	relay_get(hop->addr, hop->port, hop->host, 1);
	return c;
}

static struct csess *
csess_find(struct mta_connector *c, struct mta_session *s)
{
	unsigned	 i;

	for (i = 0; i < c->nsess; i++)
		if (c->sess[i].s == s)
			return &c->sess[i];
	fatalx("mta: session not in its connector");
}

/* The session is set up (or gone): it no longer counts for the domain
 * it was opened for. */
static void
csess_setup_end(struct csess *cs)
{
	if (cs->setup_dom == NULL)
		return;
	cs->setup_dom->setup--;
	cs->setup_dom = NULL;
	pump_later();
}

static void
csess_remove(struct mta_connector *c, struct mta_session *s)
{
	struct csess	*cs = csess_find(c, s);

	if (!cs->ready_once)
		c->nsetup--;
	csess_setup_end(cs);
	*cs = c->sess[--c->nsess];
}

/* An idle session for the first waiting task whose domain has room;
 * then new sessions for the tasks that no session being set up will
 * take, within the per-hop and per-domain caps. */
static void
pump(struct mta_connector *c)
{
	struct mta_task	*task;
	struct csess	*cs;
	unsigned	 i, hopcap, unclaimed;

again:
	TAILQ_FOREACH(task, &c->waiting, entry) {
		if (!domain_room(task->dom))
			continue;
		cs = NULL;
		for (i = 0; i < c->nsess; i++)
			if (c->sess[i].idle) {
				cs = &c->sess[i];
				break;
			}
		if (cs == NULL)
			break;
		cs->idle = 0;
		TAILQ_REMOVE(&c->waiting, task, entry);
		c->nwaiting--;
		task->conn = NULL;
		task->held = 1;
		task->dom->active++;
		mta_session_assign(cs->s, task);
		/* the assignment may have run callbacks: look again */
		goto again;
	}
	hopcap = mta_conn_per_hop();
	if (hopcap > c->sesscap) {
		cs = reallocarray(c->sess, hopcap, sizeof(*c->sess));
		if (cs == NULL)
			fatal("pump");
		c->sess = cs;
		c->sesscap = hopcap;
	}
	unclaimed = c->nsetup;
	TAILQ_FOREACH(task, &c->waiting, entry) {
		if (c->nsess >= hopcap || c->backoff)
			break;
		if (unclaimed > 0) {
			unclaimed--;	/* a session being set up takes it */
			continue;
		}
		if (!domain_room(task->dom))
			continue;
		cs = &c->sess[c->nsess++];
		cs->ready_once = 0;
		cs->idle = 0;
		cs->s = NULL;
		cs->setup_dom = task->dom;
		task->dom->setup++;
		c->nsetup++;
		cs->s = mta_session_new(c);
	}
}

void
mta_connector_ready(struct mta_connector *c, struct mta_session *s)
{
	struct csess	*cs = csess_find(c, s);

	if (!cs->ready_once) {
		cs->ready_once = 1;
		c->nsetup--;
		csess_setup_end(cs);
	}
	cs->idle = 1;
	c->backoff = 0;
	pump(c);
}

/* Every waiting task moves on: this hop has no working session. */
static void
fail_waiting(struct mta_connector *c, const char *why, int tls_fallback)
{
	struct mta_tasklist	 failed;
	struct mta_task		*task;

	c->backoff = 0;
	TAILQ_INIT(&failed);
	while ((task = TAILQ_FIRST(&c->waiting)) != NULL) {
		TAILQ_REMOVE(&c->waiting, task, entry);
		c->nwaiting--;
		task->conn = NULL;
		TAILQ_INSERT_TAIL(&failed, task, entry);
	}
	while ((task = TAILQ_FIRST(&failed)) != NULL) {
		TAILQ_REMOVE(&failed, task, entry);
		mta_task_hop_failed(task, why, tls_fallback);
	}
}

void
mta_connector_session_failed(struct mta_connector *c,
    struct mta_session *s, const char *why, int tls_fallback)
{
	csess_remove(c, s);
	mta_health_fail(c->hop.addr, c->hop.port, c->hop.host, why);
	if (c->nsess > 0) {
		/* others may still serve the queue; do not storm */
		c->backoff = 1;
		return;
	}
	fail_waiting(c, why, tls_fallback);
}

void
mta_connector_session_closed(struct mta_connector *c,
    struct mta_session *s)
{
	csess_remove(c, s);
	if (c->nsess == 0)
		c->backoff = 0;
	pump(c);
	/* tasks left with no session and no way to get one */
	if (c->nsess == 0 && c->nwaiting > 0)
		fail_waiting(c, "no session", 0);
}

/* --- tasks --- */

static void
task_enqueue(struct mta_task *task)
{
	struct mta_connector	*c;

	c = connector_get(&task->hops[task->cur], task->plain);
	task->conn = c;
	task->remote_dsn = 0;	/* known once a session takes it */
	TAILQ_INSERT_TAIL(&c->waiting, task, entry);
	c->nwaiting++;
	pump(c);
}

void
mta_task_start(struct mta_task *task)
{
	struct route_hop	*sorted, tmp;
	size_t			 i, j, n = 0;
	uint32_t		 k;

	if (task->random && task->nhops > 1) {
		for (i = task->nhops - 1; i > 0; i--) {
			k = arc4random_uniform((uint32_t)i + 1);
			tmp = task->hops[i];
			task->hops[i] = task->hops[k];
			task->hops[k] = tmp;
		}
	}
	/* healthy hops first, order kept otherwise */
	if ((sorted = calloc(task->nhops, sizeof(*sorted))) == NULL)
		fatal("mta_task_start");
	for (j = 0; j < 2; j++)
		for (i = 0; i < task->nhops; i++)
			if (mta_health_cooling(task->hops[i].addr,
			    task->hops[i].port) == (int)j)
				sorted[n++] = task->hops[i];
	free(task->hops);
	task->hops = sorted;
	if (task->dom == NULL) {
		task->dom = domain_get(task->nrcpts > 0 ?
		    task->rcpts[0].addr : "");
		task->dom->refs++;
	}
	task->cur = 0;
	task->plain = 0;
	task_enqueue(task);
}

void
mta_task_free(struct mta_task *task)
{
	task_release(task);
	if (task->dom != NULL)
		task->dom->refs--;
	if (task->fd != -1)
		close(task->fd);
	free(task->rcpts);
	free(task->hops);
	free(task);
}

static void
hop_name(const struct route_hop *h, char *buf, size_t len)
{
	if (strchr(h->addr, ':') != NULL)
		snprintf(buf, len, "[%s]:%u", h->addr, h->port);
	else
		snprintf(buf, len, "%s:%u", h->addr, h->port);
}

/* The final recipient result came from the current hop. */
static void
rcpt_hop(struct mta_task *task, struct mta_rcpt *rc)
{
	const struct route_hop	*h = &task->hops[task->cur];

	strlcpy(rc->hop, h->host[0] ? h->host : h->addr, sizeof(rc->hop));
	rc->remote_dsn = task->remote_dsn;
}

static const char *
status_word(enum mta_rcpt_status st)
{
	switch (st) {
	case RCPT_OK:
		return "Ok";
	case RCPT_PERMFAIL:
		return "PermFail";
	default:
		return "TempFail";
	}
}

/* Log and report every final, unreported recipient result. */
static void
task_report(struct mta_task *task, const char *tlsdesc)
{
	const struct route_hop	*h = &task->hops[task->cur];
	struct mta_relay	*r;
	struct mta_rcpt		*rc;
	char			 hop[RELAY_ADDR_MAX + 10], esc[600];
	size_t			 i;

	hop_name(h, hop, sizeof(hop));
	for (i = 0; i < task->nrcpts; i++) {
		rc = &task->rcpts[i];
		if (rc->reported || rc->status == RCPT_PENDING ||
		    rc->status == RCPT_ACCEPTED)
			continue;
		log_escape(esc, sizeof(esc), rc->line, strlen(rc->line));
		log_info("mta envelope=%016" PRIx64 " hop=%s host=%s tls=%s "
		    "src=%s result=%s stat=\"%s\"", rc->evpid, hop, h->host,
		    tlsdesc, h->src[0] ? h->src : "any",
		    status_word(rc->status), esc);
		if (rc->status == RCPT_OK &&
		    (r = relay_get(h->addr, h->port, h->host, 1)) != NULL)
			r->delivered++;
		rcpt_hop(task, rc);
		mta_result(task, rc);
	}
}

void
mta_task_done(struct mta_task *task, const char *tlsdesc)
{
	const struct route_hop	*h = &task->hops[task->cur];
	size_t			 i;

	task_release(task);
	for (i = 0; i < task->nrcpts; i++)
		if (task->rcpts[i].status == RCPT_ACCEPTED) {
			/* never answered after DATA: cannot happen */
			task->rcpts[i].status = RCPT_TEMPFAIL;
			strlcpy(task->rcpts[i].line, "451 4.3.0 no answer",
			    sizeof(task->rcpts[i].line));
		}
	mta_health_ok(h->addr, h->port);
	task_report(task, tlsdesc);
	for (i = 0; i < task->nrcpts; i++)
		if (!task->rcpts[i].reported) {
			/* not sent in this transaction: try again */
			task_enqueue(task);
			return;
		}
	mta_task_free(task);
}

void
mta_task_hop_failed(struct mta_task *task, const char *why,
    int tls_fallback)
{
	const struct route_hop	*h = &task->hops[task->cur];
	struct mta_rcpt		*rc;
	char			 hop[RELAY_ADDR_MAX + 10];
	char			 next[RELAY_ADDR_MAX + 20], esc[600];
	size_t			 i, npending = 0;
	int			 plain_next = 0;

	task_release(task);
	hop_name(h, hop, sizeof(hop));
	snprintf(task->lasterr, sizeof(task->lasterr), "%s: %s", hop, why);
	/* answers given at this hop (RCPT 4xx/5xx) are final */
	task_report(task, task->plain ? "none" : relay_tls_name(h->tls));
	for (i = 0; i < task->nrcpts; i++) {
		rc = &task->rcpts[i];
		if (rc->status == RCPT_ACCEPTED)
			rc->status = RCPT_PENDING;
		if (!rc->reported)
			npending++;
	}
	if (npending == 0) {
		mta_task_free(task);
		return;
	}
	if (tls_fallback && h->tls == RELAY_TLS_OPPORTUNISTIC &&
	    !task->plain) {
		plain_next = 1;
		snprintf(next, sizeof(next), "%s(plain)", hop);
	} else if (task->cur + 1 < task->nhops)
		hop_name(&task->hops[task->cur + 1], next, sizeof(next));
	else
		strlcpy(next, "none", sizeof(next));
	log_escape(esc, sizeof(esc), why, strlen(why));
	for (i = 0; i < task->nrcpts; i++) {
		rc = &task->rcpts[i];
		if (rc->reported)
			continue;
		log_info("mta envelope=%016" PRIx64 " hop=%s host=%s tls=%s "
		    "src=%s result=TempFail reason=\"%s\" next=%s", rc->evpid,
		    hop, h->host, task->plain ? "no" : relay_tls_name(h->tls),
		    h->src[0] ? h->src : "any", esc, next);
	}
	if (plain_next) {
		task->plain = 1;
		task_enqueue(task);
		return;
	}
	task->plain = 0;
	if (++task->cur < task->nhops) {
		task_enqueue(task);
		return;
	}
	task->cur--;
	for (i = 0; i < task->nrcpts; i++) {
		rc = &task->rcpts[i];
		if (rc->reported)
			continue;
		rc->status = RCPT_TEMPFAIL;
		snprintf(rc->line, sizeof(rc->line), "451 4.4.1 all %zu "
		    "hop%s failed, last %.400s", task->nhops,
		    task->nhops > 1 ? "s" : "", task->lasterr);
		rcpt_hop(task, rc);
		rc->remote_dsn = 0;
		mta_result(task, rc);
	}
	mta_task_free(task);
}
