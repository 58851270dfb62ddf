/*
 * Expansion of delivery paths and mda command words: `~` and the
 * %{...} variables of smtpd.conf.  Pure; addresses come from outside, so
 * what they substitute can never add a path component or a "..".
 */
#include <stdio.h>
#include <string.h>

#include "mda_deliver.h"

struct outbuf {
	char	*p;
	size_t	 len, cap;
	int	 overflow;
};

static void
out_add(struct outbuf *o, const char *s, size_t n)
{
	if (o->overflow || n >= o->cap - o->len) {
		o->overflow = 1;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

/* A value from an address: '/' and unprintables become '_', and so does
 * a leading '.', so the value is never ".", ".." or a hidden name and
 * cannot join a literal '.' into "..". */
static void
out_add_safe(struct outbuf *o, const char *s, size_t n)
{
	size_t	 i;
	char	 c;

	for (i = 0; i < n; i++) {
		c = s[i];
		if (c == '/' || (unsigned char)c < 0x20 || c == 0x7f ||
		    (i == 0 && c == '.'))
			c = '_';
		out_add(o, &c, 1);
	}
}

/* The value of variable name (len nlen) as s, n; -1 if unknown. */
static int
lookup(const struct mda_vars *v, const char *name, size_t nlen,
    const char **s, size_t *n)
{
	const char	*rcpt = v->rcpt ? v->rcpt : "";
	const char	*at = strrchr(rcpt, '@');

#define IS(lit) (nlen == sizeof(lit) - 1 && memcmp(name, lit, nlen) == 0)
	if (IS("user")) {
		*s = v->user ? v->user : "";
		*n = strlen(*s);
	} else if (IS("rcpt")) {
		*s = rcpt;
		*n = strlen(rcpt);
	} else if (IS("rcpt.user")) {
		*s = rcpt;
		*n = at ? (size_t)(at - rcpt) : strlen(rcpt);
	} else if (IS("rcpt.domain")) {
		*s = at ? at + 1 : "";
		*n = strlen(*s);
	} else if (IS("sender")) {
		*s = v->sender ? v->sender : "";
		*n = strlen(*s);
	} else
		return -1;
#undef IS
	return 0;
}

/* Does path hold a ".." component? */
static int
has_dotdot(const char *path)
{
	const char	*p = path, *end;
	size_t		 n;

	for (;;) {
		end = strchr(p, '/');
		n = end ? (size_t)(end - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return 1;
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

int
mda_expand(char *out, size_t outlen, const char *fmt,
    const struct mda_vars *v, int path, char *err, size_t errlen)
{
	struct outbuf	 o;
	const char	*p, *name, *end, *val;
	size_t		 nlen, vlen;

	if (outlen == 0) {
		snprintf(err, errlen, "no room");
		return -1;
	}
	o.p = out;
	o.len = 0;
	o.cap = outlen;
	o.overflow = 0;
	out[0] = '\0';

	p = fmt;
	if (p[0] == '~') {
		if (p[1] != '\0' && p[1] != '/') {
			snprintf(err, errlen, "~user is not supported");
			return -1;
		}
		if (v->home == NULL || v->home[0] == '\0') {
			snprintf(err, errlen, "no home directory for ~");
			return -1;
		}
		out_add(&o, v->home, strlen(v->home));
		p++;
	}
	while (*p) {
		if (*p != '%') {
			end = strchr(p, '%');
			nlen = end ? (size_t)(end - p) : strlen(p);
			out_add(&o, p, nlen);
			p += nlen;
			continue;
		}
		if (p[1] == '%') {
			out_add(&o, "%", 1);
			p += 2;
			continue;
		}
		if (p[1] == 'u' || p[1] == 'd') {
			name = p[1] == 'u' ? "user" : "rcpt.domain";
			nlen = strlen(name);
			p += 2;
		} else if (p[1] == '{') {
			name = p + 2;
			end = strchr(name, '}');
			if (end == NULL) {
				snprintf(err, errlen, "unterminated %%{");
				return -1;
			}
			nlen = end - name;
			p = end + 1;
		} else {
			snprintf(err, errlen, "bad %% sequence");
			return -1;
		}
		if (lookup(v, name, nlen, &val, &vlen) == -1) {
			snprintf(err, errlen, "unknown variable %%{%.*s}",
			    (int)(nlen > 32 ? 32 : nlen), name);
			return -1;
		}
		if (vlen == 0 && path) {
			snprintf(err, errlen, "%%{%.*s} is empty", (int)nlen,
			    name);
			return -1;
		}
		out_add_safe(&o, val, vlen);
	}
	if (o.overflow) {
		snprintf(err, errlen, "expansion too long");
		return -1;
	}
	if (path && has_dotdot(out)) {
		snprintf(err, errlen, "path holds a \"..\" component");
		return -1;
	}
	return 0;
}
