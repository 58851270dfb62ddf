/*
 * Envelope text form: "key: value" lines, first "version: 1".  Values are
 * escaped (\\, \n, \r, \xHH for other control bytes) so that no value can
 * break a line.  envelope_load is pure and strict: unknown, duplicate or
 * missing required keys, bad numbers and bad escapes are errors.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"

enum ekind { K_VERSION, K_ID, K_TYPE, K_STR, K_UINT, K_U64, K_TIME, K_RET };

struct ekey {
	const char	*name;
	enum ekind	 kind;
	size_t		 off;		/* offset in struct envelope */
	size_t		 size;		/* for K_STR */
	int		 required;
};

#define ES(n, f, r)	{ n, K_STR, offsetof(struct envelope, f), \
			  sizeof(((struct envelope *)0)->f), r }
#define EN(n, k, f)	{ n, k, offsetof(struct envelope, f), 0, 0 }

static const struct ekey ekeys[] = {
	{ "version", K_VERSION, 0, 0, 1 },
	{ "id", K_ID, offsetof(struct envelope, id), 0, 1 },
	{ "type", K_TYPE, offsetof(struct envelope, type), 0, 1 },
	ES("action", action, 1),
	ES("sender", sender, 1),
	ES("rcpt", rcpt, 1),
	ES("orig-rcpt", orig_rcpt, 0),
	ES("user", user, 0),
	ES("helo", helo, 0),
	ES("client-addr", client_addr, 0),
	ES("auth-user", auth_user, 0),
	ES("listener-tag", listener_tag, 0),
	EN("flags", K_UINT, flags),
	EN("dsn-notify", K_UINT, dsn_notify),
	EN("dsn-ret", K_RET, dsn_ret),
	ES("dsn-envid", dsn_envid, 0),
	ES("dsn-orcpt", dsn_orcpt, 0),
	EN("size", K_U64, size),
	EN("creation", K_TIME, creation),
	EN("lasttry", K_TIME, lasttry),
	EN("nexttry", K_TIME, nexttry),
	EN("lastwarn", K_TIME, lastwarn),
	EN("retries", K_UINT, retries),
	ES("errorline", errorline, 0),
	ES("lasthop", lasthop, 0),
};
#define NKEYS	(sizeof(ekeys) / sizeof(ekeys[0]))

static const char *type_names[] = { "mta", "mda", "bounce" };
static const char *ret_names[] = { "default", "full", "hdrs" };

const char *
evpid_str(uint64_t id, char buf[17])
{
	snprintf(buf, 17, "%016" PRIx64, id);
	return buf;
}

int
evpid_parse(const char *s, uint64_t *id)
{
	uint64_t	 v = 0;
	int		 i;

	for (i = 0; i < 16; i++) {
		char	 c = s[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -1;
		v = (v << 4) | d;
	}
	if (s[16] != '\0')
		return -1;
	*id = v;
	return 0;
}

static void
dump_value(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\\')
			buf_add(out, "\\\\", 2);
		else if (c == '\n')
			buf_add(out, "\\n", 2);
		else if (c == '\r')
			buf_add(out, "\\r", 2);
		else if (c < 0x20 || c == 0x7f) {
			buf_add(out, "\\x", 2);
			buf_addc(out, hex[c >> 4]);
			buf_addc(out, hex[c & 15]);
		} else
			buf_addc(out, (char)c);
	}
}

void
envelope_dump(const struct envelope *e, struct buf *out)
{
	const char	*base = (const char *)e;
	char		 idbuf[17];
	size_t		 i;

	for (i = 0; i < NKEYS; i++) {
		const struct ekey *k = &ekeys[i];
		const void *p = base + k->off;

		buf_addstr(out, k->name);
		buf_add(out, ": ", 2);
		switch (k->kind) {
		case K_VERSION:
			buf_printf(out, "%d", ENVELOPE_VERSION);
			break;
		case K_ID:
			buf_addstr(out, evpid_str(e->id, idbuf));
			break;
		case K_TYPE:
			buf_addstr(out, (unsigned)e->type < 3 ?
			    type_names[e->type] : "invalid");
			break;
		case K_RET:
			buf_addstr(out, (unsigned)e->dsn_ret < 3 ?
			    ret_names[e->dsn_ret] : "invalid");
			break;
		case K_STR:
			dump_value(out, p);
			break;
		case K_UINT:
			buf_printf(out, "%u", *(const unsigned *)p);
			break;
		case K_U64:
			buf_printf(out, "%" PRIu64, *(const uint64_t *)p);
			break;
		case K_TIME:
			buf_printf(out, "%lld", (long long)*(const time_t *)p);
			break;
		}
		buf_addc(out, '\n');
	}
}

static int
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Unescape v[0..n) into dst (size dstsize, NUL-terminated). */
static int
load_str(char *dst, size_t dstsize, const char *v, size_t n)
{
	size_t	 i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '\\') {
			if (++i >= n)
				return -1;
			switch (v[i]) {
			case '\\':
				c = '\\';
				break;
			case 'n':
				c = '\n';
				break;
			case 'r':
				c = '\r';
				break;
			case 'x': {
				int	 hi, lo;

				if (i + 2 >= n)
					return -1;
				if ((hi = hexval(v[i + 1])) == -1 ||
				    (lo = hexval(v[i + 2])) == -1)
					return -1;
				c = (unsigned char)(hi << 4 | lo);
				if (c == 0)
					return -1;
				i += 2;
				break;
			}
			default:
				return -1;
			}
		} else if (c < 0x20 || c == 0x7f)
			return -1;
		if (o + 1 >= dstsize)
			return -1;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

static int
load_u64(const char *v, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t r = 0;
	size_t	 i;

	if (n == 0 || n > 20)
		return -1;
	if (n > 1 && v[0] == '0')
		return -1;
	for (i = 0; i < n; i++) {
		unsigned d;

		if (v[i] < '0' || v[i] > '9')
			return -1;
		d = (unsigned)(v[i] - '0');
		if (r > (max - d) / 10)
			return -1;
		r = r * 10 + d;
	}
	*out = r;
	return 0;
}

static int
load_enum(const char *v, size_t n, const char **names, size_t nnames)
{
	size_t	 i;

	for (i = 0; i < nnames; i++)
		if (strlen(names[i]) == n && memcmp(names[i], v, n) == 0)
			return (int)i;
	return -1;
}

int
envelope_load(struct envelope *e, const char *text, size_t len, char *err,
    size_t errlen)
{
	char		*base = (char *)e;
	unsigned char	 seen[NKEYS];
	const char	*p = text, *end = text + len;
	size_t		 i, lineno = 0;

	memset(e, 0, sizeof(*e));
	memset(seen, 0, sizeof(seen));
	while (p < end) {
		const char	*nl, *colon, *v;
		size_t		 klen, vlen;
		const struct ekey *k = NULL;
		uint64_t	 u;
		int		 x;

		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if ((colon = memchr(p, ':', (size_t)(nl - p))) == NULL)
			return seterr(err, errlen, "line %zu: no colon",
			    lineno);
		klen = (size_t)(colon - p);
		if (colon + 1 >= nl || colon[1] != ' ')
			return seterr(err, errlen,
			    "line %zu: expected \": \"", lineno);
		v = colon + 2;
		vlen = (size_t)(nl - v);
		for (i = 0; i < NKEYS; i++)
			if (strlen(ekeys[i].name) == klen &&
			    memcmp(ekeys[i].name, p, klen) == 0) {
				k = &ekeys[i];
				break;
			}
		if (k == NULL)
			return seterr(err, errlen, "line %zu: unknown key",
			    lineno);
		if (seen[i])
			return seterr(err, errlen, "duplicate key %s",
			    k->name);
		seen[i] = 1;
		if (lineno == 1 && k->kind != K_VERSION)
			return seterr(err, errlen,
			    "first line is not version");
		switch (k->kind) {
		case K_VERSION:
			if (load_u64(v, vlen, UINT32_MAX, &u) == -1 ||
			    u != ENVELOPE_VERSION)
				return seterr(err, errlen,
				    "unsupported version");
			break;
		case K_ID:
			if (vlen != 16) {
				return seterr(err, errlen, "bad id");
			} else {
				char	 idb[17];

				memcpy(idb, v, 16);
				idb[16] = '\0';
				if (evpid_parse(idb, &e->id) == -1)
					return seterr(err, errlen, "bad id");
			}
			break;
		case K_TYPE:
			if ((x = load_enum(v, vlen, type_names, 3)) == -1)
				return seterr(err, errlen, "bad type");
			e->type = (enum envelope_type)x;
			break;
		case K_RET:
			if ((x = load_enum(v, vlen, ret_names, 3)) == -1)
				return seterr(err, errlen, "bad dsn-ret");
			e->dsn_ret = (enum dsn_ret)x;
			break;
		case K_STR:
			if (load_str(base + k->off, k->size, v, vlen) == -1)
				return seterr(err, errlen,
				    "bad or too long value for %s", k->name);
			break;
		case K_UINT:
			if (load_u64(v, vlen, UINT_MAX, &u) == -1)
				return seterr(err, errlen, "bad number for %s",
				    k->name);
			*(unsigned *)(void *)(base + k->off) = (unsigned)u;
			break;
		case K_U64:
			if (load_u64(v, vlen, UINT64_MAX, &u) == -1)
				return seterr(err, errlen, "bad number for %s",
				    k->name);
			*(uint64_t *)(void *)(base + k->off) = u;
			break;
		case K_TIME:
			if (load_u64(v, vlen, INT64_MAX, &u) == -1)
				return seterr(err, errlen, "bad number for %s",
				    k->name);
			*(time_t *)(void *)(base + k->off) = (time_t)u;
			break;
		}
		p = nl < end ? nl + 1 : end;
	}
	for (i = 0; i < NKEYS; i++)
		if (ekeys[i].required && !seen[i])
			return seterr(err, errlen, "missing key %s",
			    ekeys[i].name);
	return 0;
}
