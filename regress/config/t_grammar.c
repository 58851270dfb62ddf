/*
 * The grammar end to end through config_parse(): defaults, every global
 * setting, listeners (localhost expansion, flags, index order), every
 * action method and relay option, rules with negation, tags, defaults,
 * action lists, and anonymous tables.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <atf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static void
write_file(const char *path, const char *content)
{
	FILE	*fp;

	ATF_REQUIRE((fp = fopen(path, "w")) != NULL);
	ATF_REQUIRE(fputs(content, fp) >= 0);
	ATF_REQUIRE(fclose(fp) == 0);
}

static struct smtpd_config *
parse_ok(const char *content)
{
	struct smtpd_config *c;

	write_file("smtpd.conf", content);
	c = config_parse("smtpd.conf");
	ATF_REQUIRE_MSG(c != NULL, "refused (see stderr)");
	return c;
}

static int
parse_fails(const char *content)
{
	struct smtpd_config *c;

	write_file("smtpd.conf", content);
	c = config_parse("smtpd.conf");
	config_free(c);
	return c == NULL;
}

static struct rule *
rule_n(struct smtpd_config *c, int n)
{
	struct rule *r;

	TAILQ_FOREACH(r, &c->rules, entry)
		if (n-- == 0)
			return r;
	atf_tc_fail("no rule %d", n);
	return NULL;
}

ATF_TC_WITHOUT_HEAD(defaults);
ATF_TC_BODY(defaults, tc)
{
	struct smtpd_config	*c;
	char			 host[256];

	c = parse_ok("# nothing\n");
	ATF_REQUIRE(gethostname(host, sizeof(host)) == 0);
	ATF_CHECK_STREQ(c->hostname, host);
	ATF_CHECK_STREQ(c->helo, host);
	ATF_CHECK_STREQ(c->spool, "/var/spool/smtpd");
	ATF_CHECK_STREQ(c->control_socket, "/var/run/smtpd.sock");
	ATF_CHECK_EQ(c->queue_ttl, 4 * 86400);
	ATF_CHECK_EQ(c->queue_retry, 300);
	ATF_CHECK_EQ(c->queue_retry_max, 4 * 3600);
	ATF_CHECK_EQ(c->bounce_warn_interval, 4 * 3600);
	ATF_CHECK_EQ(c->max_message_size, 35 * 1024 * 1024);
	ATF_CHECK_EQ(c->max_rcpt, 1000);
	ATF_CHECK_EQ(c->max_hops, 30);
	ATF_CHECK_EQ(c->vrfy, 0);
	ATF_CHECK_EQ(c->etrn, 0);
	ATF_CHECK_EQ(c->min_free_space, 0);
	ATF_CHECK_EQ(c->max_sessions, 1000);
	ATF_CHECK_EQ(c->max_sessions_per_ip, 50);
	ATF_CHECK_EQ(c->timeout, 300);
	ATF_CHECK_EQ(c->timeout_data, 600);
	ATF_CHECK_EQ(c->max_errors, 10);
	ATF_CHECK_EQ(c->max_auth_failures, 3);
	ATF_CHECK_EQ(c->mda_timeout, 600);
	ATF_CHECK_EQ(c->mta_conn_per_hop, 5);
	ATF_CHECK_EQ(c->mta_conn_per_domain, 20);
	ATF_CHECK_EQ(c->mta_msg_per_conn, 100);
	ATF_CHECK_EQ(c->mta_timeout_connect, 30);
	ATF_CHECK_EQ(c->mta_timeout_reply, 300);
	ATF_CHECK_EQ(c->mta_timeout_idle, 5);
	ATF_CHECK_EQ(c->nresolvers, 0);
	ATF_CHECK_EQ(c->ctl_fd, -1);
	ATF_CHECK(TAILQ_EMPTY(&c->listeners));
	ATF_CHECK(TAILQ_EMPTY(&c->rules));
	config_free(c);
}

ATF_TC_WITHOUT_HEAD(globals);
ATF_TC_BODY(globals, tc)
{
	struct smtpd_config *c;

	c = parse_ok("hostname mail.example.com\n"
	    "helo out.example.com\n"
	    "postmaster hostmaster@example.com\n"
	    "resolver 127.0.0.1 port 5353\n"
	    "resolver { ::1, 127.0.0.2:54, [::1]:55 }\n"
	    "spool \"/tmp/spool\"\n"
	    "control socket \"/tmp/s.sock\"\n"
	    "queue ttl 2d\n"
	    "queue retry 1m max 2h\n"
	    "bounce warn-interval 3h\n"
	    "smtp max-message-size 10M\n"
	    "smtp max-rcpt 100\n"
	    "smtp max-hops 16\n"
	    "smtp vrfy yes\n"
	    "smtp etrn yes\n"
	    "smtp min-free-space 1G\n"
	    "smtp dnsbl { \"zen.example.org\", bl.example.net }\n"
	    "smtp ban { 192.0.2.0/24 } message \"Go away\"\n"
	    "smtp limit sessions 7\n"
	    "smtp limit sessions-per-address 3\n"
	    "smtp limit errors 4\n"
	    "smtp limit auth-failures 2\n"
	    "smtp timeout 30s\n"
	    "smtp timeout data 1h\n"
	    "mda timeout 90s\n");
	ATF_CHECK_STREQ(c->hostname, "mail.example.com");
	ATF_CHECK_STREQ(c->helo, "out.example.com");
	ATF_CHECK_STREQ(c->postmaster, "hostmaster@example.com");
	ATF_REQUIRE_EQ(c->nresolvers, 4);
	ATF_CHECK_STREQ(c->resolvers[0].addr, "127.0.0.1");
	ATF_CHECK_EQ(c->resolvers[0].port, 5353);
	ATF_CHECK_STREQ(c->resolvers[1].addr, "::1");
	ATF_CHECK_EQ(c->resolvers[1].port, 0);
	ATF_CHECK_STREQ(c->resolvers[2].addr, "127.0.0.2");
	ATF_CHECK_EQ(c->resolvers[2].port, 54);
	ATF_CHECK_STREQ(c->resolvers[3].addr, "::1");
	ATF_CHECK_EQ(c->resolvers[3].port, 55);
	ATF_CHECK_STREQ(c->spool, "/tmp/spool");
	ATF_CHECK_STREQ(c->control_socket, "/tmp/s.sock");
	ATF_CHECK_EQ(c->queue_ttl, 2 * 86400);
	ATF_CHECK_EQ(c->queue_retry, 60);
	ATF_CHECK_EQ(c->queue_retry_max, 7200);
	ATF_CHECK_EQ(c->bounce_warn_interval, 3 * 3600);
	ATF_CHECK_EQ(c->max_message_size, 10 * 1024 * 1024);
	ATF_CHECK_EQ(c->max_rcpt, 100);
	ATF_CHECK_EQ(c->max_hops, 16);
	ATF_CHECK_EQ(c->vrfy, 1);
	ATF_CHECK_EQ(c->etrn, 1);
	ATF_CHECK_EQ(c->min_free_space, 1ULL << 30);
	ATF_REQUIRE_EQ(c->ndnsbl, 2);
	ATF_CHECK_STREQ(c->dnsbl[0], "zen.example.org");
	ATF_CHECK_STREQ(c->dnsbl[1], "bl.example.net");
	ATF_REQUIRE(c->ban != NULL);
	ATF_CHECK(table_match_addr(c->ban, "192.0.2.77"));
	ATF_CHECK(!table_match_addr(c->ban, "192.0.3.1"));
	ATF_CHECK_STREQ(c->ban_message, "Go away");
	ATF_CHECK_EQ(c->max_sessions, 7);
	ATF_CHECK_EQ(c->max_sessions_per_ip, 3);
	ATF_CHECK_EQ(c->max_errors, 4);
	ATF_CHECK_EQ(c->max_auth_failures, 2);
	ATF_CHECK_EQ(c->timeout, 30);
	ATF_CHECK_EQ(c->timeout_data, 3600);
	ATF_CHECK_EQ(c->mda_timeout, 90);
	config_free(c);
}

/* `mta limit` and `mta timeout`; "mta" takes no name away (a table and
 * an action may still be called so). */
ATF_TC_WITHOUT_HEAD(mta_options);
ATF_TC_BODY(mta_options, tc)
{
	struct smtpd_config	*c;

	c = parse_ok("mta limit connections-per-hop 3\n"
	    "mta limit connections-per-domain 2\n"
	    "mta limit messages-per-connection 7\n"
	    "mta timeout connect 10s\n"
	    "mta timeout reply 2m\n"
	    "mta timeout idle 3s\n"
	    "table mta { a }\n"
	    "action \"mta\" relay\n");
	ATF_CHECK_EQ(c->mta_conn_per_hop, 3);
	ATF_CHECK_EQ(c->mta_conn_per_domain, 2);
	ATF_CHECK_EQ(c->mta_msg_per_conn, 7);
	ATF_CHECK_EQ(c->mta_timeout_connect, 10);
	ATF_CHECK_EQ(c->mta_timeout_reply, 120);
	ATF_CHECK_EQ(c->mta_timeout_idle, 3);
	config_free(c);
	ATF_CHECK(parse_fails("mta limit connections 3\n"));
	ATF_CHECK(parse_fails("mta limit connections-per-hop 0\n"));
	ATF_CHECK(parse_fails("mta timeout data 3s\n"));
	ATF_CHECK(parse_fails("mta timeout idle 0\n"));
	ATF_CHECK(parse_fails("mta limit\n"));
}

ATF_TC_WITHOUT_HEAD(retry_cap);
ATF_TC_BODY(retry_cap, tc)
{
	struct smtpd_config *c;

	c = parse_ok("queue retry 6h\n");
	ATF_CHECK_EQ(c->queue_retry, 6 * 3600);
	ATF_CHECK_EQ(c->queue_retry_max, 6 * 3600);
	config_free(c);
	c = parse_ok("queue retry 1m\n");
	ATF_CHECK_EQ(c->queue_retry_max, 4 * 3600);
	config_free(c);
}

ATF_TC_WITHOUT_HEAD(listeners);
ATF_TC_BODY(listeners, tc)
{
	struct smtpd_config	*c;
	struct listener		*l;
	char			 a[INET6_ADDRSTRLEN], conf[4096];
	int			 i = 0, n4 = 0, n6 = 0;

	write_file("pw", "alice $6$x$y\n");
	snprintf(conf, sizeof(conf), "pki p cert \"%s/../../etc/examples/"
	    "example.crt\" key \"%s/../../etc/examples/example.key\"\n%s",
	    atf_tc_get_config_var(tc, "srcdir"),
	    atf_tc_get_config_var(tc, "srcdir"),
	    "table pw file:pw\n"
	    "listen on 127.0.0.1 port 27025 tag in hostname mx.example\n"
	    "listen on localhost port 27026 tls pki p\n"
	    "listen on [::1] port 27027 smtps auth <pw>\n"
	    "listen on 127.0.0.1 port 27028 tls-require auth-optional <pw> "
	    "received-auth\n"
	    "listen on 127.0.0.1\n");
	c = parse_ok(conf);
	TAILQ_FOREACH(l, &c->listeners, entry) {
		ATF_CHECK_EQ(l->index, i);
		ATF_CHECK_EQ(l->fd, -1);
		i++;
		if (l->port == 27026) {
			ATF_CHECK_EQ(l->flags, LISTEN_TLS);
			ATF_CHECK(l->pki != NULL);
			ATF_CHECK_STREQ(l->name, "localhost");
			if (l->ss.ss_family == AF_INET) {
				inet_ntop(AF_INET, &((struct sockaddr_in *)
				    &l->ss)->sin_addr, a, sizeof(a));
				ATF_CHECK_STREQ(a, "127.0.0.1");
				ATF_CHECK_EQ(ntohs(((struct sockaddr_in *)
				    &l->ss)->sin_port), 27026);
				n4++;
			} else
				n6++;
		}
		if (l->port == 27025) {
			ATF_CHECK_EQ(l->flags, 0);
			ATF_CHECK_STREQ(l->tag, "in");
			ATF_CHECK_STREQ(l->hostname, "mx.example");
			ATF_CHECK_EQ(l->line, 3);
		}
		if (l->port == 27027) {
			ATF_CHECK_EQ(l->ss.ss_family, AF_INET6);
			ATF_CHECK_EQ(l->flags, LISTEN_SMTPS | LISTEN_AUTH);
			/* The only pki is taken. */
			ATF_CHECK(l->pki != NULL);
			ATF_CHECK(l->auth_table != NULL &&
			    strcmp(l->auth_table->name, "pw") == 0);
		}
		if (l->port == 27028)
			ATF_CHECK_EQ(l->flags, LISTEN_TLS | LISTEN_TLS_REQUIRE |
			    LISTEN_AUTH_OPTIONAL | LISTEN_RECEIVED_AUTH);
	}
	ATF_CHECK_EQ(n4, 1);
	ATF_CHECK(n6 <= 1);
	ATF_CHECK_EQ(i, 5 + n6);
	/* The default port is 25. */
	l = TAILQ_LAST(&c->listeners, listenerlist);
	ATF_CHECK_EQ(l->port, 25);
	config_free(c);
}

ATF_TC_WITHOUT_HEAD(interface);
ATF_TC_BODY(interface, tc)
{
	struct smtpd_config	*c;
	struct listener		*l;
	int			 lo4 = 0;

	c = parse_ok("listen on lo port 27031\n");
	TAILQ_FOREACH(l, &c->listeners, entry) {
		ATF_CHECK_STREQ(l->name, "lo");
		ATF_CHECK_EQ(l->port, 27031);
		if (l->ss.ss_family == AF_INET &&
		    ((struct sockaddr_in *)&l->ss)->sin_addr.s_addr ==
		    htonl(INADDR_LOOPBACK))
			lo4++;
	}
	ATF_CHECK_EQ(lo4, 1);
	config_free(c);
}

ATF_TC_WITHOUT_HEAD(local_actions);
ATF_TC_BODY(local_actions, tc)
{
	struct smtpd_config	*c;
	struct action		*a;

	c = parse_ok("table aliases { root = alice, abuse = \"alice, bob\" }\n"
	    "table virt { \"a@example.com\" = alice }\n"
	    "action \"md\" maildir\n"
	    "action \"vmail\" maildir \"/var/vmail/%{rcpt.domain}/%{rcpt.user}\""
	    " user vmail virtual <virt>\n"
	    "action \"mb\" mbox alias <aliases>\n"
	    "action \"mda\" mda \"/usr/bin/procmail -f -\" alias <aliases>\n"
	    "action \"lmtp\" lmtp \"/var/run/dovecot/lmtp\"\n");
	a = config_action(c, "md");
	ATF_REQUIRE(a != NULL);
	ATF_CHECK_EQ(a->method, A_MAILDIR);
	ATF_CHECK_STREQ(a->path, "~/Maildir");
	a = config_action(c, "vmail");
	ATF_REQUIRE(a != NULL);
	ATF_CHECK_STREQ(a->path, "/var/vmail/%{rcpt.domain}/%{rcpt.user}");
	ATF_CHECK_STREQ(a->user, "vmail");
	ATF_CHECK(a->virtual == config_table(c, "virt"));
	a = config_action(c, "mb");
	ATF_REQUIRE(a != NULL);
	ATF_CHECK_EQ(a->method, A_MBOX);
	ATF_CHECK(a->alias == config_table(c, "aliases"));
	ATF_CHECK_STREQ(table_lookup(a->alias, "abuse")->value, "alice, bob");
	a = config_action(c, "mda");
	ATF_REQUIRE(a != NULL);
	ATF_CHECK_EQ(a->method, A_MDA);
	ATF_CHECK_STREQ(a->path, "/usr/bin/procmail -f -");
	a = config_action(c, "lmtp");
	ATF_REQUIRE(a != NULL);
	ATF_CHECK_EQ(a->method, A_LMTP);
	ATF_CHECK_STREQ(a->path, "/var/run/dovecot/lmtp");
	config_free(c);
}

ATF_TC_WITHOUT_HEAD(relay_actions);
ATF_TC_BODY(relay_actions, tc)
{
	struct smtpd_config	*c;
	struct action		*a;

	write_file("ca.pem", "-----BEGIN CERTIFICATE-----\n");
	c = parse_ok("table secrets { isp = \"u:p\" }\n"
	    "table routes { domain1.com = smtp.domain.com }\n"
	    "action \"out\" relay\n"
	    "action \"gw\" relay host { smtp://192.168.1.100:8025, "
	    "smtp+tls://192.168.1.101 } tls opportunistic src 192.168.10.1 "
	    "auth <secrets> helo mail.example.com\n"
	    "action \"spread\" relay host { 192.168.1.100, 192.168.1.101 } "
	    "random\n"
	    "action \"legacy\" relay host "
	    "\"192.168.1.100,NeedTLS=2,OutBind=192.168.10.1;192.168.1.101\"\n"
	    "action \"fwd\" relay routes <routes> host smtp.isp.example:587 "
	    "auth <secrets> port 2525 tls require no-verify ca \"ca.pem\"\n"
	    "action \"two\" relay host a.example host \"#b.example;c.example\" "
	    "tls no\n");
	a = config_action(c, "out");
	ATF_REQUIRE(a != NULL);
	ATF_CHECK_EQ(a->method, A_RELAY);
	ATF_CHECK_EQ(a->hosts.nhops, 0);
	ATF_CHECK_EQ(a->tls, RELAY_TLS_DEFAULT);
	ATF_CHECK_EQ(a->port, 0);
	a = config_action(c, "gw");
	ATF_REQUIRE(a != NULL && a->hosts.nhops == 2);
	ATF_CHECK_EQ(a->hosts.hops[0].port, 8025);
	ATF_CHECK_EQ(a->hosts.hops[0].tls, RELAY_TLS_OPPORTUNISTIC);
	ATF_CHECK_EQ(a->hosts.hops[1].tls, RELAY_TLS_REQUIRE);
	ATF_CHECK_EQ(a->tls, RELAY_TLS_OPPORTUNISTIC);
	ATF_CHECK_STREQ(a->src, "192.168.10.1");
	ATF_CHECK(a->auth == config_table(c, "secrets"));
	ATF_CHECK_STREQ(a->helo, "mail.example.com");
	ATF_CHECK_EQ(a->random, 0);
	a = config_action(c, "spread");
	ATF_REQUIRE(a != NULL && a->hosts.nhops == 2);
	ATF_CHECK_EQ(a->random, 1);
	ATF_CHECK_EQ(a->hosts.random, 1);
	a = config_action(c, "legacy");
	ATF_REQUIRE(a != NULL && a->hosts.nhops == 2);
	ATF_CHECK_EQ(a->hosts.hops[0].tls, RELAY_TLS_REQUIRE);
	ATF_CHECK_STREQ(a->hosts.hops[0].src, "192.168.10.1");
	ATF_CHECK_EQ(a->hosts.hops[1].tls, RELAY_TLS_DEFAULT);
	ATF_CHECK_EQ(a->random, 0);
	a = config_action(c, "fwd");
	ATF_REQUIRE(a != NULL && a->hosts.nhops == 1);
	ATF_CHECK(a->routes == config_table(c, "routes"));
	ATF_CHECK_EQ(a->port, 2525);
	ATF_CHECK_EQ(a->tls, RELAY_TLS_REQUIRE);
	ATF_CHECK_EQ(a->no_verify, 1);
	ATF_REQUIRE(a->ca_file != NULL);
	ATF_CHECK(strstr(a->ca_file, "/ca.pem") != NULL);
	ATF_CHECK(a->ca_file[0] == '/');
	a = config_action(c, "two");
	ATF_REQUIRE(a != NULL && a->hosts.nhops == 3);
	ATF_CHECK_STREQ(a->hosts.hops[2].host, "c.example");
	ATF_CHECK_EQ(a->random, 1);
	ATF_CHECK_EQ(a->tls, RELAY_TLS_NO);
	config_free(c);
}

ATF_TC_WITHOUT_HEAD(rules);
ATF_TC_BODY(rules, tc)
{
	struct smtpd_config	*c;
	struct rule		*r;

	c = parse_ok("table domains { example.com, example.net }\n"
	    "table users { alice, bob }\n"
	    "action \"local\" mbox\n"
	    "action \"gw\" relay\n"
	    "action \"fwd\" relay\n"
	    "match from local for any action \"gw\"\n"
	    "match from any for domain <domains> action \"local\"\n"
	    "match from any for rcpt-to \"support@mail.com.cn\" "
	    "action { \"local\", \"fwd\" }\n"
	    "match from auth for any action \"gw\"\n"
	    "match from auth <users> for any action \"gw\"\n"
	    "match from src 10.0.0.0/8 for any reject\n"
	    "match ! from src { 10.0.0.0/8, ::1 } ! for domain <domains> "
	    "reject\n"
	    "match tag submission from mail-from \"*@example.com\" "
	    "for any action \"gw\"\n"
	    "match action \"local\"\n"
	    "match ! tag in for local action \"local\"\n");
	r = rule_n(c, 0);
	ATF_CHECK_EQ(r->line, 6);
	ATF_CHECK(r->from_set == 1 && r->from == FROM_LOCAL && !r->from_neg);
	ATF_CHECK(r->for_set == 1 && r->rfor == FOR_ANY);
	ATF_CHECK(!r->tag_set && !r->reject);
	ATF_REQUIRE_EQ(r->nactions, 1);
	ATF_CHECK_STREQ(r->actions[0]->name, "gw");
	ATF_CHECK(r->actions[1] == NULL);
	r = rule_n(c, 1);
	ATF_CHECK(r->from == FROM_ANY && r->rfor == FOR_DOMAIN);
	ATF_CHECK(r->for_table == config_table(c, "domains"));
	r = rule_n(c, 2);
	ATF_CHECK_EQ(r->rfor, FOR_RCPT_TO);
	ATF_CHECK(table_has(r->for_table, "support@mail.com.cn"));
	ATF_REQUIRE_EQ(r->nactions, 2);
	ATF_CHECK_STREQ(r->actions[0]->name, "local");
	ATF_CHECK_STREQ(r->actions[1]->name, "fwd");
	ATF_CHECK(r->actions[2] == NULL);
	r = rule_n(c, 3);
	ATF_CHECK(r->from == FROM_AUTH && r->from_table == NULL);
	r = rule_n(c, 4);
	ATF_CHECK(r->from == FROM_AUTH &&
	    r->from_table == config_table(c, "users"));
	r = rule_n(c, 5);
	ATF_CHECK(r->from == FROM_SRC && r->reject);
	ATF_CHECK(r->actions == NULL && r->nactions == 0);
	ATF_CHECK(table_match_addr(r->from_table, "10.1.1.1"));
	r = rule_n(c, 6);
	ATF_CHECK(r->from_neg && r->for_neg && r->reject);
	ATF_CHECK(table_match_addr(r->from_table, "::1"));
	r = rule_n(c, 7);
	ATF_CHECK(r->tag_set && !r->tag_neg);
	ATF_CHECK_STREQ(r->tag, "submission");
	ATF_CHECK_EQ(r->from, FROM_MAIL_FROM);
	ATF_CHECK(table_has(r->from_table, "*@example.com"));
	r = rule_n(c, 8);
	/* No criteria: from local for local. */
	ATF_CHECK(r->from_set == 1 && r->from == FROM_LOCAL);
	ATF_CHECK(r->for_set == 1 && r->rfor == FOR_LOCAL);
	r = rule_n(c, 9);
	ATF_CHECK(r->tag_set && r->tag_neg);
	ATF_CHECK_STREQ(r->tag, "in");
	config_free(c);
}

ATF_TC_WITHOUT_HEAD(tables);
ATF_TC_BODY(tables, tc)
{
	struct smtpd_config	*c;
	struct table		*t;

	write_file("aliases", "root: alice\n");
	write_file("fwd.tab", "\"*.*\"\t\"mx.example\"\t\"NeedTLS=1\"\n");
	c = parse_ok("table a file:aliases\n"
	    "table x xmail:fwd.tab\n"
	    "table l { one, two, }\n"
	    "table m {\n  k1 = v1\n  k2 = v2\n}\n");
	t = config_table(c, "a");
	ATF_REQUIRE(t != NULL);
	ATF_CHECK_EQ(t->backend, TABLE_FILE);
	ATF_CHECK(t->path[0] == '/');
	ATF_CHECK_STREQ(table_lookup(t, "root")->value, "alice");
	ATF_CHECK_EQ(t->conf_line, 1);
	t = config_table(c, "x");
	ATF_REQUIRE(t != NULL);
	ATF_CHECK_EQ(t->backend, TABLE_XMAIL);
	ATF_CHECK_STREQ(table_lookup(t, "*.*")->options, "NeedTLS=1");
	t = config_table(c, "l");
	ATF_REQUIRE(t != NULL);
	ATF_CHECK_EQ(t->nentries, 2);
	t = config_table(c, "m");
	ATF_REQUIRE(t != NULL);
	ATF_CHECK_EQ(t->nentries, 2);
	ATF_CHECK_STREQ(table_lookup(t, "k2")->value, "v2");
	config_free(c);
}

ATF_TC_WITHOUT_HEAD(refusals);
ATF_TC_BODY(refusals, tc)
{
	ATF_CHECK(parse_fails("table n 42\n"));
	ATF_CHECK(parse_fails("listen on 127.0.0.1 port 25 port 26\n"));
	ATF_CHECK(parse_fails("action \"a\" relay tls maybe\n"));
	ATF_CHECK(parse_fails("action \"a\" relay\nmatch for any\n"));
	ATF_CHECK(parse_fails("smtp vrfy maybe\n"));
	ATF_CHECK(parse_fails("postmaster nobody\n"));
	ATF_CHECK(parse_fails("spool relative/path\n"));
	ATF_CHECK(parse_fails("action \"a\" mbox\nmatch for for action "
	    "\"a\"\n"));
	ATF_CHECK(parse_fails("table t { }\n"));
	ATF_CHECK(parse_fails("table t { a = b, a = c }\n"));
	ATF_CHECK(parse_fails("match from any for any action \"x\" reject\n"));
	ATF_CHECK(parse_fails("pki p cert \"smtpd.conf\" key \"smtpd.conf\"\n"));
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, defaults);
	ATF_TP_ADD_TC(tp, globals);
	ATF_TP_ADD_TC(tp, mta_options);
	ATF_TP_ADD_TC(tp, retry_cap);
	ATF_TP_ADD_TC(tp, listeners);
	ATF_TP_ADD_TC(tp, interface);
	ATF_TP_ADD_TC(tp, local_actions);
	ATF_TP_ADD_TC(tp, relay_actions);
	ATF_TP_ADD_TC(tp, rules);
	ATF_TP_ADD_TC(tp, tables);
	ATF_TP_ADD_TC(tp, refusals);
	return atf_no_error();
}
