/*
 * Encoding of a route hop in IMSG_LKA_ROUTE_RESULT.  Reading checks
 * every length: a field too long for its buffer fails the message.
 */
#include <string.h>

#include "route.h"

void
route_hop_add(struct mbuild *m, const struct route_hop *h)
{
	m_add_str(m, h->addr);
	m_add_str(m, h->host);
	m_add_u32(m, h->port);
	m_add_u32(m, (uint32_t)h->tls);
	m_add_u32(m, (uint32_t)h->no_verify);
	m_add_str(m, h->src);
	m_add_str(m, h->label);
	m_add_str(m, h->auth_user);
	m_add_str(m, h->auth_pass);
	m_add_str(m, h->helo);
	m_add_str(m, h->ca_file);
}

static int
get_str(struct mreader *r, char *dst, size_t dstlen)
{
	const char	*s;

	if (m_get_str(r, &s) == -1)
		return -1;
	if (strlcpy(dst, s, dstlen) >= dstlen) {
		r->error = 1;
		return -1;
	}
	return 0;
}

int
route_hop_get(struct mreader *r, struct route_hop *h)
{
	uint32_t	 port, tls, nv;

	memset(h, 0, sizeof(*h));
	if (get_str(r, h->addr, sizeof(h->addr)) == -1 ||
	    get_str(r, h->host, sizeof(h->host)) == -1 ||
	    m_get_u32(r, &port) == -1 || m_get_u32(r, &tls) == -1 ||
	    m_get_u32(r, &nv) == -1 ||
	    get_str(r, h->src, sizeof(h->src)) == -1 ||
	    get_str(r, h->label, sizeof(h->label)) == -1 ||
	    get_str(r, h->auth_user, sizeof(h->auth_user)) == -1 ||
	    get_str(r, h->auth_pass, sizeof(h->auth_pass)) == -1 ||
	    get_str(r, h->helo, sizeof(h->helo)) == -1 ||
	    get_str(r, h->ca_file, sizeof(h->ca_file)) == -1)
		return -1;
	if (port == 0 || port > 65535 || tls < RELAY_TLS_NO ||
	    tls > RELAY_TLS_SMTPS) {
		r->error = 1;
		return -1;
	}
	h->port = (uint16_t)port;
	h->tls = (enum relay_tls)tls;
	h->no_verify = nv != 0;
	return 0;
}
