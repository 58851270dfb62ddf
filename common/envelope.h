/*
 * An envelope: one (recipient, action) of a message, as the queue stores
 * it and as it travels between processes.  The text form (one
 * "key: value" a line, first line "version: 1") is what is written to
 * disk and sent over imsg; envelope_load rejects anything it does not
 * fully understand.  ids: a 64-bit envelope id whose high 32 bits are the
 * message id, printed as 16 hex digits everywhere.
 */
#ifndef SMTPD_ENVELOPE_H
#define SMTPD_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

#define ENVELOPE_VERSION	1
#define ADDR_MAX		512	/* a path: 64 + @ + 255, UTF-8 room */

#define evpid_to_msgid(e)	((uint32_t)((e) >> 32))
#define msgid_to_evpid(m)	((uint64_t)(m) << 32)

enum envelope_type {
	ENV_MTA,	/* relay action */
	ENV_MDA,	/* local action */
	ENV_BOUNCE	/* a bounce or delay notice to generate */
};

#define DSN_NOTIFY_SUCCESS	0x01
#define DSN_NOTIFY_FAILURE	0x02
#define DSN_NOTIFY_DELAY	0x04
#define DSN_NOTIFY_NEVER	0x08

enum dsn_ret {
	DSN_RET_DEFAULT,
	DSN_RET_FULL,
	DSN_RET_HDRS
};

#define EF_8BITMIME	0x01	/* BODY=8BITMIME */
#define EF_SMTPUTF8	0x02
#define EF_AUTHENTICATED 0x04
#define EF_LOCAL	0x08	/* from local */
#define EF_BOUNCE	0x10	/* this mail is itself a bounce */
#define EF_DOUBLE_BOUNCE 0x20	/* a bounce to postmaster: never bounces */

struct envelope {
	uint64_t		 id;
	enum envelope_type	 type;
	char			 action[64];
	char			 sender[ADDR_MAX];	/* "" for <> */
	char			 rcpt[ADDR_MAX];	/* after expansion */
	char			 orig_rcpt[ADDR_MAX];	/* as given at RCPT */
	char			 user[256];		/* local user, MDA */
	char			 helo[256];		/* client's EHLO */
	char			 client_addr[64];
	char			 auth_user[256];
	char			 listener_tag[64];
	unsigned		 flags;			/* EF_* */
	unsigned		 dsn_notify;		/* DSN_NOTIFY_*, 0 unset */
	enum dsn_ret		 dsn_ret;
	char			 dsn_envid[128];	/* decoded xtext */
	char			 dsn_orcpt[ADDR_MAX];	/* "rfc822;addr" */
	uint64_t		 size;
	time_t			 creation;
	time_t			 lasttry;
	time_t			 nexttry;
	time_t			 lastwarn;
	unsigned		 retries;
	char			 errorline[1024];	/* last error */
	char			 lasthop[300];		/* last hop tried */
};

/* Text form, appended to out. */
void	envelope_dump(const struct envelope *, struct buf *out);
/* Parse the text form; 0 on success, -1 on anything malformed or
 * unknown (err says what).  Pure. */
int	envelope_load(struct envelope *, const char *text, size_t len,
	    char *err, size_t errlen);
/* 16 hex digits. */
const char *evpid_str(uint64_t, char buf[17]);
int	evpid_parse(const char *, uint64_t *);

#endif
