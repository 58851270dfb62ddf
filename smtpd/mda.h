/*
 * Local delivery, run by the parent: the queue sends IMSG_MDA_DELIVER
 * (envelope text + message fd); the parent forks a child that becomes the
 * recipient user and delivers (maildir, mbox, mda command, lmtp); the
 * result goes back to the queue as IMSG_QUEUE_DELIVERY_*.
 */
#ifndef SMTPD_MDA_H
#define SMTPD_MDA_H

#include <sys/types.h>

#include "imsg.h"

/* Parent: handle one IMSG_MDA_DELIVER from the queue. */
void	mda_on_deliver(struct imsg *);
/* Parent: a child exited; returns 1 if it was a delivery child (and its
 * result has been sent to the queue), 0 if the pid is not ours. */
int	mda_on_child_exit(pid_t, int status);

#endif
