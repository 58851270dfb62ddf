/*
 * Relay routing in lka: the hop list of an envelope of a relay action
 * (GRAMMAR.md "Relay routing").  The plan (lka_route_plan.c) is pure:
 * routes table (address, domain, first glob), else the action's hosts,
 * else MX; hop defaults, credentials, HELO.  lka_route.c resolves it
 * (lka_dns.c), drops/refuses hops that are ourselves, and answers.
 * The control process's `show route` uses lka_route_build/format.
 */
#ifndef LKA_ROUTE_H
#define LKA_ROUTE_H

#include <stddef.h>

#include "buf.h"
#include "config.h"
#include "proto.h"
#include "route.h"

#define ROUTE_ERR_MAX	512

enum route_source {
	ROUTE_FROM_TABLE,	/* routes <T> */
	ROUTE_FROM_HOST,	/* the action's host list */
	ROUTE_FROM_MX		/* MX of the recipient domain */
};

struct route_result {
	enum route_status	 status;
	char			 errline[ROUTE_ERR_MAX];	/* if not OK */
	struct route_hop	*hops;
	size_t			 nhops;
	int			 random;
	enum route_source	 source;
	char			 what[600];	/* where the hops came from */
};

typedef void	(*lka_route_cb)(const struct route_result *, void *arg);

/*
 * Build the route of one recipient of action (by name) and call cb once
 * with the result, possibly before returning.  The result is valid
 * during the call only.
 */
void	lka_route_build(const char *action, const char *sender,
	    const char *rcpt, lka_route_cb, void *arg);
/* Human text ("hop 1: ...\n") or one JSON object, appended to out. */
void	lka_route_format(const struct route_result *, int json,
	    struct buf *out);

/* --- pure planning (lka_route_plan.c) --- */

struct route_plan {
	enum route_source	 source;
	char			 what[600];
	struct route_hop	*targets;	/* addr "" : resolve host */
	size_t			 ntargets;
	int			 random;
	char			 domain[RELAY_HOST_MAX + 1];	/* for MX */
	struct route_hop	 mx;		/* template of MX hops */
};

/* ROUTE_OK and a plan, or a failure status with errline set. */
enum route_status lka_route_plan(const struct smtpd_config *,
	    const struct action *, const char *rcpt, struct route_plan *,
	    char *errline, size_t errlen);
void	lka_route_plan_free(struct route_plan *);
/* Fill out from a hop of a list, the xmail options of its line (NULL
 * for none) and the action's defaults. */
void	lka_route_hop_defaults(const struct smtpd_config *,
	    const struct action *, const struct relay_hop *,
	    const char *xopts, struct route_hop *out);
/* Credentials for a hop by label, host, parent domains: 1 if found. */
int	lka_route_credentials(const struct table *, const char *label,
	    const char *host, char *user, size_t userlen, char *pass,
	    size_t passlen);
/* 1 if addr:port is one of our listeners; local holds our interface
 * addresses (for wildcard listeners). */
int	lka_route_is_self(const struct smtpd_config *, char *const *local,
	    size_t nlocal, const char *addr, unsigned port);

#endif
