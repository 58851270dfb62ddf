/*
 * The lookup agent: policy (rules, aliases, AUTH, ban, DNSBL), routes
 * and DNS, and the control commands that read them.  lka.c only
 * dispatches; each concern lives in its own file.
 */
#ifndef SMTPD_LKA_H
#define SMTPD_LKA_H

#include "imsg.h"
#include "proc.h"

/* lka_policy.c (inbound issue) */
void	lka_policy_init(void);
void	lka_on_connect(struct imsg *);
void	lka_on_rcpt(enum proc_id from, struct imsg *);
void	lka_on_auth(struct imsg *);
void	lka_on_vrfy(struct imsg *);

/* lka_route.c (relay issue) */
void	lka_route_init(void);
void	lka_on_route(struct imsg *);

/* lka_ctl.c (control issue): IMSG_CTL_* addressed to lka */
void	lka_on_ctl(struct imsg *);
/* IMSG_CTL_RELOAD from the parent: re-read the file, answer the parent */
void	lka_on_parent_reload(struct imsg *);
/* lka_ctl_route.c: `show route`, a dry run of rules and routes */
void	lka_ctl_show_route(struct imsg *);

#endif
