/*
 * Configuration loader: defaults, the parse (parse.y), whole-file checks
 * (pki for TLS listeners, routes and secrets tables), listener address
 * expansion, pki files read into memory, units, lookups and free.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "parse.h"
#include "relay.h"
#include "table.h"

#define PKI_FILE_MAX	(1024 * 1024)

/* Weak so that a main that defines it too still links. */
__attribute__((weak)) struct smtpd_config *env;

static int	config_read_file(const char *, char **, size_t *, char *,
		    size_t);
static int	config_ipv6_loopback(void);
static void	config_defaults(struct smtpd_config *);
static void	listener_add(struct smtpd_config *, const struct listener *,
		    const struct sockaddr *, socklen_t);
static int	listener_overlap(const struct listener *,
		    const struct listener *);

void
config_error(const char *file, int line, const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "%s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
config_defaults(struct smtpd_config *c)
{
	char	host[256];

	TAILQ_INIT(&c->tables);
	TAILQ_INIT(&c->pkis);
	TAILQ_INIT(&c->listeners);
	TAILQ_INIT(&c->actions);
	TAILQ_INIT(&c->rules);
	if (gethostname(host, sizeof(host)) == -1 || host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(c->hostname, sizeof(c->hostname), "%s", host);
	if ((c->spool = strdup(SMTPD_SPOOL_DEFAULT)) == NULL ||
	    (c->control_socket = strdup(SMTPD_SOCKET_DEFAULT)) == NULL)
		abort();
	c->queue_ttl = 4 * 86400;
	c->queue_retry = 5 * 60;
	c->queue_retry_max = 4 * 3600;
	c->bounce_warn_interval = 4 * 3600;
	c->max_message_size = 35ULL * 1024 * 1024;
	c->max_rcpt = 1000;
	c->max_hops = 30;
	c->vrfy = 0;
	c->etrn = 0;
	c->min_free_space = 0;
	c->max_sessions = 1000;
	c->max_sessions_per_ip = 50;
	c->timeout = 5 * 60;
	c->timeout_data = 10 * 60;
	c->max_errors = 10;
	c->max_auth_failures = 3;
	c->mda_timeout = 10 * 60;
	c->mta_conn_per_hop = 5;
	c->mta_conn_per_domain = 20;
	c->mta_msg_per_conn = 100;
	c->mta_timeout_connect = 30;
	c->mta_timeout_reply = 5 * 60;
	c->mta_timeout_idle = 5;
	c->ctl_fd = -1;
}

struct smtpd_config *
config_parse(const char *path)
{
	struct smtpd_config	*c;
	int			 errors;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		abort();
	config_defaults(c);
	if ((c->conf_path = strdup(path)) == NULL)
		abort();
	errors = parse_config(c, path);
	if (errors == 0)
		errors = config_check(c);
	if (errors != 0) {
		config_free(c);
		return NULL;
	}
	if (c->helo[0] == '\0')
		snprintf(c->helo, sizeof(c->helo), "%s", c->hostname);
	if (c->postmaster[0] == '\0')
		snprintf(c->postmaster, sizeof(c->postmaster),
		    "postmaster@%s", c->hostname);
	return c;
}

void
config_free(struct smtpd_config *c)
{
	struct table	*t;
	struct pki	*p;
	struct listener	*l;
	struct action	*a;
	struct rule	*r;
	size_t		 i;

	if (c == NULL)
		return;
	while ((r = TAILQ_FIRST(&c->rules)) != NULL) {
		TAILQ_REMOVE(&c->rules, r, entry);
		free(r->actions);
		free(r);
	}
	while ((a = TAILQ_FIRST(&c->actions)) != NULL) {
		TAILQ_REMOVE(&c->actions, a, entry);
		relay_list_free(&a->hosts);
		free(a->path);
		free(a->user);
		free(a->helo);
		free(a->ca_file);
		free(a);
	}
	while ((l = TAILQ_FIRST(&c->listeners)) != NULL) {
		TAILQ_REMOVE(&c->listeners, l, entry);
		if (l->fd != -1)
			close(l->fd);
		free(l);
	}
	while ((p = TAILQ_FIRST(&c->pkis)) != NULL) {
		TAILQ_REMOVE(&c->pkis, p, entry);
		free(p->cert_file);
		free(p->key_file);
		if (p->cert != NULL)
			explicit_bzero(p->cert, p->cert_len);
		if (p->key != NULL)
			explicit_bzero(p->key, p->key_len);
		free(p->cert);
		free(p->key);
		free(p);
	}
	while ((t = TAILQ_FIRST(&c->tables)) != NULL) {
		TAILQ_REMOVE(&c->tables, t, entry);
		table_free(t);
	}
	for (i = 0; i < c->ndnsbl; i++)
		free(c->dnsbl[i]);
	free(c->dnsbl);
	free(c->resolvers);
	free(c->ban_message);
	free(c->spool);
	free(c->control_socket);
	free(c->conf_path);
	free(c);
}

struct table *
config_table(struct smtpd_config *c, const char *name)
{
	struct table	*t;

	TAILQ_FOREACH(t, &c->tables, entry)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

struct action *
config_action(struct smtpd_config *c, const char *name)
{
	struct action	*a;

	TAILQ_FOREACH(a, &c->actions, entry)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

struct pki *
config_pki(struct smtpd_config *c, const char *name)
{
	struct pki	*p;

	TAILQ_FOREACH(p, &c->pkis, entry)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

/* Digits then one unit letter of units (factors in mult), or none. */
static int
parse_unit(const char *s, const char *units, const uint64_t *mult,
    uint64_t *out)
{
	uint64_t	 v = 0, m = 1;
	const char	*p, *u;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	for (p = s; isdigit((unsigned char)*p); p++) {
		uint64_t d = (uint64_t)(*p - '0');

		if (v > UINT64_MAX / 10 ||
		    (v == UINT64_MAX / 10 && d > UINT64_MAX % 10))
			return -1;
		v = v * 10 + d;
	}
	if (*p != '\0') {
		if ((u = strchr(units, tolower((unsigned char)*p))) == NULL ||
		    p[1] != '\0')
			return -1;
		m = mult[u - units];
	}
	if (v != 0 && m > UINT64_MAX / v)
		return -1;
	*out = v * m;
	return 0;
}

int
parse_duration(const char *s, time_t *t)
{
	static const uint64_t	mult[] = { 1, 60, 3600, 86400, 604800 };
	uint64_t		v;

	if (parse_unit(s, "smhdw", mult, &v) == -1)
		return -1;
	/* time_t is signed; keep far from its limit. */
	if (v > (uint64_t)INT32_MAX * 64)
		return -1;
	*t = (time_t)v;
	return 0;
}

int
parse_size(const char *s, uint64_t *sz)
{
	static const uint64_t	mult[] = { 1, 1024, 1024 * 1024,
	    1024 * 1024 * 1024, 1024ULL * 1024 * 1024 * 1024 };
	uint64_t		v;

	if (parse_unit(s, "bkmgt", mult, &v) == -1)
		return -1;
	*sz = v;
	return 0;
}

static int
config_read_file(const char *path, char **data, size_t *len, char *err,
    size_t errlen)
{
	FILE		*fp;
	struct stat	 st;
	char		*buf;
	size_t		 n;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "cannot read \"%s\": %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fileno(fp), &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size <= 0 || st.st_size > PKI_FILE_MAX) {
		snprintf(err, errlen, "\"%s\": not a regular file of a "
		    "sensible size", path);
		fclose(fp);
		return -1;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		abort();
	n = fread(buf, 1, (size_t)st.st_size, fp);
	fclose(fp);
	if (n != (size_t)st.st_size) {
		snprintf(err, errlen, "cannot read \"%s\": short read", path);
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return 0;
}

int
config_pki_load(struct pki *p, char *err, size_t errlen)
{
	if (config_read_file(p->cert_file, &p->cert, &p->cert_len, err,
	    errlen) == -1)
		return -1;
	if (strstr(p->cert, "-----BEGIN CERTIFICATE-----") == NULL) {
		snprintf(err, errlen, "\"%s\": no PEM certificate",
		    p->cert_file);
		return -1;
	}
	if (config_read_file(p->key_file, &p->key, &p->key_len, err,
	    errlen) == -1)
		return -1;
	if (strstr(p->key, "PRIVATE KEY-----") == NULL) {
		snprintf(err, errlen, "\"%s\": no PEM private key",
		    p->key_file);
		return -1;
	}
	return 0;
}

/* 1 if an IPv6 socket can be bound to ::1 here. */
static int
config_ipv6_loopback(void)
{
	struct sockaddr_in6	sin6;
	int			fd, ok;

	if ((fd = socket(AF_INET6, SOCK_STREAM, 0)) == -1)
		return 0;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	ok = bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0;
	close(fd);
	return ok;
}

static void
listener_add(struct smtpd_config *c, const struct listener *tmpl,
    const struct sockaddr *sa, socklen_t salen)
{
	struct listener	*l, *last;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		abort();
	*l = *tmpl;
	memset(&l->entry, 0, sizeof(l->entry));
	memcpy(&l->ss, sa, salen);
	l->sslen = salen;
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)&l->ss)->sin_port = htons(l->port);
	else
		((struct sockaddr_in6 *)&l->ss)->sin6_port = htons(l->port);
	l->fd = -1;
	last = TAILQ_LAST(&c->listeners, listenerlist);
	l->index = last ? last->index + 1 : 0;
	TAILQ_INSERT_TAIL(&c->listeners, l, entry);
}

int
config_listen(struct smtpd_config *c, const struct listener *tmpl,
    const char *name, char *err, size_t errlen)
{
	struct listener		 l = *tmpl;
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	struct addrinfo		 hints, *res, *ai;
	const char		*host = name;
	char			 buf[128];
	int			 r, n = 0;

	if (strlcpy(l.name, name, sizeof(l.name)) >= sizeof(l.name)) {
		snprintf(err, errlen, "name too long");
		return -1;
	}
	if (l.port == 0)
		l.port = (l.flags & LISTEN_SMTPS) ? 465 : 25;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	if (strcasecmp(name, "localhost") == 0) {
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		listener_add(c, &l, (struct sockaddr *)&sin, sizeof(sin));
		if (config_ipv6_loopback()) {
			sin6.sin6_addr = in6addr_loopback;
			listener_add(c, &l, (struct sockaddr *)&sin6,
			    sizeof(sin6));
		}
		return 0;
	}
	/* "[::1]" is accepted for an IPv6 literal. */
	if (name[0] == '[' && strlen(name) < sizeof(buf) &&
	    name[strlen(name) - 1] == ']') {
		memcpy(buf, name + 1, strlen(name) - 2);
		buf[strlen(name) - 2] = '\0';
		host = buf;
	}
	if (inet_pton(AF_INET, host, &sin.sin_addr) == 1) {
		listener_add(c, &l, (struct sockaddr *)&sin, sizeof(sin));
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6.sin6_addr) == 1) {
		listener_add(c, &l, (struct sockaddr *)&sin6, sizeof(sin6));
		return 0;
	}
	/* An interface name: every IPv4 and IPv6 address it has. */
	{
		struct ifaddrs *ifap, *ifa;

		if (getifaddrs(&ifap) == 0) {
			for (ifa = ifap; ifa != NULL; ifa = ifa->ifa_next) {
				if (ifa->ifa_addr == NULL ||
				    strcmp(ifa->ifa_name, host) != 0)
					continue;
				if (ifa->ifa_addr->sa_family == AF_INET)
					listener_add(c, &l, ifa->ifa_addr,
					    sizeof(struct sockaddr_in));
				else if (ifa->ifa_addr->sa_family == AF_INET6)
					listener_add(c, &l, ifa->ifa_addr,
					    sizeof(struct sockaddr_in6));
				else
					continue;
				n++;
			}
			freeifaddrs(ifap);
			if (n > 0)
				return 0;
		}
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve: %s", gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		listener_add(c, &l, ai->ai_addr, ai->ai_addrlen);
		n++;
	}
	freeaddrinfo(res);
	if (n == 0) {
		snprintf(err, errlen, "no address");
		return -1;
	}
	return 0;
}

/* 1 if l is a wildcard address of m's family and port, or m of l's. */
static int
listener_overlap(const struct listener *l, const struct listener *m)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (l->ss.ss_family != m->ss.ss_family || l->port != m->port)
		return 0;
	if (l->ss.ss_family == AF_INET) {
		a4 = (const struct sockaddr_in *)&l->ss;
		b4 = (const struct sockaddr_in *)&m->ss;
		return a4->sin_addr.s_addr == htonl(INADDR_ANY) ||
		    b4->sin_addr.s_addr == htonl(INADDR_ANY);
	}
	a6 = (const struct sockaddr_in6 *)&l->ss;
	b6 = (const struct sockaddr_in6 *)&m->ss;
	return IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr) ||
	    IN6_IS_ADDR_UNSPECIFIED(&b6->sin6_addr);
}

/* Does a routes table hold only gateway specs that parse? */
int
config_check_routes(const struct table *t, char *err, size_t errlen)
{
	struct relay_list	 list;
	char			 e[256];
	size_t			 i;

	for (i = 0; i < t->nentries; i++) {
		const struct table_entry *te = &t->entries[i];
		const char *file = t->path ? t->path : t->conf_file;
		int line = te->line ? te->line : t->conf_line;

		if (te->value == NULL) {
			snprintf(err, errlen, "%s:%d: route \"%s\" has no "
			    "relay", file, line, te->key);
			return -1;
		}
		if (relay_parse_gateway(te->value, &list, e, sizeof(e)) ==
		    -1) {
			snprintf(err, errlen, "%s:%d: route \"%s\": %s", file,
			    line, te->key, e);
			return -1;
		}
		if (relay_apply_options(&list, te->options, e, sizeof(e)) ==
		    -1) {
			relay_list_free(&list);
			snprintf(err, errlen, "%s:%d: route \"%s\": options: "
			    "%s", file, line, te->key, e);
			return -1;
		}
		relay_list_free(&list);
	}
	return 0;
}

/* Credentials: "label user:password". */
int
config_check_secrets(const struct table *t, char *err, size_t errlen)
{
	size_t	i;

	for (i = 0; i < t->nentries; i++) {
		const struct table_entry *te = &t->entries[i];
		const char *file = t->path ? t->path : t->conf_file;
		int line = te->line ? te->line : t->conf_line;

		if (te->value == NULL || strchr(te->value, ':') == NULL ||
		    te->value[0] == ':') {
			snprintf(err, errlen, "%s:%d: credentials for \"%s\" "
			    "must be user:password", file, line, te->key);
			return -1;
		}
	}
	return 0;
}

int
config_check(struct smtpd_config *c)
{
	struct listener	*l, *m;
	struct action	*a;
	struct rule	*r;
	struct pki	*p;
	char		 err[1024];
	int		 errors = 0, npki = 0;

	/* `queue retry 6h` alone raises the backoff cap with it. */
	if (c->queue_retry > c->queue_retry_max)
		c->queue_retry_max = c->queue_retry;
	TAILQ_FOREACH(p, &c->pkis, entry)
		npki++;
	TAILQ_FOREACH(l, &c->listeners, entry) {
		if (!(l->flags & (LISTEN_TLS | LISTEN_SMTPS)) || l->pki != NULL)
			continue;
		l->pki = config_pki(c, l->hostname[0] ? l->hostname :
		    c->hostname);
		if (l->pki == NULL && npki == 1)
			l->pki = TAILQ_FIRST(&c->pkis);
		if (l->pki == NULL) {
			config_error(c->conf_path, l->line, "listen on %s: "
			    "tls needs a pki", l->name);
			errors++;
		}
	}
	TAILQ_FOREACH(l, &c->listeners, entry) {
		for (m = TAILQ_NEXT(l, entry); m != NULL;
		    m = TAILQ_NEXT(m, entry)) {
			if (l->sslen == m->sslen &&
			    memcmp(&l->ss, &m->ss, l->sslen) == 0) {
				config_error(c->conf_path, m->line,
				    "listen on %s port %u: already listening "
				    "there (line %d)", m->name, m->port,
				    l->line);
				errors++;
			} else if (listener_overlap(l, m)) {
				config_error(c->conf_path, m->line,
				    "listen on %s port %u: overlaps the "
				    "wildcard listener of line %d", m->name,
				    m->port, l->line);
				errors++;
			}
		}
		if ((l->flags & (LISTEN_AUTH | LISTEN_AUTH_OPTIONAL)) &&
		    l->auth_table != NULL && l->auth_table->nentries > 0 &&
		    l->auth_table->entries[0].value == NULL) {
			config_error(c->conf_path, l->line, "listen on %s: "
			    "auth table \"%s\" must map users to password "
			    "hashes", l->name, l->auth_table->name);
			errors++;
		}
	}
	TAILQ_FOREACH(a, &c->actions, entry) {
		if (a->routes != NULL &&
		    config_check_routes(a->routes, err, sizeof(err)) == -1) {
			fprintf(stderr, "%s\n", err);
			errors++;
		}
		if (a->auth != NULL &&
		    config_check_secrets(a->auth, err, sizeof(err)) == -1) {
			fprintf(stderr, "%s\n", err);
			errors++;
		}
	}
	TAILQ_FOREACH(r, &c->rules, entry)
		if (!r->reject && r->nactions == 0) {
			config_error(c->conf_path, r->line, "rule has no "
			    "action");
			errors++;
		}
	return errors;
}

const char *
config_method_name(enum action_method m)
{
	switch (m) {
	case A_MAILDIR:
		return "maildir";
	case A_MBOX:
		return "mbox";
	case A_MDA:
		return "mda";
	case A_LMTP:
		return "lmtp";
	case A_RELAY:
		return "relay";
	}
	return "unknown";
}
