/*
 * Configuration reload (SIGHUP, `smtpctl reload`): the parent checks and
 * takes the new file (parent_reload.c), then lka re-reads it
 * (lka_ctl.c).  The parse errors are captured as text so that smtpctl
 * can print them.
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

#endif
