/*
 * The queue process: runs as _smtpq chrooted in the spool, owns the
 * on-disk queue (queue_store.c), the scheduler and bounces.  This file
 * dispatches imsgs and batches the commits that arrive together so that
 * they share their directory fsyncs (group commit).
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <event.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "envelope.h"
#include "log.h"
#include "proc.h"
#include "proto.h"
#include "queue.h"
#include "queue_store.h"

static struct qs_commit	*batch;
static size_t		 nbatch, batchcap;
static struct event	 ev_tick;
static int		 tick_armed;
static long		 ncommitted;

void
queue_stat(const char *counter, int delta)
{
	struct mbuild	*m;

	if (proc_chan(PROC_CONTROL) == NULL)
		return;
	m = proc_create(PROC_CONTROL, IMSG_STAT_INCR, 0, -1);
	m_add_str(m, counter);
	m_add_int(m, delta);
	m_close(m);
}

int
queue_method_local(const char *action, int *known)
{
	struct action	*a;

	if ((a = config_action(env, action)) == NULL) {
		if (known)
			*known = 0;
		return 1;
	}
	if (known)
		*known = 1;
	return a->method != A_RELAY;
}

static void
queue_on_committed(const struct envelope *e, void *arg)
{
	(void)arg;
	ncommitted++;
	scheduler_add(e);
}

/* The batch on its way to the disk (its own array: the next batch
 * gathers in batch meanwhile). */
static struct qs_commit	*inflight;
static size_t		 ninflight, inflightcap;

static void
queue_on_job_done(struct qs_job *job)
{
	struct mbuild	*m;
	size_t		 k, n = ninflight;
	int		 nok = 0;

	ncommitted = 0;
	queue_store_commit_end(job, queue_on_committed, NULL);
	for (k = 0; k < n; k++) {
		m = proc_create(PROC_SMTP, IMSG_QUEUE_COMMIT_RESULT,
		    inflight[k].peerid, -1);
		m_add_u32(m, inflight[k].ok);
		m_add_str(m, inflight[k].reply);
		m_close(m);
		if (inflight[k].ok) {
			nok++;
			log_info("queue msgid=%08" PRIx32
			    " event=committed", inflight[k].msgid);
		}
	}
	ninflight = 0;
	log_debug("queue event=group-commit messages=%zu ok=%d "
	    "envelopes=%ld", n, nok, ncommitted);
	if (nbatch > 0)
		queue_kick();
}

static void
queue_on_tick(int fd, short ev, void *arg)
{
	struct qs_commit	*t;
	size_t			 tc;

	(void)fd;
	(void)ev;
	(void)arg;
	tick_armed = 0;
	/* one batch at a time; the next starts when it is done */
	if (nbatch > 0 && !queue_commit_busy()) {
		t = inflight;
		tc = inflightcap;
		inflight = batch;
		inflightcap = batchcap;
		ninflight = nbatch;
		batch = t;
		batchcap = tc;
		nbatch = 0;
		queue_commit_start(queue_store_commit_begin(inflight,
		    ninflight));
	}
	if (queue_store_sync() == -1)
		log_warn("queue: directory sync");
}

void
queue_kick(void)
{
	struct timeval	 tv = { 0, 0 };

	if (tick_armed)
		return;
	tick_armed = 1;
	evtimer_add(&ev_tick, &tv);
}

static void
queue_create_reply(uint32_t peerid, int ok, uint32_t msgid,
    const char *reply, int fd)
{
	struct mbuild	*m;

	m = proc_create(PROC_SMTP, IMSG_QUEUE_CREATE_RESULT, peerid, fd);
	m_add_u32(m, ok);
	m_add_u32(m, msgid);
	if (!ok)
		m_add_str(m, reply);
	m_close(m);
}

static void
queue_on_smtp(struct imsg *imsg)
{
	struct mreader	 r;
	struct mbuild	*m;
	struct envelope	 e;
	const char	*text;
	char		 err[128];
	uint32_t	 msgid;
	uint64_t	 size;
	int		 fd, known;

	m_msg(&r, imsg);
	switch (imsg->type) {
	case IMSG_QUEUE_CREATE:
		if (m_end(&r) == -1)
			goto bad;
		if (!queue_store_diskcheck(env->min_free_space)) {
			log_warnx("queue event=create-refused "
			    "reason=\"below min-free-space\"");
			queue_create_reply(imsg->peerid, 0, 0,
			    "452 4.3.1 Insufficient system storage", -1);
			return;
		}
		if ((fd = queue_store_create(&msgid)) == -1) {
			log_warn("queue: create message");
			queue_create_reply(imsg->peerid, 0, 0, errno ==
			    ENOSPC || errno == EDQUOT ?
			    "452 4.3.1 Insufficient system storage" :
			    "452 4.3.1 Temporary queue failure", -1);
			return;
		}
		queue_create_reply(imsg->peerid, 1, msgid, NULL, fd);
		return;
	case IMSG_QUEUE_ENVELOPE:
		if (m_get_u32(&r, &msgid) == -1 ||
		    m_get_str(&r, &text) == -1 || m_end(&r) == -1)
			goto bad;
		if (envelope_load(&e, text, strlen(text), err,
		    sizeof(err)) == -1) {
			log_warnx("queue msgid=%08" PRIx32 " event=bad-envelope"
			    " error=\"%s\"", msgid, err);
			queue_store_fail(msgid,
			    "451 4.3.0 Bad envelope from smtp");
			return;
		}
		e.type = queue_method_local(e.action, &known) ? ENV_MDA :
		    ENV_MTA;
		if (!known)
			log_warnx("queue msgid=%08" PRIx32 " event=envelope "
			    "warning=\"unknown action %s\"", msgid, e.action);
		if (queue_store_envelope(msgid, &e) == -1)
			log_warnx("queue msgid=%08" PRIx32 " event=envelope "
			    "error=\"%s\"", msgid, errno == E2BIG ?
			    "too many recipients" : "unknown message");
		return;
	case IMSG_QUEUE_COMMIT:
		if (m_get_u32(&r, &msgid) == -1 ||
		    m_get_u64(&r, &size) == -1 || m_end(&r) == -1)
			goto bad;
		if (nbatch == batchcap) {
			batchcap = batchcap ? batchcap * 2 : 32;
			if ((batch = reallocarray(batch, batchcap,
			    sizeof(*batch))) == NULL)
				fatal("queue");
		}
		memset(&batch[nbatch], 0, sizeof(*batch));
		batch[nbatch].msgid = msgid;
		batch[nbatch].size = size;
		batch[nbatch].peerid = imsg->peerid;
		nbatch++;
		queue_kick();
		return;
	case IMSG_QUEUE_ROLLBACK:
		if (m_get_u32(&r, &msgid) == -1 || m_end(&r) == -1)
			goto bad;
		queue_store_rollback(msgid);
		return;
	case IMSG_QUEUE_ETRN:
		if (m_get_str(&r, &text) == -1 || m_end(&r) == -1)
			goto bad;
		log_info("queue event=etrn domain=%s scheduled=%d", text,
		    scheduler_etrn(text));
		return;
	case IMSG_QUEUE_DISKCHECK:
		if (m_end(&r) == -1)
			goto bad;
		m = proc_create(PROC_SMTP, IMSG_QUEUE_DISKCHECK_RESULT,
		    imsg->peerid, -1);
		m_add_u32(m, queue_store_diskcheck(env->min_free_space));
		m_close(m);
		return;
	}
bad:
	log_warnx("queue: bad imsg %u from smtp ignored", imsg->type);
}

static void
queue_on_result(struct imsg *imsg)
{
	struct mreader	 r;
	const char	*line, *hop;
	uint64_t	 evpid;
	uint32_t	 remote_dsn;

	m_msg(&r, imsg);
	if (m_get_u64(&r, &evpid) == -1 || m_get_str(&r, &line) == -1 ||
	    m_get_str(&r, &hop) == -1 || m_get_u32(&r, &remote_dsn) == -1 ||
	    m_end(&r) == -1) {
		log_warnx("queue: bad delivery result %u ignored", imsg->type);
		return;
	}
	scheduler_on_result(imsg->type, evpid, line, hop, remote_dsn != 0);
}

static void
queue_dispatch(enum proc_id from, struct imsg *imsg)
{
	switch (imsg->type) {
	case IMSG_QUEUE_CREATE:
	case IMSG_QUEUE_ENVELOPE:
	case IMSG_QUEUE_COMMIT:
	case IMSG_QUEUE_ROLLBACK:
	case IMSG_QUEUE_ETRN:
	case IMSG_QUEUE_DISKCHECK:
		if (from != PROC_SMTP)
			break;
		queue_on_smtp(imsg);
		return;
	case IMSG_QUEUE_DELIVERY_OK:
	case IMSG_QUEUE_DELIVERY_TEMPFAIL:
	case IMSG_QUEUE_DELIVERY_PERMFAIL:
	case IMSG_QUEUE_DELIVERY_LOOP:
		if (from != PROC_MTA && from != PROC_PARENT)
			break;
		queue_on_result(imsg);
		return;
	case IMSG_LKA_RCPT_RESULT:
		if (from != PROC_LKA)
			break;
		bounce_on_lka_result(imsg);
		return;
	case IMSG_RELOAD_QUEUE:
		if (from != PROC_PARENT)
			break;
		queue_reload_on_imsg(imsg);	/* queue_reload.c */
		return;
	default:
		if (from == PROC_CONTROL &&
		    imsg->type >= IMSG_CTL_SHOW_QUEUE &&
		    imsg->type <= IMSG_CTL_END) {
			queue_ctl_dispatch(imsg);
			return;
		}
	}
	log_warnx("queue: unexpected imsg %u from %s ignored", imsg->type,
	    proc_name(from));
}

static void
queue_on_recovered(const struct envelope *e, void *arg)
{
	(void)arg;
	scheduler_add(e);
}

/* As root, before the chroot: the spool exists and belongs to _smtpq. */
static void
queue_prepare_spool(const char *spool)
{
	struct passwd	*pw;

	if (mkdir(spool, 0711) == -1 && errno != EEXIST)
		fatal("queue: mkdir %s", spool);
	if (geteuid() != 0)
		return;
	if ((pw = getpwnam(SMTPD_QUEUE_USER)) == NULL)
		fatalx("queue: unknown user %s", SMTPD_QUEUE_USER);
	if (chown(spool, pw->pw_uid, pw->pw_gid) == -1 ||
	    chmod(spool, 0711) == -1)
		fatal("queue: cannot give %s to %s", spool, SMTPD_QUEUE_USER);
}

void
queue_main(void)
{
	const char	*spool = env->spool ? env->spool : SMTPD_SPOOL_DEFAULT;
	struct rlimit	 rl;
	int		 root = geteuid() == 0;
	long		 n;

	queue_prepare_spool(spool);
	/* an open message fd per session being received */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	proc_child_start(PROC_QUEUE, SMTPD_QUEUE_USER, root ? spool : NULL,
	    queue_dispatch);
	if (queue_store_init(root ? "/" : spool) == -1)
		fatal("queue: spool %s", spool);
	evtimer_set(&ev_tick, queue_on_tick, NULL);
	queue_commit_init(queue_on_job_done);
	scheduler_init();
	bounce_init();
	if ((n = queue_store_recover(queue_on_recovered, NULL)) == -1)
		fatal("queue: recovery");
	log_info("queue event=started spool=%s envelopes=%ld corrupt=%u",
	    spool, n, queue_store_ncorrupt());
	event_dispatch();
	exit(0);
}
