/*
 * The queue's half of a reload (IMSG_RELOAD_QUEUE from the parent): new
 * lifetimes and retry intervals, and the action table (name -> relay or
 * local) that tells the scheduler where each envelope goes.  Envelopes
 * in flight finish where they went; the others follow the new table
 * when they are next due (scheduler.c).
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "proc.h"
#include "proto.h"
#include "queue.h"

/* Actions of the previous reload (the parsed ones are never freed). */
static struct action	*stubs;

void
queue_reload_on_imsg(struct imsg *imsg)
{
	struct mreader	 r;
	struct action	*a, *set;
	const char	*host, *pm, *name;
	uint64_t	 ttl, retry, retrymax, warn, minfree;
	uint32_t	 n, i, method;

	m_msg(&r, imsg);
	if (m_get_u64(&r, &ttl) == -1 || m_get_u64(&r, &retry) == -1 ||
	    m_get_u64(&r, &retrymax) == -1 || m_get_u64(&r, &warn) == -1 ||
	    m_get_u64(&r, &minfree) == -1 || m_get_str(&r, &host) == -1 ||
	    m_get_str(&r, &pm) == -1 || m_get_u32(&r, &n) == -1 ||
	    n > 100000)
		fatalx("queue: bad IMSG_RELOAD_QUEUE");
	if ((set = calloc(n ? n : 1, sizeof(*set))) == NULL)
		fatal("queue reload");
	for (i = 0; i < n; i++) {
		if (m_get_str(&r, &name) == -1 ||
		    m_get_u32(&r, &method) == -1 || method > A_RELAY)
			fatalx("queue: bad IMSG_RELOAD_QUEUE");
		strlcpy(set[i].name, name, sizeof(set[i].name));
		set[i].method = (enum action_method)method;
	}
	if (m_end(&r) == -1)
		fatalx("queue: bad IMSG_RELOAD_QUEUE");

	env->queue_ttl = (time_t)ttl;
	env->queue_retry = (time_t)retry;
	env->queue_retry_max = (time_t)retrymax;
	env->bounce_warn_interval = (time_t)warn;
	env->min_free_space = minfree;
	strlcpy(env->hostname, host, sizeof(env->hostname));
	strlcpy(env->postmaster, pm, sizeof(env->postmaster));
	/* The new table replaces the old one in one go. */
	while ((a = TAILQ_FIRST(&env->actions)) != NULL)
		TAILQ_REMOVE(&env->actions, a, entry);
	for (i = 0; i < n; i++)
		TAILQ_INSERT_TAIL(&env->actions, &set[i], entry);
	free(stubs);
	stubs = set;
	scheduler_reconfigured();
	log_info("queue event=reloaded actions=%u", n);
	proc_compose(PROC_PARENT, IMSG_RELOAD_DONE, 0, -1);
}
