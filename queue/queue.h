/*
 * Internal interface of the queue process: the dispatcher (queue.c), the
 * scheduler (scheduler.c), bounce generation (bounce.c) and the control
 * answers (queue_ctl.c).  Nothing here crosses a process boundary.
 */
#ifndef SMTPD_QUEUE_H
#define SMTPD_QUEUE_H

#include <sys/queue.h>
#include <sys/tree.h>

#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "envelope.h"
#include "imsg.h"

#define SCHED_MAX_INFLIGHT		256
#define SCHED_MAX_INFLIGHT_DOMAIN	64
#define SCHED_MAX_INFLIGHT_USER		8

enum sched_state {
	S_PENDING,	/* waiting for nexttry */
	S_PARKED,	/* due, but its domain or user is at its limit */
	S_INFLIGHT,	/* handed to mta or the parent */
	S_HELD,		/* paused by smtpctl */
	S_BOUNCING	/* failed; its bounce is being generated */
};

struct sched_evp {
	RB_ENTRY(sched_evp)	 byid;
	RB_ENTRY(sched_evp)	 bytime;	/* only when S_PENDING */
	TAILQ_ENTRY(sched_evp)	 park;		/* only when S_PARKED */
	struct envelope		 e;
	enum sched_state	 state;
	int			 removed;	/* removed while in flight */
	int			 local;		/* mda, not mta */
	char			*limkey;	/* "d:domain" or "u:user" */
};

/* queue.c */
void	 queue_stat(const char *counter, int delta);
void	 queue_kick(void);		/* run the commit batch / sync soon */
int	 queue_method_local(const char *action, int *known);

/* queue_commit.c */
struct qs_job;
void	 queue_commit_init(void (*)(struct qs_job *));
int	 queue_commit_busy(void);
void	 queue_commit_start(struct qs_job *);

/* scheduler.c */
void	 scheduler_init(void);
void	 scheduler_add(const struct envelope *);	/* committed */
/* A delivery result: hop is the remote that answered ("" local or
 * none), remote_dsn 1 when it offered DSN (it takes over NOTIFY). */
void	 scheduler_on_result(uint32_t type, uint64_t evpid,
	    const char *line, const char *hop, int remote_dsn);
struct sched_evp *scheduler_find(uint64_t evpid);
struct sched_evp *scheduler_first(void);
struct sched_evp *scheduler_next(struct sched_evp *);
/* control: 0 (all) or an id; return how many were affected */
int	 scheduler_schedule(uint64_t evpid);
int	 scheduler_remove(uint64_t evpid);
int	 scheduler_hold(uint64_t evpid);
int	 scheduler_release(uint64_t evpid);
int	 scheduler_pause(const char *subsystem, int pause);
int	 scheduler_paused(const char *subsystem);
int	 scheduler_etrn(const char *domain);
/* bounce.c is done with an envelope: remove it (failure) or record
 * the warning (delay). */
void	 scheduler_bounced(uint64_t evpid, int removed);
size_t	 scheduler_count(void);
/* Pure: the delay before try retries + 1: retry, doubling, capped at
 * max (defaults 5m and 4h when 0). */
time_t	 scheduler_backoff(unsigned retries, time_t retry, time_t max);

/* bounce.c */
enum bounce_kind {
	B_FAILED,
	B_DELAYED,
	B_DELIVERED,	/* NOTIFY=SUCCESS, local */
	B_RELAYED	/* NOTIFY=SUCCESS, relayed to a non-DSN server */
};

/* One recipient line of a report. */
struct bounce_rcpt {
	const struct envelope	*e;
	enum bounce_kind	 kind;
};

void	 bounce_init(void);
/* Queue a notice about e (a copy is kept). */
void	 bounce_add(const struct envelope *e, enum bounce_kind);
void	 bounce_on_lka_result(struct imsg *);
/*
 * Pure: write the whole notice (headers and the multipart/report body)
 * for n recipients of one message to out (Reply-To: replyto, the
 * postmaster, unless NULL).  orig is the original message
 * (its headers only unless ret_full), eol "\r\n" or "\n".
 */
void	 bounce_format(struct buf *out, const char *hostname,
	    const char *replyto, const char *to,
	    const struct bounce_rcpt *, size_t n,
	    const char *orig, size_t origlen, int ret_full, time_t now,
	    const char *boundary, const char *eol);
/* Status code of an error line: "5.1.1" from "550 5.1.1 ...", else
 * "<class>.0.0"; def when nothing usable. */
void	 bounce_status(const char *line, const char *def, char out[16]);

/* queue_reload.c: IMSG_RELOAD_QUEUE from the parent */
void	 queue_reload_on_imsg(struct imsg *);
/* scheduler.c: the action table changed; envelopes whose action is no
 * longer configured stay queued (their last error says so). */
void	 scheduler_reconfigured(void);

/* queue_ctl.c */
void	 queue_ctl_dispatch(struct imsg *);

#endif
