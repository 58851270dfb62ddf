/*
 * The queue process (stub until its issue lands): starts, drops
 * privileges and serves its imsg channels.
 */
#include <event.h>
#include <stdlib.h>

#include "config.h"
#include "log.h"
#include "proc.h"
#include "proto.h"

static void
queue_dispatch(enum proc_id from, struct imsg *imsg)
{
	log_debug("queue: imsg %u from %s ignored", imsg->type,
	    proc_name(from));
}

void
queue_main(void)
{
	proc_child_start(PROC_QUEUE, SMTPD_QUEUE_USER, env->spool, queue_dispatch);
	event_dispatch();
	exit(0);
}
