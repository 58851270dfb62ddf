/*
 * A resolved route hop, as lka sends it to mta in IMSG_LKA_ROUTE_RESULT
 * (proto.h gives the field order; route_hop_add / route_hop_get write and
 * read exactly that order), and as `smtpctl show route` prints it.
 */
#ifndef SMTPD_ROUTE_H
#define SMTPD_ROUTE_H

#include <limits.h>
#include <stdint.h>

#include "imsg.h"
#include "relay.h"

#define ROUTE_CRED_MAX	256
#define ROUTE_HELO_MAX	256

struct route_hop {
	char		 addr[RELAY_ADDR_MAX + 1];	/* numeric */
	char		 host[RELAY_HOST_MAX + 1];	/* name for TLS, logs */
	uint16_t	 port;
	enum relay_tls	 tls;		/* never RELAY_TLS_DEFAULT here */
	int		 no_verify;
	char		 src[RELAY_ADDR_MAX + 1];	/* "" : any */
	char		 label[RELAY_LABEL_MAX + 1];
	char		 auth_user[ROUTE_CRED_MAX];	/* "" : no AUTH */
	char		 auth_pass[ROUTE_CRED_MAX];
	char		 helo[ROUTE_HELO_MAX];
	char		 ca_file[PATH_MAX];		/* "" : system store */
};

/* Append the hop's fields to m (proto.h order). */
void	route_hop_add(struct mbuild *, const struct route_hop *);
/* Read one hop; -1 on a malformed message or an overlong field. */
int	route_hop_get(struct mreader *, struct route_hop *);

#endif
