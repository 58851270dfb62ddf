/*
 * Relay hop parsers: the RELAY URL of smtpd.conf and the seed's
 * GATEWAY-SPEC.  Pure functions: no globals, no I/O; every failure is a
 * message in the caller's err buffer.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "relay.h"

static void	relay_err(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	relay_parse_port(const char *, size_t, uint16_t *);
static int	relay_valid_name(const char *, size_t);
static int	relay_parse_option(const char *, size_t, struct relay_hop *,
		    char *, size_t);

static void
relay_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int
relay_is_address(const char *s)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;

	if (s == NULL)
		return 0;
	return inet_pton(AF_INET, s, &a4) == 1 ||
	    inet_pton(AF_INET6, s, &a6) == 1;
}

const char *
relay_tls_name(enum relay_tls tls)
{
	switch (tls) {
	case RELAY_TLS_DEFAULT:
		return "default";
	case RELAY_TLS_NO:
		return "no";
	case RELAY_TLS_OPPORTUNISTIC:
		return "opportunistic";
	case RELAY_TLS_REQUIRE:
		return "require";
	case RELAY_TLS_SMTPS:
		return "smtps";
	}
	return "unknown";
}

/* A decimal port 1..65535 of exactly len characters. */
static int
relay_parse_port(const char *s, size_t len, uint16_t *port)
{
	unsigned long	v = 0;
	size_t		i;

	if (len == 0 || len > 5)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* A host name: letters, digits, '-', '_', '.', no empty label. */
static int
relay_valid_name(const char *s, size_t len)
{
	size_t	i, lab = 0;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (lab == 0)
				return 0;
			lab = 0;
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_')
			return 0;
		if (++lab > 63)
			return 0;
	}
	return 1;
}

int
relay_parse_url(const char *url, struct relay_hop *hop, char *err,
    size_t errlen)
{
	static const struct {
		const char	*name;
		enum relay_tls	 tls;
	} schemes[] = {
		{ "smtp+notls", RELAY_TLS_NO },
		{ "smtp", RELAY_TLS_OPPORTUNISTIC },
		{ "smtp+tls", RELAY_TLS_REQUIRE },
		{ "smtps", RELAY_TLS_SMTPS },
	};
	const char	*p, *at, *sep, *host, *hend;
	size_t		 i, n, hlen;

	memset(hop, 0, sizeof(*hop));
	hop->tls = RELAY_TLS_DEFAULT;
	if (url == NULL || *url == '\0') {
		relay_err(err, errlen, "empty relay");
		return -1;
	}
	p = url;
	if ((sep = strstr(p, "://")) != NULL) {
		n = (size_t)(sep - p);
		for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
			if (strlen(schemes[i].name) == n &&
			    strncasecmp(schemes[i].name, p, n) == 0)
				break;
		if (i == sizeof(schemes) / sizeof(schemes[0])) {
			relay_err(err, errlen, "unknown scheme \"%.*s\"",
			    (int)(n > 32 ? 32 : n), p);
			return -1;
		}
		hop->tls = schemes[i].tls;
		p = sep + 3;
	}
	if ((at = strchr(p, '@')) != NULL) {
		n = (size_t)(at - p);
		if (n == 0) {
			relay_err(err, errlen, "empty label before '@'");
			return -1;
		}
		if (n > RELAY_LABEL_MAX) {
			relay_err(err, errlen, "label too long");
			return -1;
		}
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)p[i];
			if (!isalnum(c) && c != '-' && c != '_' && c != '.' &&
			    c != '+') {
				relay_err(err, errlen,
				    "invalid character in label");
				return -1;
			}
		}
		memcpy(hop->label, p, n);
		hop->label[n] = '\0';
		p = at + 1;
	}

	if (*p == '[') {
		host = p + 1;
		if ((hend = strchr(host, ']')) == NULL) {
			relay_err(err, errlen, "missing ']' after IPv6 address");
			return -1;
		}
		hlen = (size_t)(hend - host);
		if (hlen == 0 || hlen > RELAY_ADDR_MAX) {
			relay_err(err, errlen, "invalid IPv6 address");
			return -1;
		}
		memcpy(hop->host, host, hlen);
		hop->host[hlen] = '\0';
		{
			struct in6_addr a6;
			if (inet_pton(AF_INET6, hop->host, &a6) != 1) {
				relay_err(err, errlen,
				    "invalid IPv6 address \"%s\"", hop->host);
				return -1;
			}
		}
		p = hend + 1;
	} else {
		host = p;
		hlen = strcspn(p, ":/");
		if (host[hlen] == ':' && strchr(host + hlen + 1, ':') != NULL) {
			relay_err(err, errlen,
			    "IPv6 address must be written in brackets");
			return -1;
		}
		if (hlen == 0) {
			relay_err(err, errlen, "empty host");
			return -1;
		}
		if (hlen > RELAY_HOST_MAX) {
			relay_err(err, errlen, "host name too long");
			return -1;
		}
		if (!relay_valid_name(host, hlen)) {
			relay_err(err, errlen, "invalid host \"%.*s\"",
			    (int)(hlen > 64 ? 64 : hlen), host);
			return -1;
		}
		memcpy(hop->host, host, hlen);
		hop->host[hlen] = '\0';
		p = host + hlen;
	}
	if (*p == ':') {
		p++;
		n = strlen(p);
		if (relay_parse_port(p, n, &hop->port) == -1) {
			relay_err(err, errlen, "invalid port \"%.*s\"",
			    (int)(n > 16 ? 16 : n), p);
			return -1;
		}
		p += n;
	}
	if (*p != '\0') {
		relay_err(err, errlen, "trailing garbage \"%.*s\"",
		    (int)(strlen(p) > 32 ? 32 : strlen(p)), p);
		return -1;
	}
	return 0;
}

/* NeedTLS=0|1|2 or OutBind=ADDR, len characters at s. */
static int
relay_parse_option(const char *s, size_t len, struct relay_hop *hop,
    char *err, size_t errlen)
{
	const char	*eq;
	size_t		 klen, vlen;

	eq = memchr(s, '=', len);
	if (eq == NULL) {
		relay_err(err, errlen, "option \"%.*s\" without '='",
		    (int)(len > 32 ? 32 : len), s);
		return -1;
	}
	klen = (size_t)(eq - s);
	vlen = len - klen - 1;
	if (klen == 7 && strncasecmp(s, "NeedTLS", 7) == 0) {
		if (vlen != 1 || eq[1] < '0' || eq[1] > '2') {
			relay_err(err, errlen, "NeedTLS must be 0, 1 or 2");
			return -1;
		}
		hop->tls = eq[1] == '0' ? RELAY_TLS_NO :
		    eq[1] == '1' ? RELAY_TLS_OPPORTUNISTIC : RELAY_TLS_REQUIRE;
		return 0;
	}
	if (klen == 7 && strncasecmp(s, "OutBind", 7) == 0) {
		char	addr[RELAY_ADDR_MAX + 1];

		if (vlen == 0 || vlen > RELAY_ADDR_MAX) {
			relay_err(err, errlen, "OutBind: invalid address");
			return -1;
		}
		memcpy(addr, eq + 1, vlen);
		addr[vlen] = '\0';
		if (!relay_is_address(addr)) {
			relay_err(err, errlen,
			    "OutBind: \"%s\" is not an address", addr);
			return -1;
		}
		memcpy(hop->src, addr, vlen + 1);
		return 0;
	}
	relay_err(err, errlen, "unknown option \"%.*s\"",
	    (int)(klen > 32 ? 32 : klen), s);
	return -1;
}

/* Trim blanks around [*s, *s + *len). */
static void
relay_trim(const char **s, size_t *len)
{
	while (*len > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

int
relay_parse_hop(const char *s, size_t len, struct relay_hop *hop, char *err,
    size_t errlen)
{
	char		*host;
	const char	*opt, *end = s + len;
	size_t		 hlen, olen;
	int		 r;

	relay_trim(&s, &len);
	end = s + len;
	if (len == 0) {
		relay_err(err, errlen, "empty hop");
		return -1;
	}
	hlen = 0;
	while (hlen < len && s[hlen] != ',')
		hlen++;
	{
		const char *h = s;
		size_t hl = hlen;

		relay_trim(&h, &hl);
		if (hl > RELAY_HOST_MAX + 64) {
			relay_err(err, errlen, "host name too long");
			return -1;
		}
		if ((host = strndup(h, hl)) == NULL) {
			relay_err(err, errlen, "out of memory");
			return -1;
		}
	}
	r = relay_parse_url(host, hop, err, errlen);
	free(host);
	if (r == -1)
		return -1;
	opt = s + hlen;
	while (opt < end) {
		opt++;			/* the ',' */
		olen = 0;
		while (opt + olen < end && opt[olen] != ',')
			olen++;
		{
			const char *o = opt;
			size_t ol = olen;

			relay_trim(&o, &ol);
			if (ol == 0) {
				relay_err(err, errlen, "empty option");
				return -1;
			}
			if (relay_parse_option(o, ol, hop, err, errlen) == -1)
				return -1;
		}
		opt += olen;
	}
	return 0;
}

int
relay_parse_gateway(const char *spec, struct relay_list *list, char *err,
    size_t errlen)
{
	struct relay_list	 tmp;
	struct relay_hop	 hop;
	const char		*p, *semi;
	size_t			 len;

	memset(&tmp, 0, sizeof(tmp));
	if (spec == NULL) {
		relay_err(err, errlen, "empty gateway list");
		return -1;
	}
	p = spec;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '#') {
		tmp.random = 1;
		p++;
	}
	len = strlen(p);
	relay_trim(&p, &len);
	if (len == 0) {
		relay_err(err, errlen, "empty gateway list");
		return -1;
	}
	for (;;) {
		semi = strchr(p, ';');
		len = semi ? (size_t)(semi - p) : strlen(p);
		if (relay_parse_hop(p, len, &hop, err, errlen) == -1) {
			relay_list_free(&tmp);
			return -1;
		}
		relay_list_add(&tmp, &hop);
		if (semi == NULL)
			break;
		p = semi + 1;
	}
	*list = tmp;
	return 0;
}

int
relay_apply_options(struct relay_list *list, const char *options, char *err,
    size_t errlen)
{
	struct relay_hop	 def;
	const char		*p, *comma, *o;
	size_t			 i, len;

	if (options == NULL)
		return 0;
	memset(&def, 0, sizeof(def));
	def.tls = RELAY_TLS_DEFAULT;
	p = options;
	len = strlen(p);
	relay_trim(&p, &len);
	if (len == 0)
		return 0;
	for (;;) {
		comma = memchr(p, ',', len);
		{
			size_t ol = comma ? (size_t)(comma - p) : len;

			o = p;
			relay_trim(&o, &ol);
			if (ol == 0) {
				relay_err(err, errlen, "empty option");
				return -1;
			}
			if (relay_parse_option(o, ol, &def, err, errlen) == -1)
				return -1;
		}
		if (comma == NULL)
			break;
		len -= (size_t)(comma + 1 - p);
		p = comma + 1;
	}
	for (i = 0; i < list->nhops; i++) {
		if (list->hops[i].tls == RELAY_TLS_DEFAULT)
			list->hops[i].tls = def.tls;
		if (list->hops[i].src[0] == '\0')
			memcpy(list->hops[i].src, def.src, sizeof(def.src));
	}
	return 0;
}

int
relay_is_spec(const char *s)
{
	return s != NULL && (strchr(s, ',') != NULL ||
	    strchr(s, ';') != NULL || s[0] == '#');
}

void
relay_list_add(struct relay_list *list, const struct relay_hop *hop)
{
	struct relay_hop	*n;

	n = reallocarray(list->hops, list->nhops + 1, sizeof(*n));
	if (n == NULL)
		abort();
	list->hops = n;
	list->hops[list->nhops++] = *hop;
}

void
relay_list_free(struct relay_list *list)
{
	free(list->hops);
	list->hops = NULL;
	list->nhops = 0;
	list->random = 0;
}
