/*
 * Command handlers of the smtp process living outside smtp_session.c:
 * the transaction envelope (smtp_tx.c) and AUTH (smtp_auth.c).
 */
#ifndef SMTPD_SMTP_TX_H
#define SMTPD_SMTP_TX_H

#include <stdint.h>

#include "imsg.h"
#include "smtp_cmd.h"

struct smtp_session;

void	smtp_cmd_mail(struct smtp_session *, struct smtp_cmd *);
void	smtp_cmd_rcpt(struct smtp_session *, struct smtp_cmd *);
void	smtp_on_rcpt_result(struct smtp_session *, struct mreader *);

void	smtp_cmd_auth(struct smtp_session *, struct smtp_cmd *);
void	smtp_on_auth_line(struct smtp_session *, const char *, size_t);
void	smtp_on_auth_result(struct smtp_session *, uint32_t);

#endif
