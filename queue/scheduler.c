/*
 * The scheduler: every committed envelope lives here in memory, indexed
 * by id and (when waiting) by next try time.  Due envelopes go to mta
 * (relay actions) or the parent (local actions) within in-flight limits
 * (total, per destination domain, per local user); results reschedule
 * with exponential backoff, expire at the queue TTL, and hand failures
 * and delay notices to bounce.c.
 */
#include <sys/time.h>
#include <sys/tree.h>

#include <ctype.h>
#include <errno.h>
#include <event.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "envelope.h"
#include "log.h"
#include "proc.h"
#include "proto.h"
#include "queue.h"
#include "queue_store.h"

#define RB_GEN_STATIC(n, t, f, c) \
	RB_GENERATE_INTERNAL(n, t, f, c, __attribute__((unused)) static)

struct limcount {
	RB_ENTRY(limcount)	 entry;
	char			*key;
	unsigned		 n;		/* in flight */
	TAILQ_HEAD(, sched_evp)	 parked;	/* due, waiting for a slot */
};

static int
byid_cmp(struct sched_evp *a, struct sched_evp *b)
{
	return a->e.id < b->e.id ? -1 : a->e.id > b->e.id;
}

static int
bytime_cmp(struct sched_evp *a, struct sched_evp *b)
{
	if (a->e.nexttry != b->e.nexttry)
		return a->e.nexttry < b->e.nexttry ? -1 : 1;
	return byid_cmp(a, b);
}

static int
lim_cmp(struct limcount *a, struct limcount *b)
{
	return strcmp(a->key, b->key);
}

RB_HEAD(evp_byid, sched_evp);
RB_HEAD(evp_bytime, sched_evp);
RB_HEAD(limits, limcount);
RB_GEN_STATIC(evp_byid, sched_evp, byid, byid_cmp)
RB_GEN_STATIC(evp_bytime, sched_evp, bytime, bytime_cmp)
RB_GEN_STATIC(limits, limcount, entry, lim_cmp)

static struct evp_byid	 byid = RB_INITIALIZER(&byid);
static struct evp_bytime bytime = RB_INITIALIZER(&bytime);
static struct limits	 limits = RB_INITIALIZER(&limits);
static struct event	 ev_sched;
static unsigned		 inflight;
static size_t		 nevp;
static int		 paused_mta, paused_mda;

static void	sched_arm(int);
static void	sched_fail(struct sched_evp *);

static const char *
rcpt_domain(const char *rcpt)
{
	const char	*at = strrchr(rcpt, '@');

	return at ? at + 1 : "";
}

static char *
make_limkey(const struct sched_evp *s)
{
	char	*k, *p;

	if (s->local) {
		if (asprintf(&k, "u:%s", s->e.user[0] ? s->e.user :
		    s->e.rcpt) == -1)
			fatal("scheduler");
	} else if (asprintf(&k, "d:%s", rcpt_domain(s->e.rcpt)) == -1)
		fatal("scheduler");
	for (p = k; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return k;
}

static struct limcount *
lim_get(const char *key, int create)
{
	struct limcount	 find, *l;

	find.key = (char *)(uintptr_t)key;
	if ((l = RB_FIND(limits, &limits, &find)) != NULL || !create)
		return l;
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->key = strdup(key)) == NULL)
		fatal("scheduler");
	TAILQ_INIT(&l->parked);
	RB_INSERT(limits, &limits, l);
	return l;
}

static void
lim_release(struct limcount *l)
{
	if (l->n > 0 || !TAILQ_EMPTY(&l->parked))
		return;
	RB_REMOVE(limits, &limits, l);
	free(l->key);
	free(l);
}

static void
sched_pending(struct sched_evp *s)
{
	s->state = S_PENDING;
	RB_INSERT(evp_bytime, &bytime, s);
}

/* A slot of this key is free: the first parked envelope is due again. */
static void
lim_dec(const char *key)
{
	struct limcount		*l;
	struct sched_evp	*s;

	if ((l = lim_get(key, 0)) == NULL)
		return;
	if (l->n > 0)
		l->n--;
	if ((s = TAILQ_FIRST(&l->parked)) != NULL) {
		TAILQ_REMOVE(&l->parked, s, park);
		sched_pending(s);
	}
	lim_release(l);
}

/* Take s out of the time tree or its parking list. */
static void
sched_detach(struct sched_evp *s)
{
	struct limcount	*l;

	if (s->state == S_PENDING)
		RB_REMOVE(evp_bytime, &bytime, s);
	else if (s->state == S_PARKED &&
	    (l = lim_get(s->limkey, 0)) != NULL) {
		TAILQ_REMOVE(&l->parked, s, park);
		lim_release(l);
	}
	s->state = S_HELD;
}

static void
sched_park(struct sched_evp *s, struct limcount *l)
{
	RB_REMOVE(evp_bytime, &bytime, s);
	s->state = S_PARKED;
	TAILQ_INSERT_TAIL(&l->parked, s, park);
}

static void
sched_free(struct sched_evp *s)
{
	sched_detach(s);
	RB_REMOVE(evp_byid, &byid, s);
	free(s->limkey);
	free(s);
	nevp--;
	queue_stat("queue.envelopes", -1);	/* a gauge */
}

static void
sched_log(const struct sched_evp *s, const char *event, const char *line)
{
	char	 id[17], esc[512], rcpt[ADDR_MAX * 2 + 4];
	int	 quote;

	log_escape(esc, sizeof(esc), line ? line : "", line ?
	    strlen(line) : 0);
	/* The recipient comes from the client: escaped, and quoted when
	 * it holds a space (a quoted local part), so it forges no field. */
	log_escape(rcpt, sizeof(rcpt), s->e.rcpt, strlen(s->e.rcpt));
	quote = strpbrk(s->e.rcpt, " \"\\=") != NULL;
	log_info("queue envelope=%s event=%s rcpt=%s%s%s action=%s "
	    "retries=%u result=\"%s\"", evpid_str(s->e.id, id), event,
	    quote ? "\"" : "", rcpt, quote ? "\"" : "", s->e.action,
	    s->e.retries, esc);
}

static int
sched_dispatch(struct sched_evp *s)
{
	struct mbuild	*m;
	struct buf	 b;
	enum proc_id	 to = s->local ? PROC_PARENT : PROC_MTA;
	int		 fd;
	char		 id[17];

	if (proc_chan(to) == NULL)
		return -1;
	if ((fd = queue_store_open_message(evpid_to_msgid(s->e.id))) == -1) {
		log_warn("queue envelope=%s event=open-message",
		    evpid_str(s->e.id, id));
		queue_store_move_corrupt(s->e.id, "message unreadable");
		sched_free(s);
		return -1;
	}
	sched_detach(s);
	s->state = S_INFLIGHT;
	inflight++;
	lim_get(s->limkey, 1)->n++;
	buf_init(&b);
	envelope_dump(&s->e, &b);
	m = proc_create(to, s->local ? IMSG_MDA_DELIVER : IMSG_MTA_DELIVER,
	    0, fd);
	m_add_str(m, buf_cstr(&b));
	m_close(m);
	buf_free(&b);
	log_debug("queue envelope=%s event=dispatch to=%s",
	    evpid_str(s->e.id, id), proc_name(to));
	return 0;
}

/*
 * Where a due envelope goes under the current action table (a reload
 * may have switched its action between relay and local).  -1 when its
 * action is no longer configured: it stays queued, tried again a retry
 * interval later, its last error saying why, until the queue TTL, when
 * it bounces.
 */
static int
sched_route(struct sched_evp *s, time_t now)
{
	struct action	*a;
	char		 line[sizeof(s->e.errorline)], id[17];
	time_t		 ttl;
	int		 local;

	if ((a = config_action(env, s->e.action)) == NULL) {
		snprintf(line, sizeof(line), "action %s no longer configured",
		    s->e.action);
		if (strcmp(line, s->e.errorline) != 0) {
			strlcpy(s->e.errorline, line, sizeof(s->e.errorline));
			sched_log(s, "held", line);
		}
		/* Held mail still expires at the queue TTL, and bounces. */
		ttl = env->queue_ttl > 0 ? env->queue_ttl : 4 * 86400;
		if (now >= s->e.creation + ttl) {
			sched_log(s, "expired", line);
			sched_detach(s);
			sched_fail(s);
			return -1;
		}
		RB_REMOVE(evp_bytime, &bytime, s);
		s->e.nexttry = now + (env->queue_retry > 0 ?
		    env->queue_retry : 300);
		if (s->e.nexttry > s->e.creation + ttl)
			s->e.nexttry = s->e.creation + ttl;
		if (queue_store_update(&s->e) == -1)
			log_warn("queue: update envelope %s",
			    evpid_str(s->e.id, id));
		RB_INSERT(evp_bytime, &bytime, s);
		return -1;
	}
	local = a->method != A_RELAY;
	if (local != s->local) {
		s->local = local;
		if (s->e.type != ENV_BOUNCE)
			s->e.type = local ? ENV_MDA : ENV_MTA;
		free(s->limkey);
		s->limkey = make_limkey(s);
	}
	return 0;
}

void
scheduler_reconfigured(void)
{
	struct sched_evp	*s, *next;
	time_t			 now = time(NULL);

	/* Envelopes held for a missing action that is back: due now. */
	for (s = RB_MIN(evp_bytime, &bytime); s != NULL; s = next) {
		next = RB_NEXT(evp_bytime, &bytime, s);
		if (s->e.nexttry <= now ||
		    strncmp(s->e.errorline, "action ", 7) != 0 ||
		    strstr(s->e.errorline, " no longer configured") == NULL ||
		    config_action(env, s->e.action) == NULL)
			continue;
		RB_REMOVE(evp_bytime, &bytime, s);
		s->e.nexttry = now;
		RB_INSERT(evp_bytime, &bytime, s);
	}
	sched_arm(0);
}

static void
sched_on_timer(int fd, short ev, void *arg)
{
	struct sched_evp	*s, *next;
	struct limcount		*l;
	time_t			 now = time(NULL);
	int			 blocked = 0, budget = 2000;

	(void)fd;
	(void)ev;
	(void)arg;
	for (s = RB_MIN(evp_bytime, &bytime); s != NULL; s = next) {
		next = RB_NEXT(evp_bytime, &bytime, s);
		if (s->e.nexttry > now || budget-- == 0)
			break;
		if (inflight >= SCHED_MAX_INFLIGHT) {
			blocked = 1;
			break;
		}
		if (sched_route(s, now) == -1)
			continue;
		if ((s->local && paused_mda) || (!s->local && paused_mta)) {
			blocked = 1;	/* resume re-arms */
			continue;
		}
		l = lim_get(s->limkey, 0);
		if (l != NULL && l->n >= (s->local ? SCHED_MAX_INFLIGHT_USER :
		    SCHED_MAX_INFLIGHT_DOMAIN)) {
			/* out of the scan until a slot of its key frees */
			sched_park(s, l);
			continue;
		}
		if (sched_dispatch(s) == -1 && proc_chan(s->local ?
		    PROC_PARENT : PROC_MTA) == NULL)
			blocked = 1;
	}
	sched_arm(blocked);
}

/* Wake up for the earliest envelope; at least 1s later if blocked. */
static void
sched_arm(int blocked)
{
	struct sched_evp	*s;
	struct timeval		 tv = { 0, 0 };
	time_t			 now = time(NULL);

	evtimer_del(&ev_sched);
	if ((s = RB_MIN(evp_bytime, &bytime)) == NULL)
		return;
	if (s->e.nexttry > now)
		tv.tv_sec = s->e.nexttry - now;
	if (blocked && tv.tv_sec < 1)
		tv.tv_sec = 1;
	if (tv.tv_sec > 3600)
		tv.tv_sec = 3600;
	evtimer_add(&ev_sched, &tv);
}

void
scheduler_init(void)
{
	evtimer_set(&ev_sched, sched_on_timer, NULL);
}

void
scheduler_add(const struct envelope *e)
{
	struct sched_evp	*s;
	int			 known;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal("scheduler");
	s->e = *e;
	s->local = queue_method_local(e->action, &known);
	if (!known)
		s->local = e->type != ENV_MTA;
	s->limkey = make_limkey(s);
	if (RB_INSERT(evp_byid, &byid, s) != NULL) {
		log_warnx("queue: duplicate envelope %016" PRIx64, e->id);
		free(s->limkey);
		free(s);
		return;
	}
	nevp++;
	queue_stat("queue.envelopes", 1);
	if (e->type == ENV_BOUNCE) {
		s->state = S_BOUNCING;
		bounce_add(&s->e, B_FAILED);
		return;
	}
	sched_pending(s);
	sched_arm(0);
}

struct sched_evp *
scheduler_find(uint64_t evpid)
{
	struct sched_evp	 find;

	find.e.id = evpid;
	return RB_FIND(evp_byid, &byid, &find);
}

struct sched_evp *
scheduler_first(void)
{
	return RB_MIN(evp_byid, &byid);
}

struct sched_evp *
scheduler_next(struct sched_evp *s)
{
	return RB_NEXT(evp_byid, &byid, s);
}

size_t
scheduler_count(void)
{
	return nevp;
}

time_t
scheduler_backoff(unsigned retries, time_t retry, time_t max)
{
	time_t	 d = retry > 0 ? retry : 300;
	unsigned i;

	if (max <= 0)
		max = 14400;
	for (i = 1; i < retries && d < max; i++)
		d *= 2;
	return d < max ? d : max;
}

static int
wants_delay_notice(const struct envelope *e, time_t now)
{
	time_t	 since = e->lastwarn ? e->lastwarn : e->creation;

	if (env->bounce_warn_interval <= 0 || e->sender[0] == '\0' ||
	    (e->flags & EF_BOUNCE))
		return 0;
	if (e->dsn_notify & DSN_NOTIFY_NEVER)
		return 0;
	if (e->dsn_notify != 0 && !(e->dsn_notify & DSN_NOTIFY_DELAY))
		return 0;
	return now - since >= env->bounce_warn_interval;
}

static void
sched_fail(struct sched_evp *s)
{
	queue_stat("queue.bounced", 1);
	s->e.type = ENV_BOUNCE;
	if (queue_store_update(&s->e) == -1)
		log_warn("queue: update envelope");
	s->state = S_BOUNCING;
	bounce_add(&s->e, B_FAILED);
}

void
scheduler_on_result(uint32_t type, uint64_t evpid, const char *line,
    const char *hop, int remote_dsn)
{
	struct sched_evp	*s;
	time_t			 now = time(NULL), ttl;
	char			 id[17];

	if ((s = scheduler_find(evpid)) == NULL || s->state != S_INFLIGHT) {
		log_warnx("queue envelope=%s event=unexpected-result",
		    evpid_str(evpid, id));
		return;
	}
	inflight--;
	lim_dec(s->limkey);
	sched_arm(0);		/* a slot is free */
	if (s->removed) {
		queue_store_remove(s->e.id);
		sched_free(s);
		queue_kick();
		return;
	}
	s->e.lasttry = now;
	strlcpy(s->e.errorline, line, sizeof(s->e.errorline));
	strlcpy(s->e.lasthop, hop, sizeof(s->e.lasthop));
	switch (type) {
	case IMSG_QUEUE_DELIVERY_OK:
		sched_log(s, "delivered", line);
		queue_stat("queue.delivered", 1);
		if (!(s->e.dsn_notify & DSN_NOTIFY_SUCCESS) ||
		    s->e.sender[0] == '\0')
			;
		else if (s->local)
			bounce_add(&s->e, B_DELIVERED);
		else if (!remote_dsn)
			bounce_add(&s->e, B_RELAYED);
		else
			log_info("queue envelope=%s event=no-success-notice "
			    "reason=\"remote DSN\" hop=%s",
			    evpid_str(s->e.id, id), s->e.lasthop);
		if (queue_store_remove(s->e.id) == -1)
			log_warn("queue: remove envelope %s",
			    evpid_str(s->e.id, id));
		sched_free(s);
		queue_kick();
		return;
	case IMSG_QUEUE_DELIVERY_TEMPFAIL:
		s->e.retries++;
		queue_stat("queue.tempfail", 1);
		ttl = env->queue_ttl > 0 ? env->queue_ttl : 4 * 86400;
		if (now >= s->e.creation + ttl) {
			sched_log(s, "expired", line);
			sched_fail(s);
			return;
		}
		s->e.nexttry = now + scheduler_backoff(s->e.retries,
		    env->queue_retry, env->queue_retry_max);
		if (s->e.nexttry > s->e.creation + ttl)
			s->e.nexttry = s->e.creation + ttl;
		if (wants_delay_notice(&s->e, now)) {
			s->e.lastwarn = now;
			bounce_add(&s->e, B_DELAYED);
		}
		sched_log(s, "tempfail", line);
		if (queue_store_update(&s->e) == -1)
			log_warn("queue: update envelope %s",
			    evpid_str(s->e.id, id));
		sched_pending(s);
		sched_arm(0);
		return;
	case IMSG_QUEUE_DELIVERY_LOOP:
		if (line[0] == '\0')
			strlcpy(s->e.errorline,
			    "554 5.4.6 Routing loop detected",
			    sizeof(s->e.errorline));
		/* FALLTHROUGH */
	case IMSG_QUEUE_DELIVERY_PERMFAIL:
	default:
		s->e.retries++;
		sched_log(s, "permfail", s->e.errorline);
		sched_fail(s);
		return;
	}
}

void
scheduler_bounced(uint64_t evpid, int removed)
{
	struct sched_evp	*s;

	if ((s = scheduler_find(evpid)) == NULL)
		return;
	if (!removed || s->state != S_BOUNCING)
		return;
	if (queue_store_remove(evpid) == -1)
		log_warn("queue: remove bounced envelope");
	sched_free(s);
	queue_kick();
}

int
scheduler_schedule(uint64_t evpid)
{
	struct sched_evp	*s, *next;
	time_t			 now = time(NULL);
	int			 n = 0;

	for (s = evpid ? scheduler_find(evpid) : RB_MIN(evp_byid, &byid);
	    s != NULL; s = next) {
		next = evpid ? NULL : RB_NEXT(evp_byid, &byid, s);
		if (s->state != S_PENDING && s->state != S_PARKED)
			continue;
		sched_detach(s);
		s->e.nexttry = now;
		sched_pending(s);
		n++;
	}
	sched_arm(0);
	return n;
}

int
scheduler_etrn(const char *domain)
{
	struct sched_evp	*s;
	time_t			 now = time(NULL);
	int			 n = 0;

	RB_FOREACH(s, evp_byid, &byid) {
		if ((s->state != S_PENDING && s->state != S_PARKED) ||
		    s->local ||
		    strcasecmp(rcpt_domain(s->e.rcpt), domain) != 0)
			continue;
		sched_detach(s);
		s->e.nexttry = now;
		sched_pending(s);
		n++;
	}
	sched_arm(0);
	return n;
}

int
scheduler_remove(uint64_t evpid)
{
	struct sched_evp	*s, *next;
	int			 n = 0;

	for (s = evpid ? scheduler_find(evpid) : RB_MIN(evp_byid, &byid);
	    s != NULL; s = next) {
		next = evpid ? NULL : RB_NEXT(evp_byid, &byid, s);
		n++;
		sched_log(s, "removed", "by control");
		if (s->state == S_INFLIGHT) {
			s->removed = 1;
			continue;
		}
		if (queue_store_remove(s->e.id) == -1)
			log_warn("queue: remove envelope");
		sched_free(s);
	}
	queue_kick();
	return n;
}

int
scheduler_hold(uint64_t evpid)
{
	struct sched_evp	*s, *next;
	int			 n = 0;

	for (s = evpid ? scheduler_find(evpid) : RB_MIN(evp_byid, &byid);
	    s != NULL; s = next) {
		next = evpid ? NULL : RB_NEXT(evp_byid, &byid, s);
		if (s->state != S_PENDING && s->state != S_PARKED)
			continue;
		sched_detach(s);	/* now S_HELD */
		n++;
	}
	sched_arm(0);
	return n;
}

int
scheduler_release(uint64_t evpid)
{
	struct sched_evp	*s, *next;
	int			 n = 0;

	for (s = evpid ? scheduler_find(evpid) : RB_MIN(evp_byid, &byid);
	    s != NULL; s = next) {
		next = evpid ? NULL : RB_NEXT(evp_byid, &byid, s);
		if (s->state != S_HELD)
			continue;
		sched_pending(s);
		n++;
	}
	sched_arm(0);
	return n;
}

int
scheduler_pause(const char *subsystem, int pause)
{
	if (strcmp(subsystem, "mta") == 0)
		paused_mta = pause;
	else if (strcmp(subsystem, "mda") == 0)
		paused_mda = pause;
	else
		return -1;
	log_info("queue event=%s subsystem=%s", pause ? "pause" : "resume",
	    subsystem);
	sched_arm(0);
	return 0;
}

int
scheduler_paused(const char *subsystem)
{
	if (strcmp(subsystem, "mta") == 0)
		return paused_mta;
	if (strcmp(subsystem, "mda") == 0)
		return paused_mda;
	return 0;
}
