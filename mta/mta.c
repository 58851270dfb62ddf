/*
 * The mta process (stub until its issue lands): starts, drops
 * privileges and serves its imsg channels.
 */
#include <event.h>
#include <stdlib.h>

#include "config.h"
#include "log.h"
#include "proc.h"
#include "proto.h"

static void
mta_dispatch(enum proc_id from, struct imsg *imsg)
{
	log_debug("mta: imsg %u from %s ignored", imsg->type,
	    proc_name(from));
}

void
mta_main(void)
{
	proc_child_start(PROC_MTA, SMTPD_USER, "/var/empty", mta_dispatch);
	event_dispatch();
	exit(0);
}
