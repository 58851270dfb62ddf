/*
 * Tables: inline lists and maps, `file:` (key [:] [value]) and `xmail:`
 * (XMail TAB-separated quoted fields).  A file loads all-or-nothing: on
 * the first bad line the table keeps its old entries and err says
 * FILE:LINE: why.  Lookups are case-insensitive; glob routes keep order.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "table.h"

#define TABLE_LINE_MAX	65536

static void	table_err(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	table_parse_file_line(struct table *, char *, int, char *,
		    size_t, int *);
static int	table_parse_xmail_line(struct table *, char *, int, char *,
		    size_t);
static char	*table_xstrdup(const char *);
static int	table_parse_cidr(const char *, int *, unsigned char *, int *);
static size_t	table_hash(const char *);
static void	table_index_add(struct table *, size_t);
static void	table_index_build(struct table *);

static void
table_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static char *
table_xstrdup(const char *s)
{
	char	*p;

	if (s == NULL)
		return NULL;
	if ((p = strdup(s)) == NULL)
		abort();
	return p;
}

struct table *
table_new(const char *name, enum table_backend backend, const char *path)
{
	struct table	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		abort();
	snprintf(t->name, sizeof(t->name), "%s", name ? name : "");
	t->backend = backend;
	t->path = table_xstrdup(path);
	return t;
}

/* FNV-1a of the lower-cased key. */
static size_t
table_hash(const char *s)
{
	uint64_t	h = 14695981039346656037ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)tolower((unsigned char)*s);
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

static void
table_index_add(struct table *t, size_t i)
{
	size_t	h;

	if (t->hcount + 1 > t->hcap / 2) {
		table_index_build(t);
		if (t->hcount == t->nentries)
			return;		/* the rebuild took entry i in */
	}
	h = table_hash(t->entries[i].key) & (t->hcap - 1);
	while (t->hidx[h] != 0)
		h = (h + 1) & (t->hcap - 1);
	t->hidx[h] = i + 1;
	t->hcount++;
}

/* Index every entry, in a table at most a quarter full. */
static void
table_index_build(struct table *t)
{
	size_t	cap = 16, i, h;

	while (cap / 4 < t->nentries + 1)
		cap *= 2;
	free(t->hidx);
	if ((t->hidx = calloc(cap, sizeof(*t->hidx))) == NULL)
		abort();
	t->hcap = cap;
	t->hcount = 0;
	for (i = 0; i < t->nentries; i++) {
		h = table_hash(t->entries[i].key) & (cap - 1);
		while (t->hidx[h] != 0)
			h = (h + 1) & (cap - 1);
		t->hidx[h] = i + 1;
		t->hcount++;
	}
}

void
table_add(struct table *t, const char *key, const char *value,
    const char *options, int line)
{
	struct table_entry	*n;

	/* The capacity is implied by the count: 8, then powers of two. */
	if (t->nentries == 0 || (t->nentries >= 8 &&
	    (t->nentries & (t->nentries - 1)) == 0)) {
		n = reallocarray(t->entries, t->nentries ? t->nentries * 2 : 8,
		    sizeof(*n));
		if (n == NULL)
			abort();
		t->entries = n;
	}
	n = &t->entries[t->nentries++];
	n->key = table_xstrdup(key);
	n->value = table_xstrdup(value);
	n->options = table_xstrdup(options);
	n->line = line;
	table_index_add(t, t->nentries - 1);
}

void
table_clear(struct table *t)
{
	size_t	i;

	for (i = 0; i < t->nentries; i++) {
		free(t->entries[i].key);
		free(t->entries[i].value);
		free(t->entries[i].options);
	}
	free(t->entries);
	t->entries = NULL;
	t->nentries = 0;
	free(t->hidx);
	t->hidx = NULL;
	t->hcap = t->hcount = 0;
}

void
table_free(struct table *t)
{
	if (t == NULL)
		return;
	table_clear(t);
	free(t->path);
	free(t);
}

/*
 * One line of a `file:` table.  *kind tracks list (1) or map (2) so that
 * a file mixing both is refused.  Returns -1 with err (no FILE:LINE).
 */
static int
table_parse_file_line(struct table *t, char *line, int lineno, char *err,
    size_t errlen, int *kind)
{
	char	*p, *key, *value, *q;
	size_t	 klen, i;
	int	 colon = 0;

	p = line;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	key = p;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	klen = (size_t)(p - key);
	if (klen > 0 && key[klen - 1] == ':') {
		colon = 1;
		klen--;
	}
	if (*p != '\0')
		*p++ = '\0';
	key[klen] = '\0';
	if (klen == 0) {
		table_err(err, errlen, "empty key");
		return -1;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (!colon && *p == ':') {
		colon = 1;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	value = p;
	/*
	 * A '#' after blanks starts a comment, except a value's leading '#'
	 * right before text: a random-order gateway spec, "#host1;host2".
	 */
	if (*value == '#' && (value[1] == '\0' || value[1] == ' ' ||
	    value[1] == '\t'))
		*value = '\0';
	for (q = value + (*value != '\0' ? 1 : 0); *q != '\0'; q++)
		if (*q == '#' && (q[-1] == ' ' || q[-1] == '\t')) {
			*q = '\0';
			break;
		}
	i = strlen(value);
	while (i > 0 && (value[i - 1] == ' ' || value[i - 1] == '\t'))
		value[--i] = '\0';
	if (*value == '\0') {
		if (colon) {
			table_err(err, errlen, "missing value after \"%s:\"",
			    key);
			return -1;
		}
		value = NULL;
	} else if (value[i - 1] == ',') {
		table_err(err, errlen, "value ends with ','");
		return -1;
	}
	if (*kind == 0)
		*kind = value ? 2 : 1;
	else if (*kind != (value ? 2 : 1)) {
		table_err(err, errlen, "%s", value ?
		    "key with a value in a list table" :
		    "key without a value in a map table");
		return -1;
	}
	if (table_lookup(t, key) != NULL) {
		table_err(err, errlen, "duplicate key \"%s\"", key);
		return -1;
	}
	table_add(t, key, value, NULL, lineno);
	return 0;
}

/*
 * One line of an XMail table: "field"<TAB>"field"[<TAB>"field"].
 * Returns -1 with err on a malformed line.
 */
static int
table_parse_xmail_line(struct table *t, char *line, int lineno, char *err,
    size_t errlen)
{
	char	*fields[3], *p, *w;
	int	 n = 0;

	p = line;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	while (*p != '\0') {
		if (n == 3) {
			table_err(err, errlen, "more than three fields");
			return -1;
		}
		if (*p != '"') {
			table_err(err, errlen, "field %d is not quoted", n + 1);
			return -1;
		}
		fields[n] = w = ++p;
		for (;;) {
			if (*p == '\0') {
				table_err(err, errlen,
				    "unterminated quoted field");
				return -1;
			}
			if (*p == '\\' && (p[1] == '"' || p[1] == '\\')) {
				*w++ = p[1];
				p += 2;
				continue;
			}
			if (*p == '"')
				break;
			*w++ = *p++;
		}
		p++;
		*w = '\0';
		n++;
		if (*p != '\0' && *p != '\t' && *p != ' ') {
			table_err(err, errlen, "garbage after field %d", n);
			return -1;
		}
		while (*p == '\t' || *p == ' ')
			p++;
		if (*p == '#')
			break;
	}
	if (n < 2) {
		table_err(err, errlen, "a key without a value");
		return -1;
	}
	if (*fields[0] == '\0') {
		table_err(err, errlen, "empty key");
		return -1;
	}
	if (*fields[1] == '\0') {
		table_err(err, errlen, "empty value");
		return -1;
	}
	if (table_lookup(t, fields[0]) != NULL) {
		table_err(err, errlen, "duplicate key \"%s\"", fields[0]);
		return -1;
	}
	table_add(t, fields[0], fields[1], n == 3 && *fields[2] ? fields[2] :
	    NULL, lineno);
	return 0;
}

int
table_load(struct table *t, char *err, size_t errlen)
{
	struct table	 tmp;
	FILE		*fp;
	char		*line = NULL, lerr[512];
	size_t		 cap = 0;
	ssize_t		 len;
	int		 lineno = 0, kind = 0, r = 0;

	if (t->backend == TABLE_INLINE)
		return 0;
	if ((fp = fopen(t->path, "r")) == NULL) {
		table_err(err, errlen, "%s:0: cannot open: %s", t->path,
		    strerror(errno));
		return -1;
	}
	memset(&tmp, 0, sizeof(tmp));
	while ((len = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if ((size_t)len != strlen(line)) {
			snprintf(lerr, sizeof(lerr), "NUL byte in line");
			r = -1;
		} else if (len > TABLE_LINE_MAX) {
			snprintf(lerr, sizeof(lerr), "line too long");
			r = -1;
		} else if (t->backend == TABLE_XMAIL)
			r = table_parse_xmail_line(&tmp, line, lineno, lerr,
			    sizeof(lerr));
		else
			r = table_parse_file_line(&tmp, line, lineno, lerr,
			    sizeof(lerr), &kind);
		if (r == -1) {
			table_err(err, errlen, "%s:%d: %s", t->path, lineno,
			    lerr);
			break;
		}
	}
	if (r == 0 && ferror(fp)) {
		table_err(err, errlen, "%s:%d: read error: %s", t->path,
		    lineno, strerror(errno));
		r = -1;
	}
	free(line);
	fclose(fp);
	if (r == -1) {
		table_clear(&tmp);
		return -1;
	}
	table_clear(t);
	t->entries = tmp.entries;
	t->nentries = tmp.nentries;
	t->hidx = tmp.hidx;
	t->hcap = tmp.hcap;
	t->hcount = tmp.hcount;
	return 0;
}

const struct table_entry *
table_lookup(const struct table *t, const char *key)
{
	size_t	i;

	if (t == NULL || key == NULL)
		return NULL;
	if (t->hcap != 0 && t->hcount == t->nentries) {
		size_t h = table_hash(key) & (t->hcap - 1);

		/* The first of equal keys is the one earliest in the file. */
		const struct table_entry *best = NULL;
		for (; t->hidx[h] != 0; h = (h + 1) & (t->hcap - 1)) {
			const struct table_entry *e = &t->entries[t->hidx[h] - 1];

			if (strcasecmp(e->key, key) == 0 &&
			    (best == NULL || e < best))
				best = e;
		}
		return best;
	}
	for (i = 0; i < t->nentries; i++)
		if (strcasecmp(t->entries[i].key, key) == 0)
			return &t->entries[i];
	return NULL;
}

int
table_has(const struct table *t, const char *key)
{
	return table_lookup(t, key) != NULL;
}

int
glob_match(const char *pat, const char *s)
{
	const char	*star = NULL, *back = NULL;

	while (*s != '\0') {
		if (*pat == '*') {
			star = pat++;
			back = s;
			continue;
		}
		if (*pat != '\0' && (*pat == '?' ||
		    tolower((unsigned char)*pat) == tolower((unsigned char)*s))) {
			pat++;
			s++;
			continue;
		}
		if (star == NULL)
			return 0;
		pat = star + 1;
		s = ++back;
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

const struct table_entry *
table_match_glob(const struct table *t, const char *s)
{
	size_t	i;

	if (t == NULL || s == NULL)
		return NULL;
	for (i = 0; i < t->nentries; i++)
		if (glob_match(t->entries[i].key, s))
			return &t->entries[i];
	return NULL;
}

/*
 * Parse "ADDR" or "ADDR/BITS" into family, 16 address bytes, prefix
 * length.  IPv4-mapped IPv6 addresses are folded into IPv4.
 */
static int
table_parse_cidr(const char *s, int *af, unsigned char *a, int *bits)
{
	char		 buf[128], *slash, *end;
	long		 b;
	int		 max;

	if (strlen(s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, strlen(s) + 1);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	memset(a, 0, 16);
	if (inet_pton(AF_INET, buf, a) == 1) {
		*af = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, a) == 1) {
		static const unsigned char mapped[12] = {
		    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

		*af = AF_INET6;
		max = 128;
		if (memcmp(a, mapped, 12) == 0 && slash == NULL) {
			memmove(a, a + 12, 4);
			memset(a + 4, 0, 12);
			*af = AF_INET;
			max = 32;
		}
	} else
		return -1;
	if (slash == NULL) {
		*bits = max;
		return 0;
	}
	if (*slash == '\0' || !isdigit((unsigned char)*slash))
		return -1;
	errno = 0;
	b = strtol(slash, &end, 10);
	if (*end != '\0' || errno != 0 || b < 0 || b > max)
		return -1;
	*bits = (int)b;
	return 0;
}

int
table_match_addr(const struct table *t, const char *addr)
{
	unsigned char	 a[16], k[16];
	int		 af, kaf, bits, kbits, full;
	size_t		 i;

	if (t == NULL || addr == NULL)
		return 0;
	if (table_parse_cidr(addr, &af, a, &bits) == -1 || strchr(addr, '/'))
		return 0;
	for (i = 0; i < t->nentries; i++) {
		if (table_parse_cidr(t->entries[i].key, &kaf, k, &kbits) == -1)
			continue;
		if (kaf != af)
			continue;
		full = kbits / 8;
		if (memcmp(a, k, (size_t)full) != 0)
			continue;
		if (kbits % 8) {
			unsigned char m = (unsigned char)(0xff << (8 - kbits % 8));
			if ((a[full] & m) != (k[full] & m))
				continue;
		}
		return 1;
	}
	return 0;
}

/* 1 if s is an address or CIDR that table_match_addr understands. */
int
table_valid_cidr(const char *s)
{
	unsigned char	a[16];
	int		af, bits;

	return table_parse_cidr(s, &af, a, &bits) == 0;
}
