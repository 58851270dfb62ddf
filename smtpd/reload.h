/*
 * Configuration reload (SIGHUP, `smtpctl reload`): the parent parses and
 * checks the file and opens new listeners (parent_ctl.c); lka re-reads
 * it (lka_ctl.c); then the parent sends smtp, queue and mta their part
 * (parent_reload.c, IMSG_RELOAD_* in proto.h) and answers once all took
 * it.  The parse errors are captured as text so that smtpctl can print
 * them.
 */
#ifndef SMTPD_RELOAD_H
#define SMTPD_RELOAD_H

#include "buf.h"
#include "config.h"

/*
 * config_parse(path) with what it prints on stderr ("FILE:LINE:
 * message" lines) appended to errs instead.  NULL if the file is not
 * valid.
 */
struct smtpd_config	*reload_config_parse(const char *path,
			    struct buf *errs);

/*
 * parent_reload.c.  reload_listeners_open opens the listeners of conf
 * that old does not have (same address and port: kept); on failure it
 * closes what it opened, appends "FILE:LINE: message" to errs and
 * returns -1.  reload_listeners_abort closes them again.  reload_push
 * hands the old listeners over to conf and sends smtp, queue and mta
 * their part of conf; returns how many processes must answer
 * IMSG_RELOAD_DONE.
 */
int	 reload_listeners_open(struct smtpd_config *old,
	    struct smtpd_config *conf, const char *path, struct buf *errs);
void	 reload_listeners_abort(struct smtpd_config *conf);
int	 reload_push(struct smtpd_config *old, struct smtpd_config *conf);

#endif
