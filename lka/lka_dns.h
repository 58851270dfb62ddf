/*
 * DNS for routing (c-ares driven by libevent): MX of a domain, the
 * addresses of a host.  The handling of answers (status mapping, MX
 * ordering, null MX) is pure and unit tested.
 */
#ifndef LKA_DNS_H
#define LKA_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "relay.h"

enum dns_status {
	DNS_OK,
	DNS_NODATA,	/* the name exists, no record of that type */
	DNS_NXDOMAIN,	/* the name does not exist */
	DNS_TEMPFAIL	/* SERVFAIL, timeout, refused, ... */
};

struct dns_mx {
	char	 host[RELAY_HOST_MAX + 1];
	int	 pref;
};

typedef void	(*dns_mx_cb)(enum dns_status, const struct dns_mx *, size_t,
		    const char *err, void *arg);
typedef void	(*dns_host_cb)(enum dns_status, char *const *addrs, size_t,
		    const char *err, void *arg);

/* Set up c-ares with env->resolvers (or /etc/resolv.conf). */
void	lka_dns_init(void);
/* A reload changed env->resolvers: the channel follows between queries. */
void	lka_dns_reload(void);
void	lka_dns_mx(const char *domain, dns_mx_cb, void *arg);
/* All A and AAAA addresses of host, numeric. */
void	lka_dns_host(const char *host, dns_host_cb, void *arg);

/* Pure. */
enum dns_status lka_dns_status(int ares_status);
/* Sort by preference, shuffling equal preferences with rnd(n) in
 * [0, n).  */
void	lka_dns_mx_sort(struct dns_mx *, size_t, uint32_t (*rnd)(uint32_t));
/* 1 if the answer is a null MX (RFC 7505): one record, host "" or ".". */
int	lka_dns_mx_null(const struct dns_mx *, size_t);
/* "addr:port,..." for ares_set_servers_ports_csv, IPv6 in brackets. */
int	lka_dns_servers_csv(const struct resolver *, size_t, char *, size_t);

#endif
