/*
 * Policy answers for smtp: the connect check (ban table, DNSBL), the
 * match rules for each RCPT (first match wins, each criterion may be
 * negated), AUTH against a passwd table of crypt(3) hashes, and VRFY.
 * Expansion of local recipients lives in lka_expand.c.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <crypt.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "lka.h"
#include "lka_policy.h"
#include "log.h"
#include "proc.h"
#include "proto.h"

#define LKA_LOCAL_ADDRS	64

static char	 local_addrs[LKA_LOCAL_ADDRS][INET6_ADDRSTRLEN];
static size_t	 nlocal_addrs;

static void
add_local_addr(const struct sockaddr *sa)
{
	char	 host[NI_MAXHOST];
	size_t	 i;

	if (sa == NULL || (sa->sa_family != AF_INET &&
	    sa->sa_family != AF_INET6))
		return;
	if (getnameinfo(sa, sa->sa_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6),
	    host, sizeof(host), NULL, 0, NI_NUMERICHOST) != 0)
		return;
	if (strchr(host, '%') != NULL)		/* scoped: not literal-able */
		return;
	for (i = 0; i < nlocal_addrs; i++)
		if (strcmp(local_addrs[i], host) == 0)
			return;
	if (nlocal_addrs < LKA_LOCAL_ADDRS)
		strlcpy(local_addrs[nlocal_addrs++], host,
		    sizeof(local_addrs[0]));
}

void
lka_policy_init(void)
{
	struct ifaddrs	*ifa, *i;
	struct listener	*l;

	TAILQ_FOREACH(l, &env->listeners, entry)
		add_local_addr((struct sockaddr *)&l->ss);
	if (getifaddrs(&ifa) == 0) {
		for (i = ifa; i; i = i->ifa_next)
			add_local_addr(i->ifa_addr);
		freeifaddrs(ifa);
	}
	lka_dnsbl_init();
}

/* After a reload: the addresses of new listeners are ours too. */
void
lka_policy_reload(void)
{
	struct listener	*l;

	TAILQ_FOREACH(l, &env->listeners, entry)
		add_local_addr((struct sockaddr *)&l->ss);
	lka_dnsbl_reload();
}

/* "[192.0.2.1]" / "[IPv6:::1]" is one of our addresses. */
static int
is_our_literal(const char *domain)
{
	char		 tmp[INET6_ADDRSTRLEN + 8], norm[INET6_ADDRSTRLEN];
	unsigned char	 bin[16];
	const char	*p;
	size_t		 n, i;
	int		 af;

	n = strlen(domain);
	if (n < 3 || domain[0] != '[' || domain[n - 1] != ']' ||
	    n - 2 >= sizeof(tmp))
		return 0;
	memcpy(tmp, domain + 1, n - 2);
	tmp[n - 2] = '\0';
	p = tmp;
	af = AF_INET;
	if (strncasecmp(p, "IPv6:", 5) == 0) {
		p += 5;
		af = AF_INET6;
	}
	if (inet_pton(af, p, bin) != 1 ||
	    inet_ntop(af, bin, norm, sizeof(norm)) == NULL)
		return 0;
	for (i = 0; i < nlocal_addrs; i++)
		if (strcmp(local_addrs[i], norm) == 0)
			return 1;
	return 0;
}

int
lka_is_local_domain(const char *domain)
{
	struct listener	*l;

	if (strcasecmp(domain, "localhost") == 0 ||
	    strcasecmp(domain, "localhost.localdomain") == 0 ||
	    (env->hostname[0] && strcasecmp(domain, env->hostname) == 0))
		return 1;
	TAILQ_FOREACH(l, &env->listeners, entry)
		if (l->hostname[0] && strcasecmp(domain, l->hostname) == 0)
			return 1;
	return is_our_literal(domain);
}

int
lka_table_has_address(const struct table *t, const char *addr)
{
	const char	*at;

	if (t == NULL)
		return 0;
	if (table_has(t, addr))
		return 1;
	if ((at = strrchr(addr, '@')) != NULL && table_has(t, at))
		return 1;				/* "@domain" */
	return table_match_glob(t, addr) != NULL;
}

static int
match_from(const struct rule *r, const struct lka_ctx *c)
{
	int	 v = 0;

	if (!r->from_set)
		return c->is_local;
	switch (r->from) {
	case FROM_LOCAL:
		v = c->is_local;
		break;
	case FROM_ANY:
		v = 1;
		break;
	case FROM_AUTH:
		v = c->auth_user[0] != '\0' && (r->from_table == NULL ||
		    table_has(r->from_table, c->auth_user));
		break;
	case FROM_SRC:
		v = strcmp(c->addr, "local") != 0 && r->from_table &&
		    table_match_addr(r->from_table, c->addr);
		break;
	case FROM_MAIL_FROM:
		v = lka_table_has_address(r->from_table, c->sender);
		break;
	}
	return r->from_neg ? !v : v;
}

static int
match_for(const struct rule *r, const char *rcpt)
{
	const char	*at = strrchr(rcpt, '@');
	const char	*domain = at ? at + 1 : "";
	int		 v = 0;

	if (!r->for_set)
		return lka_is_local_domain(domain);
	switch (r->rfor) {
	case FOR_LOCAL:
		v = lka_is_local_domain(domain);
		break;
	case FOR_ANY:
		v = 1;
		break;
	case FOR_DOMAIN:
		v = r->for_table && (table_has(r->for_table, domain) ||
		    table_match_glob(r->for_table, domain) != NULL);
		break;
	case FOR_RCPT_TO:
		v = lka_table_has_address(r->for_table, rcpt);
		break;
	}
	return r->for_neg ? !v : v;
}

const struct rule *
lka_rule_match(const struct lka_ctx *c, const char *rcpt)
{
	const struct rule	*r;
	int			 v;

	TAILQ_FOREACH(r, &env->rules, entry) {
		if (!match_from(r, c) || !match_for(r, rcpt))
			continue;
		if (r->tag_set) {
			v = strcmp(c->tag, r->tag) == 0;
			if (r->tag_neg ? v : !v)
				continue;
		}
		return r;
	}
	return NULL;
}

/* --- connect --- */

static void
connect_reply(uint32_t peerid, int ok, const char *reply)
{
	struct mbuild	*m;

	m = proc_create(PROC_SMTP, IMSG_LKA_CONNECT_RESULT, peerid, -1);
	m_add_u32(m, ok ? 1 : 0);
	m_add_str(m, ok ? "" : reply);
	m_close(m);
}

static void
connect_on_dnsbl(uint32_t peerid, const char *zone)
{
	char	 line[512];

	if (zone == NULL) {
		connect_reply(peerid, 1, NULL);
		return;
	}
	snprintf(line, sizeof(line), "554 5.7.1 Client address listed by %s",
	    zone);
	connect_reply(peerid, 0, line);
}

void
lka_on_connect(struct imsg *imsg)
{
	struct mreader	 r;
	uint32_t	 lindex, port, is_local;
	const char	*addr;
	char		 line[512];

	m_msg(&r, imsg);
	if (m_get_u32(&r, &lindex) == -1 || m_get_str(&r, &addr) == -1 ||
	    m_get_u32(&r, &port) == -1 || m_get_u32(&r, &is_local) == -1 ||
	    m_end(&r) == -1)
		fatalx("lka: bad IMSG_LKA_CONNECT");
	if (strcmp(addr, "local") == 0) {
		connect_reply(imsg->peerid, 1, NULL);
		return;
	}
	if (env->ban && table_match_addr(env->ban, addr)) {
		log_info("lka event=banned address=%s", addr);
		snprintf(line, sizeof(line), "554 5.7.1 %s",
		    env->ban_message ? env->ban_message : "Access denied");
		connect_reply(imsg->peerid, 0, line);
		return;
	}
	if (env->ndnsbl > 0) {
		lka_dnsbl_check(imsg->peerid, addr, connect_on_dnsbl);
		return;
	}
	connect_reply(imsg->peerid, 1, NULL);
}

/* --- RCPT --- */

/*
 * From smtp for a client's RCPT, and from the queue for the recipient of
 * a bounce (a local session with sender <>): the same rules, the answer
 * to whichever asked.
 */
void
lka_on_rcpt(enum proc_id from, struct imsg *imsg)
{
	struct mreader		 r;
	struct mbuild		*m;
	struct lka_ctx		 c;
	struct lka_expansion	 ex;
	const char		*rcpt;
	uint32_t		 is_local;
	size_t			 i;
	char			 e1[600], e2[600], e3[300];

	m_msg(&r, imsg);
	if (m_get_u32(&r, &c.lindex) == -1 || m_get_str(&r, &c.addr) == -1 ||
	    m_get_u32(&r, &is_local) == -1 ||
	    m_get_str(&r, &c.auth_user) == -1 ||
	    m_get_str(&r, &c.sender) == -1 || m_get_str(&r, &rcpt) == -1 ||
	    m_get_str(&r, &c.tag) == -1 || m_end(&r) == -1)
		fatalx("lka: bad IMSG_LKA_RCPT");
	c.is_local = is_local != 0;
	memset(&ex, 0, sizeof(ex));
	m = proc_create(from, IMSG_LKA_RCPT_RESULT, imsg->peerid, -1);
	log_escape(e1, sizeof(e1), rcpt, strlen(rcpt));
	if (lka_expand(&c, rcpt, &ex) == -1) {
		log_info("lka event=rcpt-refused asker=%s address=%s from=<%s> "
		    "to=<%s> reply=\"%s\"", proc_name(from), c.addr,
		    log_escape(e2, sizeof(e2), c.sender, strlen(c.sender)), e1,
		    log_escape(e3, sizeof(e3), ex.error, strlen(ex.error)));
		m_add_u32(m, 0);
		m_add_str(m, ex.error);
		m_add_u32(m, 0);
	} else {
		m_add_u32(m, 1);
		m_add_str(m, "");
		m_add_u32(m, (uint32_t)ex.n);
		for (i = 0; i < ex.n; i++) {
			m_add_str(m, ex.v[i].action);
			m_add_str(m, ex.v[i].rcpt);
			m_add_str(m, ex.v[i].user);
			log_debug("lka event=rcpt to=<%s> action=%s rcpt=%s "
			    "user=%s", e1, ex.v[i].action,
			    log_escape(e2, sizeof(e2), ex.v[i].rcpt,
			    strlen(ex.v[i].rcpt)), log_escape(e3, sizeof(e3),
			    ex.v[i].user, strlen(ex.v[i].user)));
		}
	}
	m_close(m);
	lka_expansion_free(&ex);
}

/* --- AUTH --- */

static int
ct_equal(const char *a, const char *b, size_t n)
{
	unsigned char	 d = 0;
	size_t		 i;

	for (i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

void
lka_on_auth(struct imsg *imsg)
{
	struct mreader			 r;
	struct mbuild			*m;
	const char			*tname, *user, *pass, *h;
	const struct table		*t;
	const struct table_entry	*e;
	uint32_t			 res = 0;
	char				 esc[128];

	m_msg(&r, imsg);
	if (m_get_str(&r, &tname) == -1 || m_get_str(&r, &user) == -1 ||
	    m_get_str(&r, &pass) == -1 || m_end(&r) == -1)
		fatalx("lka: bad IMSG_LKA_AUTH");
	if ((t = config_table(env, tname)) == NULL)
		res = 2;
	else if ((e = table_lookup(t, user)) == NULL || e->value == NULL) {
		/* same work for unknown users */
		(void)crypt(pass, "$6$saltsaltsaltsalt$");
	} else if ((h = crypt(pass, e->value)) != NULL &&
	    strlen(h) == strlen(e->value) &&
	    ct_equal(h, e->value, strlen(h)))
		res = 1;
	log_info("lka event=auth table=%s user=\"%s\" result=%s", tname,
	    log_escape(esc, sizeof(esc), user, strlen(user)),
	    res == 1 ? "ok" : res == 2 ? "tempfail" : "failed");
	m = proc_create(PROC_SMTP, IMSG_LKA_AUTH_RESULT, imsg->peerid, -1);
	m_add_u32(m, res);
	m_close(m);
}

/* --- VRFY --- */

void
lka_on_vrfy(struct imsg *imsg)
{
	struct mreader	 r;
	struct mbuild	*m;
	const char	*addr, *at;
	char		 user[256], line[640];
	size_t		 n;

	m_msg(&r, imsg);
	if (m_get_str(&r, &addr) == -1 || m_end(&r) == -1)
		fatalx("lka: bad IMSG_LKA_VRFY");
	at = strrchr(addr, '@');
	n = at ? (size_t)(at - addr) : strlen(addr);
	if (n == 0 || n >= sizeof(user) || (at &&
	    !lka_is_local_domain(at + 1)))
		snprintf(line, sizeof(line), "252 2.5.0 Cannot VRFY user");
	else {
		memcpy(user, addr, n);
		user[n] = '\0';
		if (lka_user_exists(user))
			snprintf(line, sizeof(line), "250 2.1.5 <%s>", user);
		else
			snprintf(line, sizeof(line), "550 5.1.1 <%.200s>: "
			    "User unknown", user);
	}
	m = proc_create(PROC_SMTP, IMSG_LKA_VRFY_RESULT, imsg->peerid, -1);
	m_add_str(m, line);
	m_close(m);
}
