/*
 * Unit tests of relay route planning (lka/lka_route_plan.c) and DNS
 * answer handling (lka/lka_dns.c): the seed's routes table semantics,
 * hop defaults, credentials, loop detection, MX ordering.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ares.h>
#include <atf-c.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "lka/lka_dns.h"
#include "lka/lka_route.h"
#include "relay.h"
#include "table.h"

static struct smtpd_config	 conf;
static struct action		 act;

static void
setup(void)
{
	memset(&conf, 0, sizeof(conf));
	TAILQ_INIT(&conf.listeners);
	strlcpy(conf.hostname, "mx.example.org", sizeof(conf.hostname));
	memset(&act, 0, sizeof(act));
	strlcpy(act.name, "relay", sizeof(act.name));
	act.method = A_RELAY;
}

static struct table *
routes(void)
{
	struct table	*t = table_new("routes", TABLE_INLINE, NULL);

	table_add(t, "support@mail.com.cn", "192.168.1.100:8025;192.168.1.101",
	    NULL, 1);
	table_add(t, "domain1.com", "smtp.domain.com", NULL, 2);
	table_add(t, "domain2.com", "#192.168.1.100;192.168.1.101;192.168.2.10",
	    NULL, 3);
	table_add(t, "*.domain2.com", "192.168.1.100", NULL, 4);
	table_add(t, "mail?.domain3.com",
	    "192.168.1.100,NeedTLS=2,OutBind=192.168.10.1", NULL, 5);
	table_add(t, "empty.com", "", NULL, 6);
	table_add(t, "*.*", "mx.domain.com", NULL, 7);
	return t;
}

static enum route_status
plan(const char *rcpt, struct route_plan *p)
{
	char	 err[512];

	return lka_route_plan(&conf, &act, rcpt, p, err, sizeof(err));
}

ATF_TC_WITHOUT_HEAD(routes_table);
ATF_TC_BODY(routes_table, tc)
{
	struct route_plan p;

	setup();
	act.routes = routes();

	/* per-user relay: only that address */
	ATF_REQUIRE_EQ(plan("support@mail.com.cn", &p), ROUTE_OK);
	ATF_CHECK_EQ(p.source, ROUTE_FROM_TABLE);
	ATF_REQUIRE_EQ(p.ntargets, 2);
	ATF_CHECK_STREQ(p.targets[0].addr, "192.168.1.100");
	ATF_CHECK_EQ(p.targets[0].port, 8025);
	ATF_CHECK_EQ(p.targets[1].port, 25);
	ATF_CHECK_EQ(p.random, 0);
	lka_route_plan_free(&p);

	/* another user of that domain: *.* */
	ATF_REQUIRE_EQ(plan("other@mail.com.cn", &p), ROUTE_OK);
	ATF_REQUIRE_EQ(p.ntargets, 1);
	ATF_CHECK_STREQ(p.targets[0].host, "mx.domain.com");
	ATF_CHECK_STREQ(p.targets[0].addr, "");
	lka_route_plan_free(&p);

	/* exact domain, host name to resolve */
	ATF_REQUIRE_EQ(plan("a@DOMAIN1.com", &p), ROUTE_OK);
	ATF_REQUIRE_EQ(p.ntargets, 1);
	ATF_CHECK_STREQ(p.targets[0].host, "smtp.domain.com");
	lka_route_plan_free(&p);

	/* random list; exact domain wins over *.domain2.com */
	ATF_REQUIRE_EQ(plan("a@domain2.com", &p), ROUTE_OK);
	ATF_CHECK_EQ(p.random, 1);
	ATF_CHECK_EQ(p.ntargets, 3);
	lka_route_plan_free(&p);

	/* *.domain2.com matches subdomains */
	ATF_REQUIRE_EQ(plan("a@x.y.domain2.com", &p), ROUTE_OK);
	ATF_REQUIRE_EQ(p.ntargets, 1);
	ATF_CHECK_STREQ(p.targets[0].addr, "192.168.1.100");
	lka_route_plan_free(&p);

	/* NeedTLS=2, OutBind */
	ATF_REQUIRE_EQ(plan("a@mail1.domain3.com", &p), ROUTE_OK);
	ATF_REQUIRE_EQ(p.ntargets, 1);
	ATF_CHECK_EQ(p.targets[0].tls, RELAY_TLS_REQUIRE);
	ATF_CHECK_STREQ(p.targets[0].src, "192.168.10.1");
	lka_route_plan_free(&p);
	/* mail?.domain3.com: ? is one character only */
	ATF_REQUIRE_EQ(plan("a@mail12.domain3.com", &p), ROUTE_OK);
	ATF_CHECK_STREQ(p.targets[0].host, "mx.domain.com");
	lka_route_plan_free(&p);

	/* empty value: go on (to *.*) */
	ATF_REQUIRE_EQ(plan("a@empty.com", &p), ROUTE_OK);
	ATF_CHECK_STREQ(p.targets[0].host, "mx.domain.com");
	lka_route_plan_free(&p);

	/* no dot: *.* does not match, no host list: MX */
	ATF_REQUIRE_EQ(plan("a@localhost", &p), ROUTE_OK);
	ATF_CHECK_EQ(p.source, ROUTE_FROM_MX);
	ATF_CHECK_STREQ(p.domain, "localhost");
	lka_route_plan_free(&p);
}

ATF_TC_WITHOUT_HEAD(glob_domain2);
ATF_TC_BODY(glob_domain2, tc)
{
	struct route_plan p;
	struct table	*t;

	setup();
	t = table_new("r", TABLE_INLINE, NULL);
	table_add(t, "*.domain2.com", "192.168.1.100", NULL, 1);
	act.routes = t;
	/* *.domain2.com does not match domain2.com: MX */
	ATF_REQUIRE_EQ(plan("a@domain2.com", &p), ROUTE_OK);
	ATF_CHECK_EQ(p.source, ROUTE_FROM_MX);
	lka_route_plan_free(&p);
	ATF_REQUIRE_EQ(plan("a@b.domain2.com", &p), ROUTE_OK);
	ATF_CHECK_EQ(p.source, ROUTE_FROM_TABLE);
	lka_route_plan_free(&p);
}

ATF_TC_WITHOUT_HEAD(first_glob_wins);
ATF_TC_BODY(first_glob_wins, tc)
{
	struct route_plan p;
	struct table	*t;

	setup();
	t = table_new("r", TABLE_INLINE, NULL);
	table_add(t, "*.*", "10.0.0.1", NULL, 1);
	table_add(t, "*.domain2.com", "10.0.0.2", NULL, 2);
	act.routes = t;
	ATF_REQUIRE_EQ(plan("a@b.domain2.com", &p), ROUTE_OK);
	ATF_CHECK_STREQ(p.targets[0].addr, "10.0.0.1");
	lka_route_plan_free(&p);
}

ATF_TC_WITHOUT_HEAD(host_defaults);
ATF_TC_BODY(host_defaults, tc)
{
	struct route_plan p;
	char	 err[256];

	setup();
	act.tls = RELAY_TLS_REQUIRE;
	act.port = 2525;
	strlcpy(act.src, "127.0.0.2", sizeof(act.src));
	act.helo = strdup("out.example.org");
	act.no_verify = 1;
	ATF_REQUIRE_EQ(relay_parse_gateway(
	    "127.0.0.5;127.0.0.6:26,NeedTLS=0,OutBind=127.0.0.3", &act.hosts,
	    err, sizeof(err)), 0);
	ATF_REQUIRE_EQ(plan("x@anything.org", &p), ROUTE_OK);
	ATF_CHECK_EQ(p.source, ROUTE_FROM_HOST);
	ATF_REQUIRE_EQ(p.ntargets, 2);
	ATF_CHECK_EQ(p.targets[0].port, 2525);
	ATF_CHECK_EQ(p.targets[0].tls, RELAY_TLS_REQUIRE);
	ATF_CHECK_EQ(p.targets[0].no_verify, 1);
	ATF_CHECK_STREQ(p.targets[0].src, "127.0.0.2");
	ATF_CHECK_STREQ(p.targets[0].helo, "out.example.org");
	ATF_CHECK_EQ(p.targets[1].port, 26);
	ATF_CHECK_EQ(p.targets[1].tls, RELAY_TLS_NO);
	ATF_CHECK_STREQ(p.targets[1].src, "127.0.0.3");
	lka_route_plan_free(&p);

	/* helo falls back to the global helo, then hostname */
	free(act.helo);
	act.helo = NULL;
	ATF_REQUIRE_EQ(plan("x@anything.org", &p), ROUTE_OK);
	ATF_CHECK_STREQ(p.targets[0].helo, "mx.example.org");
	lka_route_plan_free(&p);
	strlcpy(conf.helo, "helo.example.org", sizeof(conf.helo));
	ATF_REQUIRE_EQ(plan("x@anything.org", &p), ROUTE_OK);
	ATF_CHECK_STREQ(p.targets[0].helo, "helo.example.org");
	lka_route_plan_free(&p);
}

ATF_TC_WITHOUT_HEAD(xmail_options);
ATF_TC_BODY(xmail_options, tc)
{
	struct route_plan p;
	struct table	*t;

	setup();
	t = table_new("fwd", TABLE_XMAIL, NULL);
	table_add(t, "domain2.com", "127.0.0.5;127.0.0.6,NeedTLS=0",
	    "NeedTLS=2,OutBind=127.0.0.9", 1);
	act.routes = t;
	ATF_REQUIRE_EQ(plan("a@domain2.com", &p), ROUTE_OK);
	ATF_REQUIRE_EQ(p.ntargets, 2);
	ATF_CHECK_EQ(p.targets[0].tls, RELAY_TLS_REQUIRE);
	ATF_CHECK_STREQ(p.targets[0].src, "127.0.0.9");
	/* the hop's own option wins */
	ATF_CHECK_EQ(p.targets[1].tls, RELAY_TLS_NO);
	lka_route_plan_free(&p);
}

ATF_TC_WITHOUT_HEAD(credentials);
ATF_TC_BODY(credentials, tc)
{
	struct table	*t;
	char		 u[64], pw[64];

	t = table_new("secrets", TABLE_INLINE, NULL);
	table_add(t, "mylabel", "alice:s3cr:et", NULL, 1);
	table_add(t, "smtp.isp.example", "bob:pw1", NULL, 2);
	table_add(t, "relay.example", "carol:pw2", NULL, 3);
	ATF_CHECK(lka_route_credentials(t, "mylabel", "smtp.isp.example",
	    u, sizeof(u), pw, sizeof(pw)));
	ATF_CHECK_STREQ(u, "alice");
	ATF_CHECK_STREQ(pw, "s3cr:et");
	ATF_CHECK(lka_route_credentials(t, "", "smtp.isp.example",
	    u, sizeof(u), pw, sizeof(pw)));
	ATF_CHECK_STREQ(u, "bob");
	ATF_CHECK(lka_route_credentials(t, NULL, "a.b.relay.example",
	    u, sizeof(u), pw, sizeof(pw)));
	ATF_CHECK_STREQ(u, "carol");
	ATF_CHECK(!lka_route_credentials(t, NULL, "other.example",
	    u, sizeof(u), pw, sizeof(pw)));
	ATF_CHECK(!lka_route_credentials(t, NULL, "example",
	    u, sizeof(u), pw, sizeof(pw)));
	ATF_CHECK(!lka_route_credentials(NULL, NULL, "relay.example",
	    u, sizeof(u), pw, sizeof(pw)));
}

ATF_TC_WITHOUT_HEAD(mx_plan);
ATF_TC_BODY(mx_plan, tc)
{
	struct route_plan p;

	setup();
	ATF_REQUIRE_EQ(plan("user@Example.NET.", &p), ROUTE_OK);
	ATF_CHECK_EQ(p.source, ROUTE_FROM_MX);
	ATF_CHECK_STREQ(p.domain, "Example.NET");
	ATF_CHECK_EQ(p.mx.port, 25);
	ATF_CHECK_EQ(p.mx.tls, RELAY_TLS_OPPORTUNISTIC);
	lka_route_plan_free(&p);
	/* address literal: straight there */
	ATF_REQUIRE_EQ(plan("user@[127.0.0.7]", &p), ROUTE_OK);
	ATF_CHECK_EQ(p.source, ROUTE_FROM_HOST);
	ATF_REQUIRE_EQ(p.ntargets, 1);
	ATF_CHECK_STREQ(p.targets[0].addr, "127.0.0.7");
	lka_route_plan_free(&p);
	ATF_CHECK_EQ(plan("nodomain", &p), ROUTE_PERMFAIL);
	ATF_CHECK_EQ(plan("a@[bogus]", &p), ROUTE_PERMFAIL);
}

ATF_TC_WITHOUT_HEAD(loop);
ATF_TC_BODY(loop, tc)
{
	struct listener		 l1, l2;
	struct sockaddr_in	*sin;
	char			*local[] = { "192.0.2.7" };

	setup();
	memset(&l1, 0, sizeof(l1));
	sin = (struct sockaddr_in *)&l1.ss;
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &sin->sin_addr);
	l1.sslen = sizeof(*sin);
	l1.port = 25025;
	memset(&l2, 0, sizeof(l2));
	sin = (struct sockaddr_in *)&l2.ss;
	sin->sin_family = AF_INET;
	l2.sslen = sizeof(*sin);	/* 0.0.0.0 */
	l2.port = 25026;
	TAILQ_INSERT_TAIL(&conf.listeners, &l1, entry);
	TAILQ_INSERT_TAIL(&conf.listeners, &l2, entry);
	ATF_CHECK(lka_route_is_self(&conf, local, 1, "127.0.0.1", 25025));
	ATF_CHECK(!lka_route_is_self(&conf, local, 1, "127.0.0.1", 25));
	ATF_CHECK(!lka_route_is_self(&conf, local, 1, "127.0.0.2", 25025));
	ATF_CHECK(lka_route_is_self(&conf, local, 1, "127.0.0.2", 25026));
	ATF_CHECK(lka_route_is_self(&conf, local, 1, "192.0.2.7", 25026));
	ATF_CHECK(!lka_route_is_self(&conf, local, 1, "192.0.2.8", 25026));
}

static uint32_t
rnd_last(uint32_t n)
{
	return n - 1;
}

static uint32_t
rnd_first(uint32_t n)
{
	(void)n;
	return 0;
}

ATF_TC_WITHOUT_HEAD(mx_sort);
ATF_TC_BODY(mx_sort, tc)
{
	struct dns_mx	 mx[4] = { { "c", 20 }, { "a", 10 }, { "d", 30 },
	    { "b", 10 } };
	struct dns_mx	 m2[4];
	int		 seen_a_first = 0, seen_b_first = 0, i;

	memcpy(m2, mx, sizeof(mx));
	lka_dns_mx_sort(m2, 4, rnd_last);
	ATF_CHECK_EQ(m2[0].pref, 10);
	ATF_CHECK_EQ(m2[1].pref, 10);
	ATF_CHECK_STREQ(m2[2].host, "c");
	ATF_CHECK_STREQ(m2[3].host, "d");
	for (i = 0; i < 2; i++) {
		memcpy(m2, mx, sizeof(mx));
		lka_dns_mx_sort(m2, 4, i ? rnd_first : rnd_last);
		if (strcmp(m2[0].host, "a") == 0)
			seen_a_first = 1;
		else
			seen_b_first = 1;
	}
	/* equal preferences are shuffled: both orders happen */
	ATF_CHECK(seen_a_first && seen_b_first);
}

ATF_TC_WITHOUT_HEAD(dns_answers);
ATF_TC_BODY(dns_answers, tc)
{
	struct dns_mx	 nullmx[1] = { { "", 0 } };
	struct dns_mx	 dot[1] = { { ".", 0 } };
	struct dns_mx	 two[2] = { { "", 0 }, { "a", 10 } };
	struct resolver	 r[2] = { { "127.0.0.1", 25053 }, { "::1", 0 } };
	char		 csv[128];

	ATF_CHECK(lka_dns_mx_null(nullmx, 1));
	ATF_CHECK(lka_dns_mx_null(dot, 1));
	ATF_CHECK(!lka_dns_mx_null(two, 2));
	ATF_CHECK_EQ(lka_dns_status(ARES_SUCCESS), DNS_OK);
	ATF_CHECK_EQ(lka_dns_status(ARES_ENODATA), DNS_NODATA);
	ATF_CHECK_EQ(lka_dns_status(ARES_ENOTFOUND), DNS_NXDOMAIN);
	ATF_CHECK_EQ(lka_dns_status(ARES_ESERVFAIL), DNS_TEMPFAIL);
	ATF_CHECK_EQ(lka_dns_status(ARES_ETIMEOUT), DNS_TEMPFAIL);
	ATF_CHECK_EQ(lka_dns_status(ARES_EREFUSED), DNS_TEMPFAIL);
	ATF_CHECK_EQ(lka_dns_servers_csv(r, 2, csv, sizeof(csv)), 0);
	ATF_CHECK_STREQ(csv, "127.0.0.1:25053,[::1]:53");
	ATF_CHECK_EQ(lka_dns_servers_csv(r, 2, csv, 10), -1);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, routes_table);
	ATF_TP_ADD_TC(tp, glob_domain2);
	ATF_TP_ADD_TC(tp, first_glob_wins);
	ATF_TP_ADD_TC(tp, host_defaults);
	ATF_TP_ADD_TC(tp, xmail_options);
	ATF_TP_ADD_TC(tp, credentials);
	ATF_TP_ADD_TC(tp, mx_plan);
	ATF_TP_ADD_TC(tp, loop);
	ATF_TP_ADD_TC(tp, mx_sort);
	ATF_TP_ADD_TC(tp, dns_answers);
	return atf_no_error();
}
