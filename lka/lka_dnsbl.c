/*
 * DNS blocklists (`smtp dnsbl`): at connect, one A query per zone for
 * the client's reversed IPv4 octets or IPv6 nibbles, over c-ares driven
 * by libevent, with the resolvers of `resolver`.  The whole check is
 * time-boxed; a timeout or a DNS failure never refuses a client.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>

#include <ares.h>
#include <event.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "lka_policy.h"
#include "log.h"

#define DNSBL_DEADLINE		5	/* seconds for the whole check */
#define DNSBL_MAXFD		16

struct dnsbl_req {
	uint32_t	 peerid;
	lka_dnsbl_cb	 cb;
	int		 pending;
	int		 answered;
	struct event	 deadline;
	char		 addr[64];
};

struct dnsbl_query {
	struct dnsbl_req	*req;
	const char		*zone;
};

static ares_channel	 channel;
static int		 channel_ok;
static int		 channel_failed;
static unsigned		 dnsbl_inflight;	/* queries not answered */
static int		 dnsbl_stale;		/* a reload: new resolvers */
static struct event	 ev_tick;
static struct {
	int		 fd;
	struct event	 ev;
	short		 what;
} fds[DNSBL_MAXFD];

int
lka_dnsbl_name(const char *addr, const char *zone, char *out,
    size_t outlen)
{
	unsigned char	 b[16];
	char		*p = out;
	size_t		 left = outlen;
	int		 i, n;

	if (inet_pton(AF_INET, addr, b) == 1) {
		n = snprintf(out, outlen, "%u.%u.%u.%u.%s", b[3], b[2], b[1],
		    b[0], zone);
		return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
	}
	if (inet_pton(AF_INET6, addr, b) != 1)
		return -1;
	for (i = 15; i >= 0; i--) {
		n = snprintf(p, left, "%x.%x.", b[i] & 0xf, b[i] >> 4);
		if (n < 0 || (size_t)n >= left)
			return -1;
		p += n;
		left -= (size_t)n;
	}
	n = snprintf(p, left, "%s", zone);
	return (n < 0 || (size_t)n >= left) ? -1 : 0;
}

static void	dnsbl_tick(int, short, void *);

static void
dnsbl_schedule(void)
{
	struct timeval	 tv, *tvp;

	evtimer_del(&ev_tick);
	tvp = ares_timeout(channel, NULL, &tv);
	if (tvp != NULL)
		evtimer_add(&ev_tick, tvp);
}

static void
dnsbl_on_fd(int fd, short ev, void *arg)
{
	(void)arg;
	ares_process_fd(channel, (ev & EV_READ) ? fd : ARES_SOCKET_BAD,
	    (ev & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	dnsbl_schedule();
}

static void
dnsbl_tick(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	dnsbl_schedule();
}

/* c-ares tells which sockets to watch. */
static void
dnsbl_sock_state(void *data, ares_socket_t s, int readable, int writable)
{
	int	 i, slot = -1;
	short	 what;

	(void)data;
	for (i = 0; i < DNSBL_MAXFD; i++) {
		if (fds[i].fd == s && fds[i].what) {
			slot = i;
			break;
		}
		if (slot == -1 && fds[i].what == 0)
			slot = i;
	}
	if (slot == -1) {
		log_warnx("lka dnsbl: too many sockets");
		return;
	}
	if (fds[slot].what)
		event_del(&fds[slot].ev);
	what = (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0);
	fds[slot].fd = s;
	fds[slot].what = what;
	if (what) {
		event_set(&fds[slot].ev, s, what | EV_PERSIST, dnsbl_on_fd,
		    NULL);
		event_add(&fds[slot].ev, NULL);
	}
}

void
lka_dnsbl_init(void)
{
	struct ares_options	 opts;
	char			 csv[1024] = "", one[128];
	size_t			 i;
	int			 r;

	/* once, when the first config with zones is seen (at start, or
	 * lazily after a reload added some) */
	if (channel_ok || channel_failed || env->ndnsbl == 0)
		return;
	evtimer_set(&ev_tick, dnsbl_tick, NULL);
	if ((r = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS)
		fatalx("lka dnsbl: ares_library_init: %s", ares_strerror(r));
	memset(&opts, 0, sizeof(opts));
	opts.sock_state_cb = dnsbl_sock_state;
	opts.timeout = 1500;
	opts.tries = 2;
	r = ares_init_options(&channel, &opts, ARES_OPT_SOCK_STATE_CB |
	    ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (r != ARES_SUCCESS) {
		log_warnx("lka dnsbl: ares_init_options: %s",
		    ares_strerror(r));
		channel_failed = 1;
		return;
	}
	for (i = 0; i < env->nresolvers; i++) {
		const struct resolver *rs = &env->resolvers[i];

		if (strchr(rs->addr, ':') != NULL)
			snprintf(one, sizeof(one), "%s[%s]:%u", i ? "," : "",
			    rs->addr, rs->port ? rs->port : 53);
		else
			snprintf(one, sizeof(one), "%s%s:%u", i ? "," : "",
			    rs->addr, rs->port ? rs->port : 53);
		strlcat(csv, one, sizeof(csv));
	}
	if (csv[0] && (r = ares_set_servers_ports_csv(channel, csv)) !=
	    ARES_SUCCESS)
		log_warnx("lka dnsbl: resolvers \"%s\": %s", csv,
		    ares_strerror(r));
	channel_ok = 1;
}

static void
dnsbl_answer(struct dnsbl_req *req, const char *zone)
{
	if (req->answered)
		return;
	req->answered = 1;
	evtimer_del(&req->deadline);
	if (zone)
		log_info("lka event=dnsbl-listed address=%s zone=%s",
		    req->addr, zone);
	req->cb(req->peerid, zone);
}

static void
dnsbl_release(struct dnsbl_req *req)
{
	if (req->pending == 0 && req->answered)
		free(req);
}

static void
dnsbl_on_deadline(int fd, short ev, void *arg)
{
	struct dnsbl_req	*req = arg;

	(void)fd;
	(void)ev;
	log_info("lka event=dnsbl-timeout address=%s", req->addr);
	dnsbl_answer(req, NULL);
	dnsbl_release(req);
}

static void
dnsbl_on_answer(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct dnsbl_query	*q = arg;
	struct dnsbl_req	*req = q->req;
	struct ares_addrttl	 addrs[8];
	int			 naddrs = 8, i, listed = 0;

	(void)timeouts;
	if (status == ARES_SUCCESS &&
	    ares_parse_a_reply(abuf, alen, NULL, addrs, &naddrs) ==
	    ARES_SUCCESS) {
		for (i = 0; i < naddrs; i++)
			if ((ntohl(addrs[i].ipaddr.s_addr) >> 24) == 127)
				listed = 1;
	} else if (status != ARES_SUCCESS && status != ARES_ENOTFOUND &&
	    status != ARES_EDESTRUCTION)
		log_debug("lka event=dnsbl-error address=%s zone=%s "
		    "error=\"%s\"", req->addr, q->zone, ares_strerror(status));
	req->pending--;
	dnsbl_inflight--;
	if (listed)
		dnsbl_answer(req, q->zone);
	else if (req->pending == 0)
		dnsbl_answer(req, NULL);
	free(q);
	dnsbl_release(req);
}

void
lka_dnsbl_reload(void)
{
	dnsbl_stale = 1;
}

void
lka_dnsbl_check(uint32_t peerid, const char *addr, lka_dnsbl_cb cb)
{
	struct dnsbl_req	*req;
	struct dnsbl_query	*q;
	struct timeval		 tv = { DNSBL_DEADLINE, 0 };
	char			 name[NS_MAXDNAME];
	size_t			 i;

	/* After a reload, a channel with the new resolvers, between
	 * queries (c-ares cannot change servers with queries pending). */
	if (dnsbl_stale && dnsbl_inflight == 0) {
		if (channel_ok) {
			evtimer_del(&ev_tick);
			ares_destroy(channel);
		}
		channel_ok = channel_failed = dnsbl_stale = 0;
	}
	if (!channel_ok)
		lka_dnsbl_init();
	if (!channel_ok) {
		cb(peerid, NULL);
		return;
	}
	if ((req = calloc(1, sizeof(*req))) == NULL)
		fatal("lka_dnsbl_check");
	req->peerid = peerid;
	req->cb = cb;
	strlcpy(req->addr, addr, sizeof(req->addr));
	evtimer_set(&req->deadline, dnsbl_on_deadline, req);
	evtimer_add(&req->deadline, &tv);
	req->pending++;		/* held while queries are sent: c-ares may
				 * answer some at once */
	for (i = 0; i < env->ndnsbl; i++) {
		if (lka_dnsbl_name(addr, env->dnsbl[i], name,
		    sizeof(name)) == -1)
			continue;
		if ((q = calloc(1, sizeof(*q))) == NULL)
			fatal("lka_dnsbl_check");
		q->req = req;
		q->zone = env->dnsbl[i];
		req->pending++;
		dnsbl_inflight++;
		ares_query(channel, name, ns_c_in, ns_t_a, dnsbl_on_answer, q);
	}
	if (--req->pending == 0) {
		dnsbl_answer(req, NULL);
		dnsbl_release(req);
		return;
	}
	dnsbl_schedule();
}
