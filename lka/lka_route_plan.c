/*
 * The pure half of relay routing: from the configuration, an action and
 * a recipient, which hops to try and with what settings, before any DNS.
 * Order of sources (GRAMMAR.md): routes <T> by full address, exact
 * domain, first glob in file order; else the action's host list; else
 * MX.  An empty table value means "go on" to the next lookup.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lka_route.h"
#include "relay.h"
#include "table.h"

static const char *
route_helo(const struct smtpd_config *conf, const struct action *a)
{
	if (a->helo != NULL && a->helo[0] != '\0')
		return a->helo;
	if (conf->helo[0] != '\0')
		return conf->helo;
	if (conf->hostname[0] != '\0')
		return conf->hostname;
	return "localhost";
}

int
lka_route_credentials(const struct table *t, const char *label,
    const char *host, char *user, size_t userlen, char *pass,
    size_t passlen)
{
	const struct table_entry *e = NULL;
	const char	*p, *colon;

	if (t == NULL)
		return 0;
	if (label != NULL && label[0] != '\0')
		e = table_lookup(t, label);
	if ((e == NULL || e->value == NULL) && host != NULL) {
		e = table_lookup(t, host);
		/* parent domains of a name, never of an address */
		for (p = host; (e == NULL || e->value == NULL) &&
		    !relay_is_address(host) && (p = strchr(p, '.')) != NULL;) {
			p++;
			if (strchr(p, '.') == NULL)
				break;	/* not down to the TLD */
			e = table_lookup(t, p);
		}
	}
	if (e == NULL || e->value == NULL ||
	    (colon = strchr(e->value, ':')) == NULL)
		return 0;
	if ((size_t)(colon - e->value) >= userlen ||
	    strlcpy(pass, colon + 1, passlen) >= passlen)
		return 0;
	memcpy(user, e->value, (size_t)(colon - e->value));
	user[colon - e->value] = '\0';
	return 1;
}

/* xmail third field: "NeedTLS=1,OutBind=1.2.3.4"; fills unset fields. */
static void
xmail_options(const char *opts, enum relay_tls *tls, char *src,
    size_t srclen)
{
	char	 buf[512], *p, *tok, *eq;

	if (opts == NULL || strlcpy(buf, opts, sizeof(buf)) >= sizeof(buf))
		return;
	for (p = buf; (tok = strsep(&p, ",; \t")) != NULL;) {
		if ((eq = strchr(tok, '=')) == NULL)
			continue;
		*eq++ = '\0';
		if (strcasecmp(tok, "NeedTLS") == 0 &&
		    *tls == RELAY_TLS_DEFAULT) {
			if (strcmp(eq, "0") == 0)
				*tls = RELAY_TLS_NO;
			else if (strcmp(eq, "1") == 0)
				*tls = RELAY_TLS_OPPORTUNISTIC;
			else if (strcmp(eq, "2") == 0)
				*tls = RELAY_TLS_REQUIRE;
		} else if (strcasecmp(tok, "OutBind") == 0 && src[0] == '\0' &&
		    relay_is_address(eq))
			strlcpy(src, eq, srclen);
	}
}

void
lka_route_hop_defaults(const struct smtpd_config *conf,
    const struct action *a, const struct relay_hop *in, const char *xopts,
    struct route_hop *out)
{
	enum relay_tls	 tls = in->tls;
	char		 src[RELAY_ADDR_MAX + 1];

	memset(out, 0, sizeof(*out));
	strlcpy(src, in->src, sizeof(src));
	xmail_options(xopts, &tls, src, sizeof(src));
	if (tls == RELAY_TLS_DEFAULT)
		tls = a->tls;
	if (tls == RELAY_TLS_DEFAULT)
		tls = RELAY_TLS_OPPORTUNISTIC;
	out->tls = tls;
	strlcpy(out->host, in->host, sizeof(out->host));
	if (relay_is_address(in->host))
		strlcpy(out->addr, in->host, sizeof(out->addr));
	strlcpy(out->label, in->label, sizeof(out->label));
	out->port = in->port ? in->port : a->port ? a->port :
	    (tls == RELAY_TLS_SMTPS ? 465 : 25);
	strlcpy(out->src, src[0] ? src : a->src, sizeof(out->src));
	out->no_verify = a->no_verify;
	strlcpy(out->helo, route_helo(conf, a), sizeof(out->helo));
	if (a->ca_file != NULL)
		strlcpy(out->ca_file, a->ca_file, sizeof(out->ca_file));
	if (!lka_route_credentials(a->auth, in->label, in->host,
	    out->auth_user, sizeof(out->auth_user), out->auth_pass,
	    sizeof(out->auth_pass)))
		out->auth_user[0] = out->auth_pass[0] = '\0';
}

/* The routes table entry for rcpt/domain, skipping empty values. */
static const struct table_entry *
routes_lookup(const struct table *t, const char *rcpt, const char *domain,
    const char **how)
{
	const struct table_entry *e;
	size_t	 i;

	if ((e = table_lookup(t, rcpt)) != NULL && e->value != NULL &&
	    e->value[0] != '\0') {
		*how = "address";
		return e;
	}
	if ((e = table_lookup(t, domain)) != NULL && e->value != NULL &&
	    e->value[0] != '\0') {
		*how = "domain";
		return e;
	}
	/* first glob in file order, among non-empty entries */
	for (i = 0; i < t->nentries; i++) {
		e = &t->entries[i];
		if (e->value == NULL || e->value[0] == '\0' ||
		    strchr(e->key, '@') != NULL)
			continue;
		if (strpbrk(e->key, "*?") == NULL)
			continue;
		if (glob_match(e->key, domain)) {
			*how = "pattern";
			return e;
		}
	}
	return NULL;
}

static void
plan_add(struct route_plan *p, const struct route_hop *h)
{
	struct route_hop *n;

	n = reallocarray(p->targets, p->ntargets + 1, sizeof(*n));
	if (n == NULL)
		abort();
	p->targets = n;
	p->targets[p->ntargets++] = *h;
}

/* Domain of rcpt, address literals unwrapped ("[1.2.3.4]"). */
static int
rcpt_domain(const char *rcpt, char *dom, size_t len, int *literal)
{
	const char	*at;
	size_t		 n;

	*literal = 0;
	if ((at = strrchr(rcpt, '@')) == NULL || at[1] == '\0')
		return -1;
	at++;
	if (*at == '[') {
		n = strlen(at);
		if (n < 3 || at[n - 1] != ']')
			return -1;
		at++;
		n -= 2;
		if (strncasecmp(at, "IPv6:", 5) == 0) {
			at += 5;
			n -= 5;
		}
		if (n >= len)
			return -1;
		memcpy(dom, at, n);
		dom[n] = '\0';
		if (!relay_is_address(dom))
			return -1;
		*literal = 1;
		return 0;
	}
	if (strlcpy(dom, at, len) >= len)
		return -1;
	n = strlen(dom);
	if (n > 0 && dom[n - 1] == '.')
		dom[n - 1] = '\0';
	return dom[0] ? 0 : -1;
}

enum route_status
lka_route_plan(const struct smtpd_config *conf, const struct action *a,
    const char *rcpt, struct route_plan *p, char *errline, size_t errlen)
{
	const struct table_entry *e = NULL;
	struct relay_list	 list;
	struct relay_hop	 rh;
	struct route_hop	 h;
	const char		*how = "";
	char			 err[256];
	size_t			 i;
	int			 literal;

	memset(p, 0, sizeof(*p));
	if (a == NULL || a->method != A_RELAY) {
		snprintf(errline, errlen, "550 5.3.5 not a relay action");
		return ROUTE_PERMFAIL;
	}
	if (rcpt_domain(rcpt, p->domain, sizeof(p->domain), &literal) == -1) {
		snprintf(errline, errlen, "550 5.1.3 bad recipient address");
		return ROUTE_PERMFAIL;
	}
	if (a->routes != NULL)
		e = routes_lookup(a->routes, rcpt, p->domain, &how);
	if (e != NULL) {
		memset(&list, 0, sizeof(list));
		if (relay_parse_gateway(e->value, &list, err, sizeof(err))
		    == -1) {
			snprintf(errline, errlen, "451 4.3.5 bad route in "
			    "table %s for %s: %s", a->routes->name, e->key,
			    err);
			return ROUTE_TEMPFAIL;
		}
		p->source = ROUTE_FROM_TABLE;
		snprintf(p->what, sizeof(p->what), "table %s %s \"%s\"",
		    a->routes->name, how, e->key);
		p->random = list.random;
		for (i = 0; i < list.nhops; i++) {
			lka_route_hop_defaults(conf, a, &list.hops[i],
			    e->options, &h);
			plan_add(p, &h);
		}
		relay_list_free(&list);
		if (p->ntargets > 0)
			return ROUTE_OK;
	}
	if (a->hosts.nhops > 0) {
		p->source = ROUTE_FROM_HOST;
		snprintf(p->what, sizeof(p->what), "action \"%s\" host",
		    a->name);
		p->random = a->random || a->hosts.random;
		for (i = 0; i < a->hosts.nhops; i++) {
			lka_route_hop_defaults(conf, a, &a->hosts.hops[i],
			    NULL, &h);
			plan_add(p, &h);
		}
		return ROUTE_OK;
	}
	memset(&rh, 0, sizeof(rh));
	strlcpy(rh.host, p->domain, sizeof(rh.host));
	lka_route_hop_defaults(conf, a, &rh, NULL, &p->mx);
	if (literal) {
		p->source = ROUTE_FROM_HOST;
		snprintf(p->what, sizeof(p->what), "address literal %s",
		    p->domain);
		plan_add(p, &p->mx);
		return ROUTE_OK;
	}
	p->source = ROUTE_FROM_MX;
	snprintf(p->what, sizeof(p->what), "MX %s", p->domain);
	return ROUTE_OK;
}

void
lka_route_plan_free(struct route_plan *p)
{
	free(p->targets);
	p->targets = NULL;
	p->ntargets = 0;
}

/* Numeric form of a sockaddr, "" on failure. */
static void
ss_addr(const struct sockaddr_storage *ss, socklen_t len, char *buf,
    size_t buflen)
{
	if (getnameinfo((const struct sockaddr *)ss, len, buf,
	    (socklen_t)buflen, NULL, 0, NI_NUMERICHOST) != 0)
		buf[0] = '\0';
}

/* Same address, textual forms compared after normalization. */
static int
addr_eq(const char *a, const char *b)
{
	unsigned char	 x[16], y[16];

	if (inet_pton(AF_INET, a, x) == 1 && inet_pton(AF_INET, b, y) == 1)
		return memcmp(x, y, 4) == 0;
	if (inet_pton(AF_INET6, a, x) == 1 && inet_pton(AF_INET6, b, y) == 1)
		return memcmp(x, y, 16) == 0;
	return 0;
}

int
lka_route_is_self(const struct smtpd_config *conf, char *const *local,
    size_t nlocal, const char *addr, unsigned port)
{
	const struct listener	*l;
	char			 la[RELAY_ADDR_MAX + 1];
	size_t			 i;

	TAILQ_FOREACH(l, &conf->listeners, entry) {
		if (l->port != port)
			continue;
		ss_addr(&l->ss, l->sslen, la, sizeof(la));
		if (addr_eq(la, addr))
			return 1;
		if (strcmp(la, "0.0.0.0") != 0 && strcmp(la, "::") != 0)
			continue;
		/* a wildcard listener is every local address */
		if (strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0)
			return 1;
		for (i = 0; i < nlocal; i++)
			if (addr_eq(local[i], addr))
				return 1;
	}
	return 0;
}
