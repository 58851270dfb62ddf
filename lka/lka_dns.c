/*
 * DNS lookups for relay routing: c-ares driven by the libevent loop
 * (socket state callback + one timer).  Servers come from `resolver`
 * (with ports, so tests can use dnsmasq on loopback), else resolv.conf.
 * Answers are handled by the pure functions at the end of the file.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <ares.h>
#include <event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "lka_dns.h"
#include "log.h"

#define DNS_MX_MAX	32
#define DNS_ADDR_MAX	32

struct dns_sock {
	ares_socket_t	 fd;
	struct event	 ev;
	int		 used;
};

static ares_channel	 dns_channel;
static int		 dns_ready;
static struct dns_sock	 dns_socks[16];
static struct event	 dns_timer;
static unsigned		 dns_inflight;	/* queries not yet answered */
static int		 dns_stale;	/* a reload changed the resolvers */

struct dns_query {
	dns_mx_cb	 mx_cb;
	dns_host_cb	 host_cb;
	void		*arg;
	char		 name[RELAY_HOST_MAX + 1];
};

static void	dns_timer_update(void);

static void
dns_on_io(int fd, short ev, void *arg)
{
	(void)arg;
	ares_process_fd(dns_channel,
	    (ev & EV_READ) ? fd : ARES_SOCKET_BAD,
	    (ev & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	dns_timer_update();
}

static void
dns_on_timer(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	ares_process_fd(dns_channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	dns_timer_update();
}

static void
dns_timer_update(void)
{
	struct timeval	 tv, *tvp;

	evtimer_del(&dns_timer);
	tvp = ares_timeout(dns_channel, NULL, &tv);
	if (tvp != NULL)
		evtimer_add(&dns_timer, tvp);
}

static void
dns_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns_sock	*s = NULL, *fre = NULL;
	size_t		 i;

	(void)data;
	for (i = 0; i < sizeof(dns_socks) / sizeof(dns_socks[0]); i++) {
		if (dns_socks[i].used && dns_socks[i].fd == fd)
			s = &dns_socks[i];
		else if (!dns_socks[i].used && fre == NULL)
			fre = &dns_socks[i];
	}
	if (s != NULL) {
		event_del(&s->ev);
		s->used = 0;
	}
	if (!readable && !writable)
		return;
	if (s == NULL)
		s = fre;
	if (s == NULL)
		fatalx("lka: too many DNS sockets");
	s->fd = fd;
	s->used = 1;
	event_set(&s->ev, fd, (readable ? EV_READ : 0) |
	    (writable ? EV_WRITE : 0) | EV_PERSIST, dns_on_io, NULL);
	event_add(&s->ev, NULL);
}

void
lka_dns_reload(void)
{
	dns_stale = 1;
	log_debug("lka: resolvers change when no query is in flight");
}

void
lka_dns_init(void)
{
	struct ares_options	 opts;
	char			 csv[1024];
	int			 r;

	/*
	 * After a reload the channel is made again from the new resolver
	 * list, between queries (c-ares cannot change the servers of a
	 * channel with queries pending; none is cut short).
	 */
	if (dns_ready && dns_stale && dns_inflight == 0) {
		evtimer_del(&dns_timer);
		ares_destroy(dns_channel);
		dns_ready = 0;
		log_info("lka event=resolvers-reloaded");
	}
	if (dns_ready)
		return;
	dns_stale = 0;
	if ((r = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS)
		fatalx("lka: ares_library_init: %s", ares_strerror(r));
	memset(&opts, 0, sizeof(opts));
	opts.sock_state_cb = dns_sock_state;
	opts.timeout = 2000;
	opts.tries = 2;
	if ((r = ares_init_options(&dns_channel, &opts, ARES_OPT_SOCK_STATE_CB |
	    ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES)) != ARES_SUCCESS)
		fatalx("lka: ares_init_options: %s", ares_strerror(r));
	if (env != NULL && env->nresolvers > 0) {
		if (lka_dns_servers_csv(env->resolvers, env->nresolvers, csv,
		    sizeof(csv)) == -1)
			fatalx("lka: resolver list too long");
		if ((r = ares_set_servers_ports_csv(dns_channel, csv)) !=
		    ARES_SUCCESS)
			fatalx("lka: resolver %s: %s", csv, ares_strerror(r));
		log_debug("lka: resolvers %s", csv);
	}
	evtimer_set(&dns_timer, dns_on_timer, NULL);
	dns_ready = 1;
}

static void
dns_on_mx(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct dns_query	*q = arg;
	struct ares_mx_reply	*mx = NULL, *m;
	struct dns_mx		 list[DNS_MX_MAX];
	enum dns_status		 st;
	size_t			 n = 0;
	char			 err[512];

	(void)timeouts;
	st = lka_dns_status(status);
	if (st == DNS_OK) {
		status = ares_parse_mx_reply(abuf, alen, &mx);
		st = lka_dns_status(status);
	}
	if (st == DNS_OK) {
		for (m = mx; m != NULL && n < DNS_MX_MAX; m = m->next) {
			if (strlcpy(list[n].host, m->host,
			    sizeof(list[n].host)) >= sizeof(list[n].host))
				continue;
			list[n].pref = m->priority;
			n++;
		}
		ares_free_data(mx);
		if (n == 0)
			st = DNS_NODATA;
	}
	snprintf(err, sizeof(err), "MX %s: %s", q->name,
	    st == DNS_OK ? "ok" : ares_strerror(status));
	if (st == DNS_OK)
		lka_dns_mx_sort(list, n, arc4random_uniform);
	q->mx_cb(st, list, n, err, q->arg);
	free(q);
	dns_inflight--;
}

void
lka_dns_mx(const char *domain, dns_mx_cb cb, void *arg)
{
	struct dns_query	*q;

	lka_dns_init();
	if ((q = calloc(1, sizeof(*q))) == NULL)
		fatal("lka_dns_mx");
	q->mx_cb = cb;
	q->arg = arg;
	strlcpy(q->name, domain, sizeof(q->name));
	dns_inflight++;
	ares_query(dns_channel, domain, ns_c_in, ns_t_mx, dns_on_mx, q);
	dns_timer_update();
}

static void
dns_on_addrinfo(void *arg, int status, int timeouts,
    struct ares_addrinfo *ai)
{
	struct dns_query		*q = arg;
	struct ares_addrinfo_node	*nd;
	char				 bufs[DNS_ADDR_MAX][RELAY_ADDR_MAX + 1];
	char				*addrs[DNS_ADDR_MAX];
	char				 err[512];
	enum dns_status			 st;
	size_t				 n = 0, i;
	const void			*p;

	(void)timeouts;
	st = lka_dns_status(status);
	if (st == DNS_OK && ai != NULL) {
		for (nd = ai->nodes; nd != NULL && n < DNS_ADDR_MAX;
		    nd = nd->ai_next) {
			if (nd->ai_family == AF_INET)
				p = &((struct sockaddr_in *)(void *)
				    nd->ai_addr)->sin_addr;
			else if (nd->ai_family == AF_INET6)
				p = &((struct sockaddr_in6 *)(void *)
				    nd->ai_addr)->sin6_addr;
			else
				continue;
			if (inet_ntop(nd->ai_family, p, bufs[n],
			    sizeof(bufs[n])) == NULL)
				continue;
			for (i = 0; i < n; i++)
				if (strcmp(bufs[i], bufs[n]) == 0)
					break;
			if (i == n) {
				addrs[n] = bufs[n];
				n++;
			}
		}
	}
	if (ai != NULL)
		ares_freeaddrinfo(ai);
	if (st == DNS_OK && n == 0)
		st = DNS_NODATA;
	snprintf(err, sizeof(err), "host %s: %s", q->name,
	    st == DNS_OK ? "ok" : st == DNS_NODATA ? "no address" :
	    ares_strerror(status));
	q->host_cb(st, addrs, n, err, q->arg);
	free(q);
	dns_inflight--;
}

void
lka_dns_host(const char *host, dns_host_cb cb, void *arg)
{
	struct ares_addrinfo_hints	 hints;
	struct dns_query		*q;

	lka_dns_init();
	if ((q = calloc(1, sizeof(*q))) == NULL)
		fatal("lka_dns_host");
	q->host_cb = cb;
	q->arg = arg;
	strlcpy(q->name, host, sizeof(q->name));
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	dns_inflight++;
	ares_getaddrinfo(dns_channel, host, NULL, &hints, dns_on_addrinfo, q);
	dns_timer_update();
}

/* --- pure --- */

enum dns_status
lka_dns_status(int status)
{
	switch (status) {
	case ARES_SUCCESS:
		return DNS_OK;
	case ARES_ENODATA:
		return DNS_NODATA;
	case ARES_ENOTFOUND:
	case ARES_ENONAME:
		return DNS_NXDOMAIN;
	default:
		return DNS_TEMPFAIL;
	}
}

static int
mx_cmp(const void *a, const void *b)
{
	const struct dns_mx *x = a, *y = b;

	return (x->pref > y->pref) - (x->pref < y->pref);
}

void
lka_dns_mx_sort(struct dns_mx *mx, size_t n, uint32_t (*rnd)(uint32_t))
{
	struct dns_mx	 tmp;
	size_t		 i, j, k;

	qsort(mx, n, sizeof(*mx), mx_cmp);
	/* Fisher-Yates inside each run of equal preference */
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && mx[j].pref == mx[i].pref; j++)
			;
		for (k = j - 1; k > i; k--) {
			size_t r = i + rnd((uint32_t)(k - i + 1));
			tmp = mx[k];
			mx[k] = mx[r];
			mx[r] = tmp;
		}
	}
}

int
lka_dns_mx_null(const struct dns_mx *mx, size_t n)
{
	return n == 1 && (mx[0].host[0] == '\0' ||
	    strcmp(mx[0].host, ".") == 0);
}

int
lka_dns_servers_csv(const struct resolver *r, size_t n, char *buf,
    size_t len)
{
	size_t	 i;
	int	 w;
	size_t	 off = 0;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (strchr(r[i].addr, ':') != NULL)
			w = snprintf(buf + off, len - off, "%s[%s]:%u",
			    i ? "," : "", r[i].addr, r[i].port ? r[i].port : 53);
		else
			w = snprintf(buf + off, len - off, "%s%s:%u",
			    i ? "," : "", r[i].addr, r[i].port ? r[i].port : 53);
		if (w < 0 || (size_t)w >= len - off)
			return -1;
		off += (size_t)w;
	}
	return 0;
}
