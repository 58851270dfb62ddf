/*
 * Relay hops and hop lists: the RELAY URL of smtpd.conf
 * ([SCHEME://][LABEL@]HOST[:PORT]) and the seed's GATEWAY-SPEC
 * ([#]HOP[;HOP]..., HOP = HOST[:PORT][,NeedTLS=0|1|2][,OutBind=ADDR]).
 * Both parsers are pure functions (relay.c) with unit tests.
 */
#ifndef SMTPD_RELAY_H
#define SMTPD_RELAY_H

#include <stddef.h>
#include <stdint.h>

#define RELAY_HOST_MAX	255	/* longest host name (RFC 1035) */
#define RELAY_LABEL_MAX	64
#define RELAY_ADDR_MAX	64	/* textual IPv4/IPv6 address */

enum relay_tls {
	RELAY_TLS_DEFAULT,	/* take the action's default */
	RELAY_TLS_NO,		/* smtp+notls, NeedTLS=0 */
	RELAY_TLS_OPPORTUNISTIC,/* smtp, NeedTLS=1 */
	RELAY_TLS_REQUIRE,	/* smtp+tls, NeedTLS=2 */
	RELAY_TLS_SMTPS		/* smtps */
};

struct relay_hop {
	char		 label[RELAY_LABEL_MAX + 1];	/* "" when none */
	char		 host[RELAY_HOST_MAX + 1];	/* IPv6 without [] */
	uint16_t	 port;		/* 0: the action's default */
	enum relay_tls	 tls;
	char		 src[RELAY_ADDR_MAX + 1];	/* "" : default */
};

struct relay_list {
	struct relay_hop *hops;
	size_t		 nhops;
	int		 random;	/* seed's leading '#', or `random` */
};

/* Parse one RELAY URL into hop.  0 on success, -1 with err set. */
int	relay_parse_url(const char *, struct relay_hop *, char *err,
	    size_t errlen);
/* Parse a GATEWAY-SPEC into list (hops allocated; relay_list_free). */
int	relay_parse_gateway(const char *, struct relay_list *, char *err,
	    size_t errlen);
/* Parse one HOP of a spec (len characters at s): HOST[:PORT][,opt]... */
int	relay_parse_hop(const char *, size_t, struct relay_hop *, char *err,
	    size_t errlen);
/*
 * Apply line options (xmail third field, "NeedTLS=1,OutBind=ADDR") to
 * every hop of list that does not say otherwise.  0, or -1 with err set.
 */
int	relay_apply_options(struct relay_list *, const char *options,
	    char *err, size_t errlen);
/* 1 if s is a GATEWAY-SPEC rather than a RELAY URL (',' ';' or '#'). */
int	relay_is_spec(const char *);
/* Append a hop to a list. */
void	relay_list_add(struct relay_list *, const struct relay_hop *);
void	relay_list_free(struct relay_list *);
const char *relay_tls_name(enum relay_tls);

/* 1 if s is an IPv4 or IPv6 (no brackets) address literal. */
int	relay_is_address(const char *);

#endif
