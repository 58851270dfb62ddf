/*
 * The mta process: takes envelopes from queue (IMSG_MTA_DELIVER), asks
 * lka for their route (IMSG_LKA_ROUTE), gathers the recipients of one
 * message that share a route into one task (one SMTP transaction), hands
 * tasks to the failover walk (mta_route.c) and reports each recipient's
 * result to queue.  Runs as _smtpd chrooted in /var/empty.
 */
#include <sys/types.h>

#include <event.h>
#include <inttypes.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "envelope.h"
#include "log.h"
#include "mta.h"
#include "proc.h"
#include "proto.h"

/*
 * Envelopes of one message come from queue in one burst, but not always
 * in one read: gathering waits this long for siblings before a
 * transaction starts (and until every sibling has its route).
 */
#define MTA_BATCH_USEC	10000

struct mta_env {
	TAILQ_ENTRY(mta_env)	 entry;
	uint32_t		 reqid;
	struct envelope		 evp;
	int			 fd;
};
static TAILQ_HEAD(, mta_env) routing = TAILQ_HEAD_INITIALIZER(routing);
static struct mta_tasklist	 batch = TAILQ_HEAD_INITIALIZER(batch);
static struct event		 batch_ev;
static uint32_t			 reqids;
static uint64_t			 ids;

uint64_t
mta_newid(void)
{
	if (ids == 0)
		ids = ((uint64_t)arc4random() << 32);
	return ++ids;
}

static void
mta_stat(const char *name, int delta)
{
	struct mbuild	*m;

	m = proc_create(PROC_CONTROL, IMSG_STAT_INCR, 0, -1);
	m_add_str(m, name);
	m_add_int(m, delta);
	m_close(m);
}

static void
report(uint64_t evpid, enum imsg_type type, const char *line,
    const char *hop, int remote_dsn)
{
	struct mbuild	*m;

	m = proc_create(PROC_QUEUE, type, 0, -1);
	m_add_u64(m, evpid);
	m_add_str(m, line);
	m_add_str(m, hop);
	m_add_u32(m, remote_dsn ? 1 : 0);
	m_close(m);
	mta_stat(type == IMSG_QUEUE_DELIVERY_OK ? "mta.delivered" :
	    type == IMSG_QUEUE_DELIVERY_TEMPFAIL ? "mta.tempfail" :
	    "mta.permfail", 1);
}

void
mta_result(struct mta_task *task, struct mta_rcpt *r)
{
	enum imsg_type	 type;

	if (r->reported)
		return;
	r->reported = 1;
	switch (r->status) {
	case RCPT_OK:
		type = IMSG_QUEUE_DELIVERY_OK;
		break;
	case RCPT_PERMFAIL:
		type = IMSG_QUEUE_DELIVERY_PERMFAIL;
		break;
	default:
		type = IMSG_QUEUE_DELIVERY_TEMPFAIL;
		break;
	}
	report(r->evpid, type, r->line, r->hop, r->remote_dsn);
	/* The message's bytes count once per task, at its first success. */
	if (type == IMSG_QUEUE_DELIVERY_OK && !task->bytes_counted) {
		uint64_t n = task->size;

		task->bytes_counted = 1;
		for (; n > INT_MAX; n -= INT_MAX)
			mta_stat("mta.bytes", INT_MAX);
		if (n > 0)
			mta_stat("mta.bytes", (int)n);
	}
}

/* An address we put in MAIL/RCPT must not break the command line. */
static int
addr_ok(const char *a)
{
	for (; *a; a++)
		if (*a == '\r' || *a == '\n' || *a == '<' || *a == '>' ||
		    (unsigned char)*a < 0x20 || *a == 0x7f)
			return 0;
	return 1;
}

static void
on_deliver(struct imsg *imsg)
{
	struct mreader	 r;
	struct mta_env	*e;
	struct mbuild	*m;
	const char	*text;
	char		 err[256];

	m_msg(&r, imsg);
	if (m_get_str(&r, &text) == -1 || m_end(&r) == -1)
		fatalx("mta: malformed IMSG_MTA_DELIVER");
	if ((e = calloc(1, sizeof(*e))) == NULL)
		fatal("on_deliver");
	if (envelope_load(&e->evp, text, strlen(text), err, sizeof(err))
	    == -1) {
		log_warnx("mta: bad envelope from queue: %s", err);
		if (imsg->fd != -1)
			close(imsg->fd);
		imsg->fd = -1;
		free(e);
		return;
	}
	e->fd = imsg->fd;
	imsg->fd = -1;
	if (e->fd == -1) {
		report(e->evp.id, IMSG_QUEUE_DELIVERY_TEMPFAIL,
		    "451 4.3.0 no message file", "", 0);
		free(e);
		return;
	}
	if (!addr_ok(e->evp.sender) || !addr_ok(e->evp.rcpt)) {
		log_warnx("mta envelope=%016" PRIx64 " result=PermFail "
		    "reason=\"bad address\"", e->evp.id);
		report(e->evp.id, IMSG_QUEUE_DELIVERY_PERMFAIL,
		    "553 5.1.3 bad address", "", 0);
		close(e->fd);
		free(e);
		return;
	}
	e->reqid = ++reqids;
	TAILQ_INSERT_TAIL(&routing, e, entry);
	m = proc_create(PROC_LKA, IMSG_LKA_ROUTE, e->reqid, -1);
	m_add_str(m, e->evp.action);
	m_add_str(m, e->evp.sender);
	m_add_str(m, e->evp.rcpt);
	m_close(m);
}

static uint64_t
fnv64(uint64_t h, const void *p, size_t n)
{
	const unsigned char	*c = p;

	while (n--) {
		h ^= *c++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* 1 if an envelope of this message still waits for its route. */
static int
msg_routing(uint32_t msgid)
{
	struct mta_env	*e;

	TAILQ_FOREACH(e, &routing, entry)
		if (evpid_to_msgid(e->evp.id) == msgid)
			return 1;
	return 0;
}

/* Start the gathered tasks whose message has every route answered; the
 * last route answer of a message arms this again. */
static void
on_batch(int fd, short ev, void *arg)
{
	struct mta_task	*task, *next;

	(void)fd;
	(void)ev;
	(void)arg;
	for (task = TAILQ_FIRST(&batch); task != NULL; task = next) {
		next = TAILQ_NEXT(task, entry);
		if (msg_routing(task->msgid))
			continue;
		TAILQ_REMOVE(&batch, task, entry);
		mta_task_start(task);
	}
}

/* Add a routed envelope to a task of the same message and route. */
static void
batch_add(struct mta_env *e, struct route_hop *hops, size_t nhops,
    int random)
{
	struct mta_task	*task;
	struct mta_rcpt	*rc;
	struct timeval	 tv = { 0, MTA_BATCH_USEC };
	uint64_t	 h = 0xcbf29ce484222325ULL;
	char		 key[sizeof(task->key)];
	size_t		 i;

	h = fnv64(h, e->evp.sender, strlen(e->evp.sender) + 1);
	for (i = 0; i < nhops; i++)
		h = fnv64(h, &hops[i], sizeof(hops[i]));
	snprintf(key, sizeof(key), "%08x|%s|%d|%x|%d|%s|%016" PRIx64,
	    evpid_to_msgid(e->evp.id), e->evp.action, random,
	    e->evp.flags, e->evp.dsn_ret, e->evp.dsn_envid, h);
	TAILQ_FOREACH(task, &batch, entry)
		if (strcmp(task->key, key) == 0 &&
		    task->nrcpts < MTA_TASK_RCPT_MAX)
			break;
	if (task == NULL) {
		if ((task = calloc(1, sizeof(*task))) == NULL)
			fatal("batch_add");
		task->id = mta_newid();
		task->msgid = evpid_to_msgid(e->evp.id);
		strlcpy(task->key, key, sizeof(task->key));
		task->fd = e->fd;
		e->fd = -1;
		strlcpy(task->sender, e->evp.sender, sizeof(task->sender));
		task->flags = e->evp.flags;
		task->dsn_ret = e->evp.dsn_ret;
		strlcpy(task->dsn_envid, e->evp.dsn_envid,
		    sizeof(task->dsn_envid));
		task->size = e->evp.size;
		task->hops = hops;
		task->nhops = nhops;
		task->random = random;
		TAILQ_INSERT_TAIL(&batch, task, entry);
	} else
		free(hops);
	if (e->fd != -1)
		close(e->fd);
	e->fd = -1;
	rc = reallocarray(task->rcpts, task->nrcpts + 1, sizeof(*rc));
	if (rc == NULL)
		fatal("batch_add");
	task->rcpts = rc;
	rc = &task->rcpts[task->nrcpts++];
	memset(rc, 0, sizeof(*rc));
	rc->evpid = e->evp.id;
	strlcpy(rc->addr, e->evp.rcpt, sizeof(rc->addr));
	strlcpy(rc->orcpt, e->evp.dsn_orcpt, sizeof(rc->orcpt));
	rc->dsn_notify = e->evp.dsn_notify;
	rc->status = RCPT_PENDING;
	/* start soon: siblings arrive together */
	if (!evtimer_pending(&batch_ev, NULL))
		evtimer_add(&batch_ev, &tv);
}

static void
on_route(struct imsg *imsg)
{
	struct mreader		 r;
	struct mta_env		*e;
	struct route_hop	*hops = NULL;
	const char		*line;
	uint32_t		 status, count, random, i;
	char			 esc[600];
	enum imsg_type		 type;

	TAILQ_FOREACH(e, &routing, entry)
		if (e->reqid == imsg->peerid)
			break;
	if (e == NULL)
		fatalx("mta: route for unknown request %u", imsg->peerid);
	TAILQ_REMOVE(&routing, e, entry);
	m_msg(&r, imsg);
	if (m_get_u32(&r, &status) == -1 || m_get_str(&r, &line) == -1 ||
	    m_get_u32(&r, &count) == -1 || count > 1024)
		fatalx("mta: malformed IMSG_LKA_ROUTE_RESULT");
	if (count > 0 && (hops = calloc(count, sizeof(*hops))) == NULL)
		fatal("on_route");
	for (i = 0; i < count; i++)
		if (route_hop_get(&r, &hops[i]) == -1)
			fatalx("mta: malformed hop in IMSG_LKA_ROUTE_RESULT");
	if (m_get_u32(&r, &random) == -1 || m_end(&r) == -1)
		fatalx("mta: malformed IMSG_LKA_ROUTE_RESULT");

	if (status == ROUTE_OK && count == 0) {
		status = ROUTE_TEMPFAIL;
		line = "451 4.4.0 empty route";
	}
	if (status != ROUTE_OK) {
		type = status == ROUTE_PERMFAIL ? IMSG_QUEUE_DELIVERY_PERMFAIL :
		    status == ROUTE_LOOP ? IMSG_QUEUE_DELIVERY_LOOP :
		    IMSG_QUEUE_DELIVERY_TEMPFAIL;
		log_escape(esc, sizeof(esc), line, strlen(line));
		log_info("mta envelope=%016" PRIx64 " hop=none result=%s "
		    "stat=\"%s\"", e->evp.id, type ==
		    IMSG_QUEUE_DELIVERY_TEMPFAIL ? "TempFail" : "PermFail",
		    esc);
		report(e->evp.id, type, line, "", 0);
		free(hops);
		close(e->fd);
		free(e);
		if (!TAILQ_EMPTY(&batch) && !evtimer_pending(&batch_ev, NULL)) {
			struct timeval tv = { 0, MTA_BATCH_USEC };
			evtimer_add(&batch_ev, &tv);
		}
		return;
	}
	batch_add(e, hops, count, random != 0);
	free(e);
}

static void
mta_dispatch(enum proc_id from, struct imsg *imsg)
{
	switch (imsg->type) {
	case IMSG_MTA_DELIVER:
		if (from == PROC_QUEUE) {
			on_deliver(imsg);
			return;
		}
		break;
	case IMSG_LKA_ROUTE_RESULT:
		if (from == PROC_LKA) {
			on_route(imsg);
			return;
		}
		break;
	case IMSG_RELOAD_MTA:
		if (from == PROC_PARENT) {
			mta_tls_reload(imsg);	/* mta_tls.c */
			return;
		}
		break;
	case IMSG_CTL_SHOW_RELAYS:
		if (from == PROC_CONTROL) {
			mta_on_ctl(imsg);
			return;
		}
		break;
	case IMSG_CTL_LOG_VERBOSE: {
		struct mreader	 r;
		uint32_t	 v;

		m_msg(&r, imsg);
		if (m_get_u32(&r, &v) == 0 && m_end(&r) == 0)
			log_setverbose((int)v);
		return;
	}
	}
	if (imsg->type >= IMSG_CTL_SHOW_QUEUE && imsg->type <= IMSG_CTL_END) {
		/* control requests meant for others: nothing to do here */
		log_debug("mta: imsg %u from %s ignored", imsg->type,
		    proc_name(from));
		return;
	}
	fatalx("mta: unexpected imsg %u from %s", imsg->type,
	    proc_name(from));
}

void
mta_main(void)
{
	/* CA files are read before the chroot */
	mta_tls_init();
	proc_child_start(PROC_MTA, SMTPD_USER, "/var/empty", mta_dispatch);
	evtimer_set(&batch_ev, on_batch, NULL);
	mta_route_init();
	event_dispatch();
	exit(0);
}
