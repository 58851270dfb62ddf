/*
 * dnsq: ask one DNS server (the tests' dnsmasq on a loopback port) for the
 * MX, A or AAAA records of a name with c-ares, as the daemon's lka will.
 * Prints one answer a line ("MX 10 mx.example.test", "A 127.0.0.2").
 * Exit 0 with answers, 1 on NXDOMAIN or no data, 2 on other errors.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>

#include <ares.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static int	 qtype;
static int	 result = 2;

static void
usage(void)
{
	fprintf(stderr, "usage: dnsq [-s server] -p port [-t MX|A|AAAA] "
	    "[-T sec] name\n");
	exit(2);
}

static void
on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct ares_mx_reply *mx, *m;
	struct ares_addrttl a4[32];
	struct ares_addr6ttl a6[32];
	char addr[INET6_ADDRSTRLEN];
	int n = 32, i, r;

	(void)arg;
	(void)timeouts;
	if (status == ARES_ENOTFOUND) {
		printf("NXDOMAIN\n");
		result = 1;
		return;
	}
	if (status == ARES_ENODATA) {
		printf("NODATA\n");
		result = 1;
		return;
	}
	if (status != ARES_SUCCESS) {
		printf("ERROR %s\n", ares_strerror(status));
		return;
	}
	if (qtype == ns_t_mx) {
		if ((r = ares_parse_mx_reply(abuf, alen, &mx)) != ARES_SUCCESS) {
			printf("%s\n", r == ARES_ENODATA ? "NODATA" : "ERROR");
			result = r == ARES_ENODATA ? 1 : 2;
			return;
		}
		for (m = mx; m; m = m->next)
			printf("MX %u %s\n", m->priority, m->host);
		ares_free_data(mx);
	} else if (qtype == ns_t_a) {
		r = ares_parse_a_reply(abuf, alen, NULL, a4, &n);
		if (r != ARES_SUCCESS || n == 0) {
			printf("NODATA\n");
			result = 1;
			return;
		}
		for (i = 0; i < n; i++)
			printf("A %s\n", inet_ntop(AF_INET, &a4[i].ipaddr,
			    addr, sizeof(addr)));
	} else {
		r = ares_parse_aaaa_reply(abuf, alen, NULL, a6, &n);
		if (r != ARES_SUCCESS || n == 0) {
			printf("NODATA\n");
			result = 1;
			return;
		}
		for (i = 0; i < n; i++)
			printf("AAAA %s\n", inet_ntop(AF_INET6, &a6[i].ip6addr,
			    addr, sizeof(addr)));
	}
	result = 0;
}

int
main(int argc, char **argv)
{
	struct ares_options ao;
	ares_channel ch;
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	struct pollfd pfd[ARES_GETSOCK_MAXNUM];
	const char *server = "127.0.0.1", *port = NULL, *type = "MX";
	char csv[128];
	time_t end;
	int c, timeout = 5, bits, n, i;

	while ((c = getopt(argc, argv, "s:p:t:T:")) != -1) {
		switch (c) {
		case 's': server = optarg; break;
		case 'p': port = optarg; break;
		case 't': type = optarg; break;
		case 'T': timeout = atoi(optarg); break;
		default: usage();
		}
	}
	if (port == NULL || optind != argc - 1 || timeout <= 0)
		usage();
	if (strcasecmp(type, "MX") == 0)
		qtype = ns_t_mx;
	else if (strcasecmp(type, "A") == 0)
		qtype = ns_t_a;
	else if (strcasecmp(type, "AAAA") == 0)
		qtype = ns_t_aaaa;
	else
		usage();
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		return 2;
	memset(&ao, 0, sizeof(ao));
	ao.timeout = 1000;
	ao.tries = 2;
	ao.flags = ARES_FLAG_NOSEARCH;
	if (ares_init_options(&ch, &ao, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	    ARES_OPT_FLAGS) != ARES_SUCCESS)
		return 2;
	snprintf(csv, sizeof(csv), strchr(server, ':') ? "[%s]:%s" : "%s:%s",
	    server, port);
	if (ares_set_servers_ports_csv(ch, csv) != ARES_SUCCESS) {
		fprintf(stderr, "dnsq: bad server %s\n", csv);
		return 2;
	}
	ares_query(ch, argv[optind], ns_c_in, qtype, on_answer, NULL);
	end = time(NULL) + timeout;
	for (;;) {
		bits = ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
		for (n = 0, i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			/* Not c-ares' macros: 1 << 31 in an int is UB. */
			int rd = ((unsigned)bits & (1u << i)) != 0;
			int wr = ((unsigned)bits &
			    (1u << (i + ARES_GETSOCK_MAXNUM))) != 0;

			if (!rd && !wr)
				continue;
			pfd[n].fd = socks[i];
			pfd[n].events = (rd ? POLLIN : 0) | (wr ? POLLOUT : 0);
			pfd[n++].revents = 0;
		}
		if (n == 0)
			break;
		if (time(NULL) >= end) {
			printf("ERROR timeout\n");
			break;
		}
		poll(pfd, n, 100);
		for (i = 0; i < n; i++)
			ares_process_fd(ch,
			    pfd[i].revents & (POLLIN | POLLERR | POLLHUP) ?
			    pfd[i].fd : ARES_SOCKET_BAD,
			    pfd[i].revents & POLLOUT ? pfd[i].fd :
			    ARES_SOCKET_BAD);
		if (n > 0 && !(pfd[0].revents))
			ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	}
	ares_destroy(ch);
	ares_library_cleanup();
	return result;
}
