/*
 * Unit tests of the relay parsers (common/relay.c): every relay-list
 * example of the seed, RELAY URLs with schemes, labels and [v6]:port,
 * xmail line options, and the bad inputs that must be refused.
 */
#include <atf-c.h>
#include <stdio.h>
#include <string.h>

#include "relay.h"

static struct relay_list
must_parse(const char *spec)
{
	struct relay_list	l;
	char			err[256] = "";

	if (relay_parse_gateway(spec, &l, err, sizeof(err)) == -1)
		atf_tc_fail("\"%s\" refused: %s", spec, err);
	return l;
}

static void
must_fail(const char *spec, const char *why)
{
	struct relay_list	l;
	char			err[256] = "";

	memset(&l, 0, sizeof(l));
	if (relay_parse_gateway(spec, &l, err, sizeof(err)) == 0) {
		relay_list_free(&l);
		atf_tc_fail("\"%.60s\" accepted", spec);
	}
	ATF_CHECK_MSG(err[0] != '\0', "no message for \"%s\"", spec);
	if (why != NULL)
		ATF_CHECK_MSG(strstr(err, why) != NULL,
		    "\"%.60s\": \"%s\" lacks \"%s\"", spec, err, why);
}

static void
check_hop(const struct relay_hop *h, const char *host, unsigned port,
    enum relay_tls tls, const char *src)
{
	ATF_CHECK_STREQ(h->host, host);
	ATF_CHECK_EQ(h->port, port);
	ATF_CHECK_EQ_MSG(h->tls, tls, "%s: tls %s, want %s", host,
	    relay_tls_name(h->tls), relay_tls_name(tls));
	ATF_CHECK_STREQ(h->src, src);
}

ATF_TC_WITHOUT_HEAD(seed_single);
ATF_TC_BODY(seed_single, tc)
{
	struct relay_list l;

	l = must_parse("smtp.domain.com");
	ATF_REQUIRE_EQ(l.nhops, 1);
	ATF_CHECK_EQ(l.random, 0);
	check_hop(&l.hops[0], "smtp.domain.com", 0, RELAY_TLS_DEFAULT, "");
	relay_list_free(&l);

	l = must_parse("192.168.1.100:8025");
	ATF_REQUIRE_EQ(l.nhops, 1);
	check_hop(&l.hops[0], "192.168.1.100", 8025, RELAY_TLS_DEFAULT, "");
	relay_list_free(&l);

	l = must_parse("192.168.1.100");
	ATF_REQUIRE_EQ(l.nhops, 1);
	check_hop(&l.hops[0], "192.168.1.100", 0, RELAY_TLS_DEFAULT, "");
	relay_list_free(&l);

	l = must_parse("mx.domain.com");
	ATF_REQUIRE_EQ(l.nhops, 1);
	check_hop(&l.hops[0], "mx.domain.com", 0, RELAY_TLS_DEFAULT, "");
	relay_list_free(&l);
}

ATF_TC_WITHOUT_HEAD(seed_needtls);
ATF_TC_BODY(seed_needtls, tc)
{
	struct relay_list l;

	l = must_parse("192.168.1.100,NeedTLS=1");
	ATF_REQUIRE_EQ(l.nhops, 1);
	check_hop(&l.hops[0], "192.168.1.100", 0, RELAY_TLS_OPPORTUNISTIC,
	    "");
	relay_list_free(&l);

	l = must_parse("192.168.1.100,NeedTLS=2,OutBind=192.168.10.1");
	ATF_REQUIRE_EQ(l.nhops, 1);
	check_hop(&l.hops[0], "192.168.1.100", 0, RELAY_TLS_REQUIRE,
	    "192.168.10.1");
	relay_list_free(&l);

	l = must_parse("192.168.1.100,NeedTLS=0");
	check_hop(&l.hops[0], "192.168.1.100", 0, RELAY_TLS_NO, "");
	relay_list_free(&l);

	/* Options in any order, IPv6 OutBind. */
	l = must_parse("10.0.0.1:2525,OutBind=::1,NeedTLS=2");
	check_hop(&l.hops[0], "10.0.0.1", 2525, RELAY_TLS_REQUIRE, "::1");
	relay_list_free(&l);
}

ATF_TC_WITHOUT_HEAD(seed_failover);
ATF_TC_BODY(seed_failover, tc)
{
	struct relay_list l;

	l = must_parse("192.168.1.100;192.168.1.101;192.168.2.10");
	ATF_REQUIRE_EQ(l.nhops, 3);
	ATF_CHECK_EQ(l.random, 0);
	check_hop(&l.hops[0], "192.168.1.100", 0, RELAY_TLS_DEFAULT, "");
	check_hop(&l.hops[1], "192.168.1.101", 0, RELAY_TLS_DEFAULT, "");
	check_hop(&l.hops[2], "192.168.2.10", 0, RELAY_TLS_DEFAULT, "");
	relay_list_free(&l);

	l = must_parse("192.168.1.100:8025;192.168.1.101");
	ATF_REQUIRE_EQ(l.nhops, 2);
	check_hop(&l.hops[0], "192.168.1.100", 8025, RELAY_TLS_DEFAULT, "");
	check_hop(&l.hops[1], "192.168.1.101", 0, RELAY_TLS_DEFAULT, "");
	relay_list_free(&l);

	l = must_parse("192.168.1.100,NeedTLS=2,OutBind=192.168.10.1;"
	    "192.168.1.101");
	ATF_REQUIRE_EQ(l.nhops, 2);
	check_hop(&l.hops[0], "192.168.1.100", 0, RELAY_TLS_REQUIRE,
	    "192.168.10.1");
	check_hop(&l.hops[1], "192.168.1.101", 0, RELAY_TLS_DEFAULT, "");
	relay_list_free(&l);
}

ATF_TC_WITHOUT_HEAD(seed_random);
ATF_TC_BODY(seed_random, tc)
{
	struct relay_list l;

	l = must_parse("#192.168.1.100;192.168.1.101;192.168.2.10");
	ATF_REQUIRE_EQ(l.nhops, 3);
	ATF_CHECK_EQ(l.random, 1);
	check_hop(&l.hops[0], "192.168.1.100", 0, RELAY_TLS_DEFAULT, "");
	check_hop(&l.hops[2], "192.168.2.10", 0, RELAY_TLS_DEFAULT, "");
	relay_list_free(&l);

	l = must_parse("#a.example");
	ATF_REQUIRE_EQ(l.nhops, 1);
	ATF_CHECK_EQ(l.random, 1);
	relay_list_free(&l);
}

ATF_TC_WITHOUT_HEAD(spec_bad);
ATF_TC_BODY(spec_bad, tc)
{
	char	longhost[400];

	must_fail("", "empty");
	must_fail("#", "empty");
	must_fail("  ", "empty");
	must_fail("a.example;;b.example", "empty hop");
	must_fail("a.example;", "empty hop");
	must_fail(";a.example", "empty hop");
	must_fail("a.example:0", "port");
	must_fail("a.example:65536", "port");
	must_fail("a.example:abc", "port");
	must_fail("a.example:", "port");
	must_fail("a.example,NeedTLS=3", "NeedTLS");
	must_fail("a.example,NeedTLS=", "NeedTLS");
	must_fail("a.example,NeedTLS=11", "NeedTLS");
	must_fail("a.example,OutBind=not-an-address", "OutBind");
	must_fail("a.example,OutBind=", "OutBind");
	must_fail("a.example,Frobnicate=1", "unknown option");
	must_fail("a.example,NeedTLS", "without '='");
	must_fail("a.example,", "empty option");
	must_fail("2001:db8::1", "brackets");
	must_fail("::1:25", "brackets");
	must_fail("[2001:db8::zz]:25", "IPv6");
	must_fail("[::1", "]");
	must_fail("a..example", "invalid host");
	must_fail("a b.example", "invalid host");
	memset(longhost, 'a', 300);
	longhost[300] = '\0';
	must_fail(longhost, "too long");
	/* 300 characters in dotted labels too. */
	for (int i = 0; i < 300; i += 10)
		memcpy(longhost + i, "aaaaaaaaa.", 10);
	longhost[299] = 'a';
	must_fail(longhost, "too long");
}

ATF_TC_WITHOUT_HEAD(url_schemes);
ATF_TC_BODY(url_schemes, tc)
{
	struct relay_hop	h;
	char			err[256];

	ATF_REQUIRE(relay_parse_url("smtp://192.168.1.100:8025", &h, err,
	    sizeof(err)) == 0);
	check_hop(&h, "192.168.1.100", 8025, RELAY_TLS_OPPORTUNISTIC, "");
	ATF_REQUIRE(relay_parse_url("smtp+tls://mx.example.org", &h, err,
	    sizeof(err)) == 0);
	check_hop(&h, "mx.example.org", 0, RELAY_TLS_REQUIRE, "");
	ATF_REQUIRE(relay_parse_url("smtp+notls://mx.example.org:26", &h, err,
	    sizeof(err)) == 0);
	check_hop(&h, "mx.example.org", 26, RELAY_TLS_NO, "");
	ATF_REQUIRE(relay_parse_url("smtps://mx.example.org:465", &h, err,
	    sizeof(err)) == 0);
	check_hop(&h, "mx.example.org", 465, RELAY_TLS_SMTPS, "");
	ATF_REQUIRE(relay_parse_url("SMTPS://mx.example.org", &h, err,
	    sizeof(err)) == 0);
	ATF_CHECK_EQ(h.tls, RELAY_TLS_SMTPS);
	ATF_REQUIRE(relay_parse_url("smtp.isp.example:587", &h, err,
	    sizeof(err)) == 0);
	check_hop(&h, "smtp.isp.example", 587, RELAY_TLS_DEFAULT, "");
	ATF_CHECK_STREQ(h.label, "");

	ATF_CHECK(relay_parse_url("http://mx.example.org", &h, err,
	    sizeof(err)) == -1);
	ATF_CHECK(strstr(err, "scheme") != NULL);
	ATF_CHECK(relay_parse_url("smtp://", &h, err, sizeof(err)) == -1);
	ATF_CHECK(relay_parse_url("smtp://a.example/path", &h, err,
	    sizeof(err)) == -1);
	ATF_CHECK(relay_parse_url("", &h, err, sizeof(err)) == -1);
}

ATF_TC_WITHOUT_HEAD(url_labels_v6);
ATF_TC_BODY(url_labels_v6, tc)
{
	struct relay_hop	h;
	char			err[256];

	ATF_REQUIRE(relay_parse_url("smtp+tls://isp@smtp.isp.example:587",
	    &h, err, sizeof(err)) == 0);
	ATF_CHECK_STREQ(h.label, "isp");
	check_hop(&h, "smtp.isp.example", 587, RELAY_TLS_REQUIRE, "");
	ATF_REQUIRE(relay_parse_url("relay-a@10.1.2.3", &h, err,
	    sizeof(err)) == 0);
	ATF_CHECK_STREQ(h.label, "relay-a");
	check_hop(&h, "10.1.2.3", 0, RELAY_TLS_DEFAULT, "");
	ATF_REQUIRE(relay_parse_url("[::1]:2525", &h, err, sizeof(err)) ==
	    0);
	check_hop(&h, "::1", 2525, RELAY_TLS_DEFAULT, "");
	ATF_REQUIRE(relay_parse_url("smtps://lbl@[2001:db8::25]", &h, err,
	    sizeof(err)) == 0);
	ATF_CHECK_STREQ(h.label, "lbl");
	check_hop(&h, "2001:db8::25", 0, RELAY_TLS_SMTPS, "");

	ATF_CHECK(relay_parse_url("@host.example", &h, err, sizeof(err)) ==
	    -1);
	ATF_CHECK(relay_parse_url("[::1]x", &h, err, sizeof(err)) == -1);
	ATF_CHECK(relay_parse_url("[]:25", &h, err, sizeof(err)) == -1);
	ATF_CHECK(relay_parse_url("[::1]:0", &h, err, sizeof(err)) == -1);
	ATF_CHECK(relay_parse_url("fe80::1", &h, err, sizeof(err)) == -1);
	ATF_CHECK(strstr(err, "brackets") != NULL);
}

ATF_TC_WITHOUT_HEAD(spec_with_urls);
ATF_TC_BODY(spec_with_urls, tc)
{
	struct relay_list l;

	l = must_parse("[::1]:8025,NeedTLS=1;smtps://b.example");
	ATF_REQUIRE_EQ(l.nhops, 2);
	check_hop(&l.hops[0], "::1", 8025, RELAY_TLS_OPPORTUNISTIC, "");
	check_hop(&l.hops[1], "b.example", 0, RELAY_TLS_SMTPS, "");
	relay_list_free(&l);
	/* Blanks around hops and options are tolerated. */
	l = must_parse(" a.example , NeedTLS=2 ; b.example ");
	ATF_REQUIRE_EQ(l.nhops, 2);
	check_hop(&l.hops[0], "a.example", 0, RELAY_TLS_REQUIRE, "");
	check_hop(&l.hops[1], "b.example", 0, RELAY_TLS_DEFAULT, "");
	relay_list_free(&l);
}

ATF_TC_WITHOUT_HEAD(line_options);
ATF_TC_BODY(line_options, tc)
{
	struct relay_list	l;
	char			err[256];

	l = must_parse("a.example;b.example,NeedTLS=0,OutBind=10.0.0.2");
	ATF_REQUIRE(relay_apply_options(&l, "NeedTLS=1,OutBind=1.2.3.4", err,
	    sizeof(err)) == 0);
	/* The line's options fill in; a hop's own option wins. */
	check_hop(&l.hops[0], "a.example", 0, RELAY_TLS_OPPORTUNISTIC,
	    "1.2.3.4");
	check_hop(&l.hops[1], "b.example", 0, RELAY_TLS_NO, "10.0.0.2");
	ATF_CHECK(relay_apply_options(&l, "NeedTLS=7", err,
	    sizeof(err)) == -1);
	ATF_CHECK(relay_apply_options(&l, "Bogus=1", err, sizeof(err)) == -1);
	ATF_CHECK(relay_apply_options(&l, "", err, sizeof(err)) == 0);
	ATF_CHECK(relay_apply_options(&l, NULL, err, sizeof(err)) == 0);
	relay_list_free(&l);
}

ATF_TC_WITHOUT_HEAD(helpers);
ATF_TC_BODY(helpers, tc)
{
	ATF_CHECK(relay_is_address("192.168.10.1"));
	ATF_CHECK(relay_is_address("::1"));
	ATF_CHECK(!relay_is_address("not-an-address"));
	ATF_CHECK(!relay_is_address("192.168.10"));
	ATF_CHECK(relay_is_spec("a;b"));
	ATF_CHECK(relay_is_spec("a,NeedTLS=1"));
	ATF_CHECK(relay_is_spec("#a"));
	ATF_CHECK(!relay_is_spec("smtp://a.example:25"));
	ATF_CHECK_STREQ(relay_tls_name(RELAY_TLS_REQUIRE), "require");
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, seed_single);
	ATF_TP_ADD_TC(tp, seed_needtls);
	ATF_TP_ADD_TC(tp, seed_failover);
	ATF_TP_ADD_TC(tp, seed_random);
	ATF_TP_ADD_TC(tp, spec_bad);
	ATF_TP_ADD_TC(tp, url_schemes);
	ATF_TP_ADD_TC(tp, url_labels_v6);
	ATF_TP_ADD_TC(tp, spec_with_urls);
	ATF_TP_ADD_TC(tp, line_options);
	ATF_TP_ADD_TC(tp, helpers);
	return atf_no_error();
}
