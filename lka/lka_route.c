/*
 * Relay routing in lka: answers IMSG_LKA_ROUTE from mta and `show route`
 * (through lka_route_build).  The pure plan (lka_route_plan.c) says which
 * hosts; this file resolves them (lka_dns.c: MX, A/AAAA), refuses hops
 * that are ourselves (5.4.6) and sends the hop list.  Tables are read
 * here, at delivery time, so an updated table reroutes queued mail.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <ifaddrs.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "lka.h"
#include "lka_dns.h"
#include "lka_route.h"
#include "log.h"
#include "proc.h"
#include "proto.h"
#include "json.h"

#define LOCAL_ADDR_MAX	64

struct route_target {
	struct route_hop	 tmpl;
	char			**addrs;
	size_t			 naddrs;
	enum dns_status		 status;
	char			 err[256];
};

struct route_req {
	lka_route_cb		 cb;
	void			*arg;
	struct route_plan	 plan;
	struct route_target	*t;
	size_t			 nt;
	size_t			 pending;
	int			 mx_fallback;	/* no MX: the domain itself */
};

struct target_ctx {
	struct route_req	*req;
	size_t			 idx;
};

static char	*local_addrs[LOCAL_ADDR_MAX];
static size_t	 nlocal;

void
lka_route_init(void)
{
	struct ifaddrs	*ifa, *i;
	char		 buf[NI_MAXHOST];
	socklen_t	 len;

	lka_dns_init();
	if (getifaddrs(&ifa) == -1) {
		log_warn("lka: getifaddrs");
		return;
	}
	for (i = ifa; i != NULL && nlocal < LOCAL_ADDR_MAX; i = i->ifa_next) {
		if (i->ifa_addr == NULL)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			len = sizeof(struct sockaddr_in);
		else if (i->ifa_addr->sa_family == AF_INET6)
			len = sizeof(struct sockaddr_in6);
		else
			continue;
		if (getnameinfo(i->ifa_addr, len, buf, sizeof(buf), NULL, 0,
		    NI_NUMERICHOST) != 0)
			continue;
		if ((local_addrs[nlocal] = strdup(buf)) != NULL)
			nlocal++;
	}
	freeifaddrs(ifa);
}

static void
req_free(struct route_req *req)
{
	size_t	 i, j;

	for (i = 0; i < req->nt; i++) {
		for (j = 0; j < req->t[i].naddrs; j++)
			free(req->t[i].addrs[j]);
		free(req->t[i].addrs);
	}
	free(req->t);
	lka_route_plan_free(&req->plan);
	free(req);
}

static void
req_fail(struct route_req *req, enum route_status st, const char *line)
{
	struct route_result	 res;

	memset(&res, 0, sizeof(res));
	res.status = st;
	strlcpy(res.errline, line, sizeof(res.errline));
	res.source = req->plan.source;
	strlcpy(res.what, req->plan.what, sizeof(res.what));
	req->cb(&res, req->arg);
	req_free(req);
}

static void
req_finish(struct route_req *req)
{
	struct route_result	 res;
	struct route_hop	*h;
	struct route_target	*t;
	size_t			 i, j;
	int			 temp = 0, self = 0;
	char			 line[ROUTE_ERR_MAX];
	const char		*lasterr = "no address";

	memset(&res, 0, sizeof(res));
	res.source = req->plan.source;
	res.random = req->plan.random;
	strlcpy(res.what, req->plan.what, sizeof(res.what));
	for (i = 0; i < req->nt && !self; i++) {
		t = &req->t[i];
		if (t->status == DNS_TEMPFAIL)
			temp = 1;
		if (t->status != DNS_OK) {
			lasterr = t->err;
			continue;
		}
		for (j = 0; j < t->naddrs; j++) {
			if (lka_route_is_self(env, local_addrs, nlocal,
			    t->addrs[j], t->tmpl.port)) {
				self = 1;
				break;
			}
			h = reallocarray(res.hops, res.nhops + 1,
			    sizeof(*h));
			if (h == NULL)
				fatal("req_finish");
			res.hops = h;
			h = &res.hops[res.nhops++];
			*h = t->tmpl;
			strlcpy(h->addr, t->addrs[j], sizeof(h->addr));
		}
	}
	/* An MX list stops at ourselves (we are that MX); any other list
	 * naming us is a loop. */
	if (self && (req->plan.source != ROUTE_FROM_MX || res.nhops == 0)) {
		free(res.hops);
		req_fail(req, ROUTE_LOOP,
		    "550 5.4.6 mail loops back to myself");
		return;
	}
	if (res.nhops == 0) {
		if (temp) {
			snprintf(line, sizeof(line), "451 4.4.3 %s", lasterr);
			req_fail(req, ROUTE_TEMPFAIL, line);
		} else if (req->mx_fallback) {
			snprintf(line, sizeof(line), "550 5.1.2 domain %s has "
			    "no MX and no address", req->plan.domain);
			req_fail(req, ROUTE_PERMFAIL, line);
		} else {
			snprintf(line, sizeof(line), "451 4.4.3 %s", lasterr);
			req_fail(req, ROUTE_TEMPFAIL, line);
		}
		return;
	}
	res.status = ROUTE_OK;
	req->cb(&res, req->arg);
	free(res.hops);
	req_free(req);
}

static void
on_host(enum dns_status st, char *const *addrs, size_t n, const char *err,
    void *arg)
{
	struct target_ctx	*ctx = arg;
	struct route_req	*req = ctx->req;
	struct route_target	*t = &req->t[ctx->idx];
	size_t			 i;

	free(ctx);
	t->status = st;
	strlcpy(t->err, err, sizeof(t->err));
	if (st == DNS_OK) {
		if ((t->addrs = calloc(n, sizeof(char *))) == NULL)
			fatal("on_host");
		for (i = 0; i < n; i++)
			if ((t->addrs[i] = strdup(addrs[i])) == NULL)
				fatal("on_host");
		t->naddrs = n;
	}
	if (--req->pending == 0)
		req_finish(req);
}

static void
resolve_targets(struct route_req *req, const struct route_hop *hops,
    size_t n)
{
	struct target_ctx	*ctx;
	size_t			 i;

	if ((req->t = calloc(n ? n : 1, sizeof(*req->t))) == NULL)
		fatal("resolve_targets");
	req->nt = n;
	req->pending = 1;	/* callbacks may run before we return */
	for (i = 0; i < n; i++) {
		req->t[i].tmpl = hops[i];
		if (hops[i].addr[0] != '\0') {
			if ((req->t[i].addrs = calloc(1, sizeof(char *))) ==
			    NULL || (req->t[i].addrs[0] = strdup(hops[i].addr))
			    == NULL)
				fatal("resolve_targets");
			req->t[i].naddrs = 1;
			req->t[i].status = DNS_OK;
			continue;
		}
		if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
			fatal("resolve_targets");
		ctx->req = req;
		ctx->idx = i;
		req->pending++;
		lka_dns_host(hops[i].host, on_host, ctx);
	}
	if (--req->pending == 0)
		req_finish(req);
}

static void
on_mx(enum dns_status st, const struct dns_mx *mx, size_t n,
    const char *err, void *arg)
{
	struct route_req	*req = arg;
	struct route_hop	*hops;
	char			 line[ROUTE_ERR_MAX];
	size_t			 i;

	switch (st) {
	case DNS_NXDOMAIN:
		snprintf(line, sizeof(line), "550 5.1.2 domain %s not found",
		    req->plan.domain);
		req_fail(req, ROUTE_PERMFAIL, line);
		return;
	case DNS_TEMPFAIL:
		snprintf(line, sizeof(line), "451 4.4.3 %s", err);
		req_fail(req, ROUTE_TEMPFAIL, line);
		return;
	case DNS_NODATA:
		/* RFC 5321 5.1: the domain itself is the implicit MX */
		req->mx_fallback = 1;
		strlcat(req->plan.what, " (no MX: address)",
		    sizeof(req->plan.what));
		resolve_targets(req, &req->plan.mx, 1);
		return;
	case DNS_OK:
		break;
	}
	if (lka_dns_mx_null(mx, n)) {
		snprintf(line, sizeof(line), "550 5.1.2 domain %s does not "
		    "accept mail (null MX)", req->plan.domain);
		req_fail(req, ROUTE_PERMFAIL, line);
		return;
	}
	if ((hops = calloc(n, sizeof(*hops))) == NULL)
		fatal("on_mx");
	for (i = 0; i < n; i++) {
		hops[i] = req->plan.mx;
		strlcpy(hops[i].host, mx[i].host, sizeof(hops[i].host));
		hops[i].addr[0] = '\0';
		if (relay_is_address(mx[i].host))
			strlcpy(hops[i].addr, mx[i].host,
			    sizeof(hops[i].addr));
	}
	resolve_targets(req, hops, n);
	free(hops);
}

void
lka_route_build(const char *action, const char *sender, const char *rcpt,
    lka_route_cb cb, void *arg)
{
	struct route_req	*req;
	struct action		*a;
	char			 line[ROUTE_ERR_MAX];
	enum route_status	 st;

	(void)sender;		/* routes do not depend on it (yet) */
	if ((req = calloc(1, sizeof(*req))) == NULL)
		fatal("lka_route_build");
	req->cb = cb;
	req->arg = arg;
	if ((a = config_action(env, action)) == NULL) {
		snprintf(line, sizeof(line), "451 4.3.5 unknown action %s",
		    action);
		req_fail(req, ROUTE_TEMPFAIL, line);
		return;
	}
	st = lka_route_plan(env, a, rcpt, &req->plan, line, sizeof(line));
	if (st != ROUTE_OK) {
		req_fail(req, st, line);
		return;
	}
	if (req->plan.source == ROUTE_FROM_MX)
		lka_dns_mx(req->plan.domain, on_mx, req);
	else
		resolve_targets(req, req->plan.targets, req->plan.ntargets);
}

/* --- mta requests --- */

static void
on_route_done(const struct route_result *res, void *arg)
{
	uint32_t	*peerid = arg;
	struct mbuild	*m;
	size_t		 i;

	m = proc_create(PROC_MTA, IMSG_LKA_ROUTE_RESULT, *peerid, -1);
	m_add_u32(m, res->status);
	m_add_str(m, res->status == ROUTE_OK ? "" : res->errline);
	m_add_u32(m, (uint32_t)res->nhops);
	for (i = 0; i < res->nhops; i++)
		route_hop_add(m, &res->hops[i]);
	m_add_u32(m, (uint32_t)res->random);
	m_close(m);
	if (res->status == ROUTE_OK)
		log_debug("lka: route id=%08x via %s hops=%zu", *peerid,
		    res->what, res->nhops);
	else
		log_debug("lka: route id=%08x failed: %s", *peerid,
		    res->errline);
	free(peerid);
}

void
lka_on_route(struct imsg *imsg)
{
	struct mreader	 r;
	const char	*action, *sender, *rcpt;
	uint32_t	*peerid;

	m_msg(&r, imsg);
	if (m_get_str(&r, &action) == -1 || m_get_str(&r, &sender) == -1 ||
	    m_get_str(&r, &rcpt) == -1 || m_end(&r) == -1)
		fatalx("lka: malformed IMSG_LKA_ROUTE");
	if ((peerid = malloc(sizeof(*peerid))) == NULL)
		fatal("lka_on_route");
	*peerid = imsg->peerid;
	lka_route_build(action, sender, rcpt, on_route_done, peerid);
}

/* --- show route --- */

static const char *
status_name(enum route_status st)
{
	switch (st) {
	case ROUTE_OK:
		return "ok";
	case ROUTE_TEMPFAIL:
		return "tempfail";
	case ROUTE_PERMFAIL:
		return "permfail";
	case ROUTE_LOOP:
		return "loop";
	}
	return "?";
}

void
lka_route_format(const struct route_result *res, int json, struct buf *out)
{
	const struct route_hop	*h;
	size_t			 i;

	if (json) {
		buf_addstr(out, "{\"status\":");
		json_str(out, status_name(res->status));
		buf_addstr(out, ",\"error\":");
		json_str(out, res->status == ROUTE_OK ? "" : res->errline);
		buf_addstr(out, ",\"source\":");
		json_str(out, res->what);
		buf_printf(out, ",\"random\":%s,\"hops\":[",
		    res->random ? "true" : "false");
		for (i = 0; i < res->nhops; i++) {
			h = &res->hops[i];
			buf_addstr(out, i ? ",{\"address\":" : "{\"address\":");
			json_str(out, h->addr);
			buf_addstr(out, ",\"host\":");
			json_str(out, h->host);
			buf_printf(out, ",\"port\":%u,\"tls\":", h->port);
			json_str(out, relay_tls_name(h->tls));
			buf_printf(out, ",\"verify\":%s,\"src\":",
			    h->no_verify ? "false" : "true");
			json_str(out, h->src);
			buf_addstr(out, ",\"label\":");
			json_str(out, h->label);
			buf_addstr(out, ",\"auth_user\":");
			json_str(out, h->auth_user);
			buf_addstr(out, ",\"helo\":");
			json_str(out, h->helo);
			buf_addc(out, '}');
		}
		buf_addstr(out, "]}\n");
		return;
	}
	buf_printf(out, "source: %s\n", res->what);
	if (res->status != ROUTE_OK) {
		buf_printf(out, "status: %s: %s\n", status_name(res->status),
		    res->errline);
		return;
	}
	buf_printf(out, "status: ok%s\n", res->random ?
	    " (random order per message)" : "");
	for (i = 0; i < res->nhops; i++) {
		h = &res->hops[i];
		buf_printf(out, "hop %zu: %s%s%s:%u host=%s tls=%s%s", i + 1,
		    strchr(h->addr, ':') ? "[" : "", h->addr,
		    strchr(h->addr, ':') ? "]" : "", h->port, h->host,
		    relay_tls_name(h->tls), h->no_verify ? " no-verify" : "");
		if (h->src[0])
			buf_printf(out, " src=%s", h->src);
		if (h->label[0])
			buf_printf(out, " label=%s", h->label);
		if (h->auth_user[0])
			buf_printf(out, " auth=%s", h->auth_user);
		buf_printf(out, " helo=%s\n", h->helo);
	}
}
