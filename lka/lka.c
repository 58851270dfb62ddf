/*
 * The lka process: runs as _smtpd without chroot (it reads tables and
 * talks DNS), answers policy questions from smtp, route questions from
 * mta and control requests.  Only dispatch lives here.
 */
#include <event.h>
#include <stdlib.h>

#include "config.h"
#include "lka.h"
#include "log.h"
#include "proc.h"
#include "proto.h"

static void
lka_dispatch(enum proc_id from, struct imsg *imsg)
{
	switch (imsg->type) {
	case IMSG_LKA_CONNECT:
		lka_on_connect(imsg);
		return;
	case IMSG_LKA_RCPT:
		lka_on_rcpt(from, imsg);	/* smtp, or queue for bounces */
		return;
	case IMSG_LKA_AUTH:
		lka_on_auth(imsg);
		return;
	case IMSG_LKA_VRFY:
		lka_on_vrfy(imsg);
		return;
	case IMSG_LKA_ROUTE:
		lka_on_route(imsg);
		return;
	}
	if (from == PROC_PARENT && imsg->type == IMSG_CTL_RELOAD) {
		lka_on_parent_reload(imsg);	/* lka_ctl.c */
		return;
	}
	if (from == PROC_CONTROL && imsg->type >= IMSG_CTL_SHOW_QUEUE &&
	    imsg->type <= IMSG_CTL_END) {
		lka_on_ctl(imsg);
		return;
	}
	fatalx("lka: unexpected imsg %u from %s", imsg->type,
	    proc_name(from));
}

void
lka_main(void)
{
	proc_child_start(PROC_LKA, SMTPD_USER, NULL, lka_dispatch);
	lka_policy_init();
	lka_route_init();
	event_dispatch();
	exit(0);
}
