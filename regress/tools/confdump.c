/*
 * confdump: parse a smtpd.conf with config_parse() and print what it
 * holds, one `key=value` line per item, so that shell tests can check
 * the parse.  Usage: confdump [-D name=value]... FILE
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static void
dump_table(const struct table *t)
{
	size_t	i;

	printf("table name=\"%s\" backend=%d entries=%zu\n", t->name,
	    (int)t->backend, t->nentries);
	for (i = 0; i < t->nentries; i++)
		printf("  entry key=\"%s\" value=\"%s\" options=\"%s\" "
		    "line=%d\n", t->entries[i].key,
		    t->entries[i].value ? t->entries[i].value : "",
		    t->entries[i].options ? t->entries[i].options : "",
		    t->entries[i].line);
}

static void
dump(const struct smtpd_config *c)
{
	const struct table	*t;
	const struct listener	*l;
	const struct action	*a;
	const struct rule	*r;
	const struct pki	*p;
	char			 addr[INET6_ADDRSTRLEN];
	size_t			 i;

	printf("hostname=%s\nhelo=%s\npostmaster=%s\nspool=%s\n"
	    "control_socket=%s\n", c->hostname, c->helo, c->postmaster,
	    c->spool, c->control_socket);
	printf("queue_ttl=%lld\nqueue_retry=%lld\nqueue_retry_max=%lld\n"
	    "bounce_warn_interval=%lld\n", (long long)c->queue_ttl,
	    (long long)c->queue_retry, (long long)c->queue_retry_max,
	    (long long)c->bounce_warn_interval);
	printf("max_message_size=%llu\nmax_rcpt=%u\nmax_hops=%u\nvrfy=%d\n"
	    "etrn=%d\nmin_free_space=%llu\n",
	    (unsigned long long)c->max_message_size, c->max_rcpt, c->max_hops,
	    c->vrfy, c->etrn, (unsigned long long)c->min_free_space);
	printf("max_sessions=%u\nmax_sessions_per_ip=%u\ntimeout=%lld\n"
	    "timeout_data=%lld\nmax_errors=%u\nmax_auth_failures=%u\n"
	    "mda_timeout=%lld\n",
	    c->max_sessions, c->max_sessions_per_ip, (long long)c->timeout,
	    (long long)c->timeout_data, c->max_errors, c->max_auth_failures,
	    (long long)c->mda_timeout);
	for (i = 0; i < c->nresolvers; i++)
		printf("resolver=%s port=%u\n", c->resolvers[i].addr,
		    c->resolvers[i].port);
	for (i = 0; i < c->ndnsbl; i++)
		printf("dnsbl=%s\n", c->dnsbl[i]);
	if (c->ban)
		printf("ban=%s message=\"%s\"\n", c->ban->name,
		    c->ban_message ? c->ban_message : "");
	TAILQ_FOREACH(t, &c->tables, entry)
		dump_table(t);
	TAILQ_FOREACH(p, &c->pkis, entry)
		printf("pki name=%s cert_len=%zu key_len=%zu\n", p->name,
		    p->cert_len, p->key_len);
	TAILQ_FOREACH(l, &c->listeners, entry) {
		const void *sa = l->ss.ss_family == AF_INET ?
		    (const void *)&((const struct sockaddr_in *)&l->ss)->sin_addr :
		    (const void *)&((const struct sockaddr_in6 *)&l->ss)->sin6_addr;

		inet_ntop(l->ss.ss_family, sa, addr, sizeof(addr));
		printf("listener index=%d name=%s addr=%s port=%u flags=0x%x "
		    "pki=%s auth=%s hostname=%s tag=%s line=%d\n", l->index,
		    l->name, addr, l->port, l->flags,
		    l->pki ? l->pki->name : "", l->auth_table ?
		    l->auth_table->name : "", l->hostname, l->tag, l->line);
	}
	TAILQ_FOREACH(a, &c->actions, entry) {
		printf("action name=%s method=%s path=%s user=%s alias=%s "
		    "virtual=%s random=%d routes=%s tls=%s no_verify=%d src=%s "
		    "auth=%s helo=%s port=%u ca=%s line=%d\n", a->name,
		    config_method_name(a->method), a->path ? a->path : "",
		    a->user ? a->user : "", a->alias ? a->alias->name : "",
		    a->virtual ? a->virtual->name : "", a->random,
		    a->routes ? a->routes->name : "", relay_tls_name(a->tls),
		    a->no_verify, a->src, a->auth ? a->auth->name : "",
		    a->helo ? a->helo : "", a->port,
		    a->ca_file ? a->ca_file : "", a->line);
		for (i = 0; i < a->hosts.nhops; i++)
			printf("  hop label=%s host=%s port=%u tls=%s src=%s\n",
			    a->hosts.hops[i].label, a->hosts.hops[i].host,
			    a->hosts.hops[i].port,
			    relay_tls_name(a->hosts.hops[i].tls),
			    a->hosts.hops[i].src);
	}
	TAILQ_FOREACH(r, &c->rules, entry) {
		printf("rule line=%d from=%s%d table=%s for=%s%d table=%s",
		    r->line, r->from_neg ? "!" : "", (int)r->from,
		    r->from_table ? r->from_table->name : "",
		    r->for_neg ? "!" : "", (int)r->rfor,
		    r->for_table ? r->for_table->name : "");
		if (r->tag_set)
			printf(" tag=%s%s", r->tag_neg ? "!" : "", r->tag);
		if (r->reject)
			printf(" reject");
		for (i = 0; i < r->nactions; i++)
			printf(" action=%s", r->actions[i]->name);
		printf("\n");
	}
}

int
main(int argc, char *argv[])
{
	struct smtpd_config	*c;
	int			 ch;

	while ((ch = getopt(argc, argv, "D:")) != -1) {
		switch (ch) {
		case 'D':
			if (config_define(optarg) == -1) {
				fprintf(stderr, "bad -D %s\n", optarg);
				return 2;
			}
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: confdump [-D name=value] file\n");
		return 2;
	}
	if ((c = config_parse(argv[optind])) == NULL)
		return 1;
	dump(c);
	config_free(c);
	return 0;
}
