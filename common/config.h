/*
 * The parsed configuration.  The parent parses smtpd.conf (parse.y)
 * before forking; every child inherits this structure.  Nothing here is
 * written after the fork except by reload (control issue).
 */
#ifndef SMTPD_CONFIG_H
#define SMTPD_CONFIG_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "relay.h"
#include "table.h"

#define SMTPD_USER		"_smtpd"
#define SMTPD_QUEUE_USER	"_smtpq"
#define SMTPD_CONFIG_DEFAULT	"/etc/smtpd.conf"
#define SMTPD_SPOOL_DEFAULT	"/var/spool/smtpd"
#define SMTPD_SOCKET_DEFAULT	"/var/run/smtpd.sock"

struct pki {
	TAILQ_ENTRY(pki) entry;
	char		 name[256];
	char		*cert_file;
	char		*key_file;
	char		*cert;		/* file contents, read at load */
	size_t		 cert_len;
	char		*key;
	size_t		 key_len;
};
TAILQ_HEAD(pkilist, pki);

#define LISTEN_TLS		0x01	/* STARTTLS offered */
#define LISTEN_TLS_REQUIRE	0x02	/* STARTTLS before MAIL */
#define LISTEN_SMTPS		0x04	/* TLS from the first byte */
#define LISTEN_AUTH		0x08	/* AUTH required before MAIL */
#define LISTEN_AUTH_OPTIONAL	0x10	/* AUTH offered */
#define LISTEN_RECEIVED_AUTH	0x20	/* name the user in Received */

struct listener {
	TAILQ_ENTRY(listener) entry;
	int			 index;		/* in config order, from 0 */
	char			 name[256];	/* as written: "localhost" */
	struct sockaddr_storage	 ss;		/* one address */
	socklen_t		 sslen;
	uint16_t		 port;
	int			 flags;
	struct pki		*pki;
	struct table		*auth_table;
	char			 hostname[256];	/* "" : global hostname */
	char			 tag[64];
	int			 fd;		/* opened by the parent */
	int			 line;
};
TAILQ_HEAD(listenerlist, listener);

enum action_method {
	A_MAILDIR,
	A_MBOX,
	A_MDA,
	A_LMTP,
	A_RELAY
};

struct action {
	TAILQ_ENTRY(action) entry;
	char			 name[64];
	enum action_method	 method;
	char			*path;		/* maildir path, mda command,
						 * lmtp destination */
	struct table		*alias;		/* alias <T> */
	struct table		*virtual;	/* virtual <T> */
	char			*user;		/* user NAME */
	/* relay */
	struct relay_list	 hosts;		/* host ... ; may be empty */
	int			 random;	/* `random` (or spec's #) */
	struct table		*routes;	/* routes <T> */
	enum relay_tls		 tls;		/* default for hops */
	int			 no_verify;
	char			 src[RELAY_ADDR_MAX + 1];
	struct table		*auth;		/* credentials */
	char			*helo;
	uint16_t		 port;		/* default port, 0: 25 */
	char			*ca_file;
	int			 line;
};
TAILQ_HEAD(actionlist, action);

enum rule_from {
	FROM_LOCAL,
	FROM_ANY,
	FROM_AUTH,		/* table optional: auth <T> */
	FROM_SRC,
	FROM_MAIL_FROM
};

enum rule_for {
	FOR_LOCAL,
	FOR_ANY,
	FOR_DOMAIN,
	FOR_RCPT_TO
};

struct rule {
	TAILQ_ENTRY(rule) entry;
	int		 line;
	/* A criterion is active when its *_set flag is 1. */
	int		 from_set, from_neg;
	enum rule_from	 from;
	struct table	*from_table;
	int		 for_set, for_neg;
	enum rule_for	 rfor;
	struct table	*for_table;
	int		 tag_set, tag_neg;
	char		 tag[64];
	int		 reject;
	struct action	**actions;	/* NULL-terminated; NULL if reject */
	size_t		 nactions;
};
TAILQ_HEAD(rulelist, rule);

struct resolver {
	char		 addr[RELAY_ADDR_MAX + 1];
	uint16_t	 port;		/* 0: 53 */
};

struct smtpd_config {
	char			*conf_path;
	char			 hostname[256];
	char			 helo[256];
	char			 postmaster[512];
	struct resolver		*resolvers;
	size_t			 nresolvers;
	char			*spool;
	char			*control_socket;

	time_t			 queue_ttl;		/* 4d */
	time_t			 queue_retry;		/* 5m */
	time_t			 queue_retry_max;	/* 4h */
	time_t			 bounce_warn_interval;	/* 4h */

	uint64_t		 max_message_size;	/* 35M */
	unsigned		 max_rcpt;		/* 1000 */
	unsigned		 max_hops;		/* 30 */
	int			 vrfy;
	int			 etrn;
	uint64_t		 min_free_space;	/* 0: off */
	char			**dnsbl;		/* zones */
	size_t			 ndnsbl;
	struct table		*ban;
	char			*ban_message;

	/* limits with defaults; `smtp limit ...` in smtpd.conf.5 */
	unsigned		 max_sessions;		/* 1000 */
	unsigned		 max_sessions_per_ip;	/* 50 */
	time_t			 timeout;		/* 5m */
	time_t			 timeout_data;		/* 10m */
	unsigned		 max_errors;		/* 10 */
	unsigned		 max_auth_failures;	/* 3 */
	time_t			 mda_timeout;		/* local delivery time
							 * limit; 0: 10m */
	/* outbound limits; `mta limit ...`, `mta timeout ...` */
	unsigned		 mta_conn_per_hop;	/* 5 */
	unsigned		 mta_conn_per_domain;	/* 20 */
	unsigned		 mta_msg_per_conn;	/* 100 */
	time_t			 mta_timeout_connect;	/* 30s */
	time_t			 mta_timeout_reply;	/* 5m */
	time_t			 mta_timeout_idle;	/* 5s */

	struct tablelist	 tables;
	struct pkilist		 pkis;
	struct listenerlist	 listeners;
	struct actionlist	 actions;
	struct rulelist		 rules;

	int			 ctl_fd;	/* control socket, parent */
};

/* The configuration of this process. */
extern struct smtpd_config	*env;

/*
 * Parse path into a new config (macros from -D already defined with
 * config_define).  Every error is printed as "FILE:LINE: message" on
 * stderr; returns NULL if there was any.
 */
struct smtpd_config	*config_parse(const char *path);
int			 config_define(const char *nameval);	/* -D */
void			 config_free(struct smtpd_config *);

struct table	*config_table(struct smtpd_config *, const char *);
struct action	*config_action(struct smtpd_config *, const char *);
struct pki	*config_pki(struct smtpd_config *, const char *);
/* "maildir", "mbox", "mda", "lmtp", "relay": the grammar's words. */
const char	*config_method_name(enum action_method);

/*
 * Load-time checks, also for `smtpctl update table`: every entry of a
 * routes table is a GATEWAY-SPEC (with xmail options) that parses; every
 * entry of a relay auth table is "label user:password".  -1 with
 * "FILE:LINE: message" in err.
 */
int		 config_check_routes(const struct table *, char *err,
		    size_t errlen);
int		 config_check_secrets(const struct table *, char *err,
		    size_t errlen);

/* Units: "30s" "15m" "4h" "4d" / "512" "64K" "35M" "1G".  -1 if bad. */
int		 parse_duration(const char *, time_t *);
int		 parse_size(const char *, uint64_t *);

#endif
