/*
 * RFC 5321 mailbox and path parser, UTF-8 validation and RFC 3461 xtext
 * decoding.  Everything here is pure; see addr.h for the contract and
 * regress/smtp/t_addr.c, regress/fuzz/fuzz_addr.c for the tests.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "addr.h"

struct scan {
	const unsigned char	*s;
	size_t			 len;
	size_t			 pos;
	int			 flags;
};

static int
is_atext(unsigned char c, int utf8)
{
	if (c >= 0x80)
		return utf8;
	if (isalnum(c))
		return 1;
	return strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL && c != '\0';
}

static int
is_letdig(unsigned char c, int utf8)
{
	if (c >= 0x80)
		return utf8;
	return isalnum(c);
}

int
addr_utf8_valid(const char *p, size_t len)
{
	const unsigned char	*s = (const unsigned char *)p;
	size_t			 i = 0, n, k;
	uint32_t		 cp, min;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			n = 1;
			cp = s[i] & 0x1f;
			min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = s[i] & 0x0f;
			min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			n = 3;
			cp = s[i] & 0x07;
			min = 0x10000;
		} else
			return 0;
		if (n > len - i - 1)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* Local part at sc->pos: dot-atom or quoted string. */
static int
scan_local(struct scan *sc, struct mailaddr *ma)
{
	size_t	 start = sc->pos, n;
	int	 utf8 = sc->flags & ADDR_UTF8;

	if (sc->pos < sc->len && sc->s[sc->pos] == '"') {
		sc->pos++;
		for (;;) {
			unsigned char c;

			if (sc->pos >= sc->len)
				return ADDR_ESYNTAX;
			c = sc->s[sc->pos];
			if (c == '"')
				break;
			if (c == '\\') {
				if (sc->pos + 1 >= sc->len)
					return ADDR_ESYNTAX;
				c = sc->s[sc->pos + 1];
				if (c < 32 || c > 126)
					return ADDR_ESYNTAX;
				sc->pos += 2;
				continue;
			}
			if (c >= 0x80) {
				if (!utf8)
					return ADDR_ESYNTAX;
			} else if (c < 32 || c == 127)
				return ADDR_ESYNTAX;
			sc->pos++;
		}
		sc->pos++;	/* closing quote */
	} else {
		for (;;) {
			n = sc->pos;
			while (sc->pos < sc->len &&
			    is_atext(sc->s[sc->pos], utf8))
				sc->pos++;
			if (sc->pos == n)
				return ADDR_ESYNTAX;	/* empty atom */
			if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
				sc->pos++;
				continue;
			}
			break;
		}
	}
	n = sc->pos - start;
	if (n > (utf8 ? sizeof(ma->local) - 1 : ADDR_LOCAL_MAX))
		return ADDR_ELENGTH;
	memcpy(ma->local, sc->s + start, n);
	ma->local[n] = '\0';
	return ADDR_OK;
}

static int
check_literal(const char *lit, size_t n)
{
	char		 tmp[64];
	unsigned char	 sa[16];

	if (n >= sizeof(tmp))
		return ADDR_ESYNTAX;
	memcpy(tmp, lit, n);
	tmp[n] = '\0';
	if (n > 5 && strncasecmp(tmp, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, tmp + 5, sa) == 1 ? ADDR_OK :
		    ADDR_ESYNTAX;
	return inet_pton(AF_INET, tmp, sa) == 1 ? ADDR_OK : ADDR_ESYNTAX;
}

/* Domain at sc->pos: dotted labels or an address literal. */
static int
scan_domain(struct scan *sc, char *out, size_t outlen, int *literal)
{
	size_t	 start = sc->pos, n, lstart;
	int	 utf8 = sc->flags & ADDR_UTF8;

	*literal = 0;
	if (sc->pos < sc->len && sc->s[sc->pos] == '[') {
		sc->pos++;
		while (sc->pos < sc->len && sc->s[sc->pos] != ']') {
			if (sc->s[sc->pos] < 33 || sc->s[sc->pos] > 126 ||
			    sc->s[sc->pos] == '[' || sc->s[sc->pos] == '\\')
				return ADDR_ESYNTAX;
			sc->pos++;
		}
		if (sc->pos >= sc->len)
			return ADDR_ESYNTAX;
		if (check_literal((const char *)sc->s + start + 1,
		    sc->pos - start - 1) != ADDR_OK)
			return ADDR_ESYNTAX;
		sc->pos++;
		*literal = 1;
	} else {
		for (;;) {
			lstart = sc->pos;
			if (sc->pos >= sc->len ||
			    !is_letdig(sc->s[sc->pos], utf8))
				return ADDR_ESYNTAX;
			while (sc->pos < sc->len &&
			    (is_letdig(sc->s[sc->pos], utf8) ||
			    sc->s[sc->pos] == '-'))
				sc->pos++;
			if (sc->s[sc->pos - 1] == '-')
				return ADDR_ESYNTAX;
			if (sc->pos - lstart > 63)
				return ADDR_ELENGTH;
			if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
				sc->pos++;
				continue;
			}
			break;
		}
	}
	n = sc->pos - start;
	if (n > ADDR_DOMAIN_MAX || n >= outlen)
		return ADDR_ELENGTH;
	memcpy(out, sc->s + start, n);
	out[n] = '\0';
	return ADDR_OK;
}

static int
scan_mailbox(struct scan *sc, struct mailaddr *ma)
{
	int	 r;

	if ((r = scan_local(sc, ma)) != ADDR_OK)
		return r;
	if (sc->pos >= sc->len || sc->s[sc->pos] != '@')
		return ADDR_ESYNTAX;
	sc->pos++;
	return scan_domain(sc, ma->domain, sizeof(ma->domain),
	    &ma->domain_literal);
}

/* Octets >= 0x80: refused without SMTPUTF8, checked with it. */
static int
check_8bit(const char *s, size_t len, int flags, struct mailaddr *ma)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			break;
	if (i == len)
		return ADDR_OK;
	if (!(flags & ADDR_UTF8))
		return ADDR_E8BIT;
	if (!addr_utf8_valid(s, len))
		return ADDR_ESYNTAX;
	ma->utf8 = 1;
	return ADDR_OK;
}

int
addr_parse_mailbox(const char *s, size_t len, int flags,
    struct mailaddr *ma)
{
	struct scan	 sc;
	int		 r;

	memset(ma, 0, sizeof(*ma));
	if ((r = check_8bit(s, len, flags, ma)) != ADDR_OK)
		return r;
	sc.s = (const unsigned char *)s;
	sc.len = len;
	sc.pos = 0;
	sc.flags = flags;
	if ((r = scan_mailbox(&sc, ma)) != ADDR_OK)
		goto fail;
	if (sc.pos != len) {
		r = ADDR_ESYNTAX;
		goto fail;
	}
	return ADDR_OK;
fail:
	memset(ma, 0, sizeof(*ma));
	return r;
}

int
addr_parse_path(const char *s, size_t len, int flags, int allow_null,
    int allow_postmaster, struct mailaddr *ma)
{
	struct scan	 sc;
	char		 dom[ADDR_DOMAIN_MAX + 1];
	int		 r, lit;

	memset(ma, 0, sizeof(*ma));
	if (len > ADDR_PATH_MAX * ((flags & ADDR_UTF8) ? 2 : 1))
		return ADDR_ELENGTH;
	if (len < 2 || s[0] != '<' || s[len - 1] != '>')
		return ADDR_ESYNTAX;
	if ((r = check_8bit(s, len, flags, ma)) != ADDR_OK)
		return r;
	if (len == 2)
		return allow_null ? ADDR_OK : ADDR_ESYNTAX;
	if (allow_postmaster && len == 12 &&
	    strncasecmp(s + 1, "postmaster", 10) == 0) {
		memcpy(ma->local, s + 1, 10);
		ma->local[10] = '\0';
		return ADDR_OK;
	}
	sc.s = (const unsigned char *)s;
	sc.len = len - 1;	/* without '>' */
	sc.pos = 1;
	sc.flags = flags;
	if (sc.s[sc.pos] == '@') {
		/* A-d-l: "@" domain *("," "@" domain) ":" -- ignored */
		for (;;) {
			sc.pos++;
			if ((r = scan_domain(&sc, dom, sizeof(dom), &lit)) !=
			    ADDR_OK)
				goto fail;
			if (sc.pos < sc.len && sc.s[sc.pos] == ',') {
				sc.pos++;
				if (sc.pos >= sc.len || sc.s[sc.pos] != '@') {
					r = ADDR_ESYNTAX;
					goto fail;
				}
				continue;
			}
			break;
		}
		if (sc.pos >= sc.len || sc.s[sc.pos] != ':') {
			r = ADDR_ESYNTAX;
			goto fail;
		}
		sc.pos++;
	}
	if ((r = scan_mailbox(&sc, ma)) != ADDR_OK)
		goto fail;
	if (sc.pos != sc.len) {
		r = ADDR_ESYNTAX;
		goto fail;
	}
	return ADDR_OK;
fail:
	memset(ma, 0, sizeof(*ma));
	return r;
}

int
addr_format(const struct mailaddr *ma, char *out, size_t outlen)
{
	size_t	 l = strlen(ma->local), d = strlen(ma->domain);

	if (outlen == 0)
		return -1;
	if (l == 0 && d == 0) {
		out[0] = '\0';
		return 0;
	}
	if (d == 0) {
		if (l + 1 > outlen)
			return -1;
		memcpy(out, ma->local, l + 1);
		return 0;
	}
	if (l + 1 + d + 1 > outlen)
		return -1;
	memcpy(out, ma->local, l);
	out[l] = '@';
	memcpy(out + l + 1, ma->domain, d + 1);
	return 0;
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;	/* RFC 3461: upper case hex only */
}

long
addr_xtext_decode(const char *in, size_t len, char *out, size_t outlen)
{
	size_t	 i, o = 0;
	int	 hi, lo, bad = 0;

	if (outlen == 0)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '+') {
			if (i + 2 >= len)
				return -1;
			hi = hexval((unsigned char)in[i + 1]);
			lo = hexval((unsigned char)in[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			if (c == '\r' || c == '\n' || c == '\0')
				bad = 1;
			i += 2;
		} else if (c < 33 || c > 126 || c == '=')
			return -1;
		if (o + 1 >= outlen)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return bad ? -2 : (long)o;
}
