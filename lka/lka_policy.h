/*
 * Internals of lka's policy side shared by lka_policy.c (rules, local
 * domains, connect, AUTH, VRFY), lka_expand.c (aliases and virtual
 * expansion) and lka_dnsbl.c (DNS blocklists over c-ares).
 */
#ifndef SMTPD_LKA_POLICY_H
#define SMTPD_LKA_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "envelope.h"

/* Who asks: the session side of a RCPT. */
struct lka_ctx {
	uint32_t	 lindex;
	const char	*addr;		/* client address or "local" */
	int		 is_local;
	const char	*auth_user;	/* "" if none */
	const char	*sender;	/* "" for <> */
	const char	*tag;		/* listener tag, "" if none */
};

struct lka_exp {
	char	 action[64];
	char	 rcpt[ADDR_MAX];	/* address, "|command" or "/file" */
	char	 user[256];		/* local user, "" for relay */
};

#define LKA_EXPAND_MAX		1000	/* envelopes from one RCPT */
#define LKA_EXPAND_DEPTH	10

struct lka_expansion {
	struct lka_exp	*v;
	size_t		 n, cap;
	char		 error[256];	/* reply line when refused */
};

/* lka_policy.c */
const struct rule *lka_rule_match(const struct lka_ctx *, const char *rcpt);
int	lka_is_local_domain(const char *domain);
/* Lookup key in a table of addresses: exact, "@domain", then globs. */
int	lka_table_has_address(const struct table *, const char *addr);

/* lka_expand.c: fill ex for rcpt; 0, or -1 with ex->error set. */
int	lka_expand(const struct lka_ctx *, const char *rcpt,
	    struct lka_expansion *ex);
void	lka_expansion_free(struct lka_expansion *);
/* 1 if local part user exists for some local action (VRFY). */
int	lka_user_exists(const char *user);
/* Split an alias value into items (commas outside quotes); pure. */
size_t	lka_alias_split(char *value, char **items, size_t max);

/* lka_policy.c */
/* A reload: new listener addresses are local; DNSBL resolvers follow. */
void	lka_policy_reload(void);

/* lka_dnsbl.c */
void	lka_dnsbl_init(void);
/* A reload may have changed the resolvers: new channel between queries. */
void	lka_dnsbl_reload(void);
typedef void (*lka_dnsbl_cb)(uint32_t peerid, const char *zone);
/* Calls cb once: zone NULL if not listed or unknown (time-boxed). */
void	lka_dnsbl_check(uint32_t peerid, const char *addr, lka_dnsbl_cb);
/* Query name of addr in zone ("4.3.2.1.zone", nibbles for IPv6); pure.
 * -1 if addr is not an address or out is too small. */
int	lka_dnsbl_name(const char *addr, const char *zone, char *out,
	    size_t outlen);

#endif
