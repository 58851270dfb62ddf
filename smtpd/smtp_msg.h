/*
 * The message of an smtp session: creation in the queue, the Received
 * header, DATA and BDAT streaming through the body filter into the
 * message fd, envelopes and commit (smtp_msg.c).
 */
#ifndef SMTPD_SMTP_MSG_H
#define SMTPD_SMTP_MSG_H

#include "imsg.h"

struct smtp_session;

void	smtp_msg_create(struct smtp_session *, int bdat);
void	smtp_msg_on_create(struct smtp_session *, struct imsg *,
	    struct mreader *);
void	smtp_msg_bdat(struct smtp_session *, uint64_t size, int last);
/* Consume buffered body input: 1 if the state moved on, 0 if more input
 * is needed. */
int	smtp_msg_input(struct smtp_session *);
void	smtp_msg_on_commit(struct smtp_session *, uint32_t ok,
	    const char *reply);

#endif
