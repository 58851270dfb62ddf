/*
 * The sendmail(8) interface of smtpctl: a job (sender, recipients, DSN
 * options, the message) built from the command line and stdin, sent over
 * an SMTP stream that the control process gets from the smtp process, or
 * written to the offline spool when the daemon is down.  The message and
 * address handling are pure functions (sendmail_msg.c), unit-tested.
 */
#ifndef SMTPD_SENDMAIL_H
#define SMTPD_SENDMAIL_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "buf.h"

struct sm_job {
	char		*sender;	/* "" : the null sender <> */
	char		**rcpts;
	size_t		 nrcpts;
	char		 body[16];	/* "", "8BITMIME", "7BIT" */
	char		 ret[8];	/* "", "FULL", "HDRS" */
	char		 notify[64];	/* "", "NEVER", "SUCCESS,..." */
	char		*envid;		/* NULL: none */
	struct buf	 msg;		/* LF ends, not dot-stuffed */
};

void	sm_job_init(struct sm_job *);
void	sm_job_free(struct sm_job *);
void	sm_job_add_rcpt(struct sm_job *, const char *);

/* ---- sendmail_msg.c: pure ---- */

/*
 * Read a message from in into out: CRLF becomes LF, a NUL is refused
 * (-1), and unless ignore_dots a line holding a single "." ends it.
 * -1 with errno set on a read error.
 */
int	sm_read_message(FILE *in, int ignore_dots, struct buf *out);
/*
 * Calls cb for each address of an RFC 5322 address list (To/Cc/Bcc
 * value, unfolded): display names, comments, groups and angle brackets
 * removed.  Returns the number of addresses.
 */
int	sm_addr_list(const char *value, void (*cb)(const char *, void *),
	    void *arg);
/* addr@domain when addr has no '@'; out of size outlen.  -1 if too long
 * or addr contains a control character or a space outside quotes. */
int	sm_qualify(const char *addr, const char *domain, char *out,
	    size_t outlen);
/*
 * Build job->msg from the raw message: with extract (-t) the To, Cc and
 * Bcc addresses are added to the recipients; Bcc is always removed; a
 * missing From (sender, with fullname as display name), Date (now) and
 * Message-ID (<token@domain>) are added.  Returns 0.
 */
int	sm_prepare(struct sm_job *, const char *raw, size_t rawlen,
	    int extract, const char *fullname, const char *domain,
	    time_t now, const char *token);
/* 1 if the message has 8-bit bytes. */
int	sm_has_8bit(const char *, size_t);

/* ---- sendmail_smtp.c ---- */

/*
 * Run the SMTP dialog for job over fd (connected to the smtp process).
 * Returns a sysexits code: EX_OK, EX_NOUSER (every recipient refused),
 * EX_DATAERR, EX_NOPERM, EX_TEMPFAIL, EX_PROTOCOL; err says why.  With
 * trace set, the dialog is copied to it.
 */
int	sm_smtp_send(int fd, const struct sm_job *, FILE *trace, char *err,
	    size_t errlen);
/* -bs: copy between stdin/stdout and fd until either side closes. */
int	sm_smtp_relay(int fd);

/* ---- offline.c ---- */

#define OFFLINE_DIR	"offline"	/* under the spool */
/* Text form of a job for the offline spool, and its parser (pure). */
void	offline_dump(const struct sm_job *, struct buf *);
int	offline_load(struct sm_job *, const char *, size_t, char *err,
	    size_t errlen);
/* Write job into SPOOL/offline; 0 or -1 with err. */
int	offline_write(const char *spool, const struct sm_job *, char *err,
	    size_t errlen);
/*
 * At daemon start (parent, after the children are forked): fork a
 * runner that enqueues every file of SPOOL/offline as its owner, through
 * the control socket, and removes it once accepted.  Returns the pid of
 * the runner (-1 if none was started).
 */
pid_t	offline_pickup(const char *spool, const char *sockpath);

#endif
