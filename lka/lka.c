/*
 * The lka process (stub until its issue lands): starts, drops
 * privileges and serves its imsg channels.
 */
#include <event.h>
#include <stdlib.h>

#include "config.h"
#include "log.h"
#include "proc.h"
#include "proto.h"

static void
lka_dispatch(enum proc_id from, struct imsg *imsg)
{
	log_debug("lka: imsg %u from %s ignored", imsg->type,
	    proc_name(from));
}

void
lka_main(void)
{
	proc_child_start(PROC_LKA, SMTPD_USER, NULL, lka_dispatch);
	event_dispatch();
	exit(0);
}
