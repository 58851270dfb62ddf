/*
 * Recipient expansion: the matching rule's actions, then for local
 * actions the virtual table, aliases(5) (user, address, |command,
 * /file, :include:, error:) with loop detection, and the check that a
 * local user exists.  One recipient may give several (action, rcpt,
 * user) triples; an unknown user or an error: alias refuses the RCPT.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "lka_policy.h"
#include "log.h"

struct xstate {
	struct lka_expansion	*ex;
	char			 visited[LKA_EXPAND_DEPTH + 2][256];
	size_t			 nvisited;
	int			 untrusted;	/* items of an :include:
						 * file root does not own */
};

static int	expand_address(struct xstate *, const struct lka_ctx *,
		    const char *, int);
static int	expand_local(struct xstate *, const struct lka_ctx *,
		    const struct action *, const char *, int, int);

static int	expand_postmaster(struct xstate *, const struct lka_ctx *,
		    const struct action *, const char *, int);

static int
xerror(struct xstate *xs, const char *msg)
{
	if (xs->ex->error[0] == '\0')
		strlcpy(xs->ex->error, msg, sizeof(xs->ex->error));
	return -1;
}

static int
add(struct xstate *xs, const char *action, const char *rcpt,
    const char *user)
{
	struct lka_expansion	*ex = xs->ex;
	struct lka_exp		*e;
	size_t			 i;

	for (i = 0; i < ex->n; i++)
		if (strcmp(ex->v[i].action, action) == 0 &&
		    strcmp(ex->v[i].rcpt, rcpt) == 0 &&
		    strcmp(ex->v[i].user, user) == 0)
			return 0;
	if (ex->n >= LKA_EXPAND_MAX)
		return xerror(xs, "452 4.5.3 Too many recipients after "
		    "expansion");
	if (ex->n == ex->cap) {
		size_t cap = ex->cap ? ex->cap * 2 : 4;

		if ((e = reallocarray(ex->v, cap, sizeof(*e))) == NULL)
			fatal("lka_expand");
		ex->v = e;
		ex->cap = cap;
	}
	e = &ex->v[ex->n];
	if (strlcpy(e->action, action, sizeof(e->action)) >=
	    sizeof(e->action) ||
	    strlcpy(e->rcpt, rcpt, sizeof(e->rcpt)) >= sizeof(e->rcpt) ||
	    strlcpy(e->user, user, sizeof(e->user)) >= sizeof(e->user))
		return xerror(xs, "553 5.1.3 Expanded address too long");
	ex->n++;
	return 0;
}

void
lka_expansion_free(struct lka_expansion *ex)
{
	free(ex->v);
	ex->v = NULL;
	ex->n = ex->cap = 0;
}

size_t
lka_alias_split(char *value, char **items, size_t max)
{
	size_t	 n = 0;
	char	*p = value, *start, *end;
	int	 quoted;

	while (*p && n < max) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		start = p;
		quoted = 0;
		for (; *p; p++) {
			if (*p == '"')
				quoted = !quoted;
			else if (*p == ',' && !quoted)
				break;
		}
		end = p;
		if (*p)
			p++;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		*end = '\0';
		if (end - start >= 2 && *start == '"' && end[-1] == '"') {
			end[-1] = '\0';
			start++;
		}
		if (*start)
			items[n++] = start;
	}
	return n;
}

static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static const char *
lookup(const struct table *t, const char *key)
{
	const struct table_entry	*e;

	if (t == NULL || key[0] == '\0')
		return NULL;
	if ((e = table_lookup(t, key)) == NULL)
		return NULL;
	return e->value ? e->value : "";
}

static int
visited(struct xstate *xs, const char *key)
{
	size_t	 i;

	for (i = 0; i < xs->nvisited; i++)
		if (strcmp(xs->visited[i], key) == 0)
			return 1;
	return 0;
}

/* Who runs a |command or writes a /file from an alias. */
static const char *
runas(const struct action *a, const char *aliaskey)
{
	struct passwd	*pw;

	if (a->user)
		return a->user;
	if ((pw = getpwnam(aliaskey)) != NULL && pw->pw_uid != 0)
		return aliaskey;
	/* Unprivileged, deliveries run as the invoking user anyway; as
	 * root lka runs as SMTPD_USER, which is never handed on. */
	if (getuid() != 0 && (pw = getpwuid(getuid())) != NULL &&
	    strcmp(pw->pw_name, SMTPD_USER) != 0)
		return pw->pw_name;
	return "nobody";
}

static int	expand_values(struct xstate *, const struct lka_ctx *,
		    const struct action *, const char *value,
		    const char *domain, const char *aliaskey, int depth);

static int
expand_include(struct xstate *xs, const struct lka_ctx *c,
    const struct action *a, const char *path, const char *domain,
    const char *aliaskey, int depth)
{
	struct stat	 st;
	FILE		*fp = NULL;
	char		 line[1024];
	const char	*why = NULL;
	size_t		 n;
	int		 fd, lines = 0, saved;

	/* Not a FIFO or a device: lka would wait on it, and every session
	 * with it. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if ((fp = fdopen(fd, "r")) == NULL)
		why = strerror(errno);
	if (why != NULL) {
		log_warnx("lka event=include-failed path=%s reason=\"%s\"",
		    path, why);
		if (fd != -1)
			close(fd);
		return xerror(xs, "451 4.3.0 Cannot read :include: file");
	}
	/* Its owner may list addresses, not run commands or write files
	 * as somebody else. */
	saved = xs->untrusted;
	xs->untrusted = st.st_uid != 0 && st.st_uid != geteuid();
	while (fgets(line, sizeof(line), fp) != NULL && lines++ < 1000) {
		n = strcspn(line, "\r\n#");
		line[n] = '\0';
		if (expand_values(xs, c, a, line, domain, aliaskey,
		    depth) == -1) {
			xs->untrusted = saved;
			fclose(fp);
			return -1;
		}
	}
	xs->untrusted = saved;
	fclose(fp);
	return 0;
}

static int
expand_values(struct xstate *xs, const struct lka_ctx *c,
    const struct action *a, const char *value, const char *domain,
    const char *aliaskey, int depth)
{
	char		*copy, *items[256], addr[ADDR_MAX + 1], line[300];
	size_t		 n, i;
	int		 r = 0;
	struct lka_ctx	 c2;

	if (depth > LKA_EXPAND_DEPTH)
		return xerror(xs, "550 5.4.6 Alias expansion too deep");
	if ((copy = strdup(value)) == NULL)
		fatal("lka_expand");
	n = lka_alias_split(copy, items, sizeof(items) / sizeof(items[0]));
	for (i = 0; r == 0 && i < n; i++) {
		const char *it = items[i];

		if ((it[0] == '|' || it[0] == '/') && xs->untrusted) {
			log_warnx("lka event=include-refused item=%s "
			    "reason=\"|command or /file in an :include: file "
			    "not owned by root\"", it[0] == '|' ? "command" :
			    "file");
			r = xerror(xs, "550 5.7.1 Delivery to a command or "
			    "file not allowed here");
		} else if (it[0] == '|' || it[0] == '/')
			r = add(xs, a->name, it, runas(a, aliaskey));
		else if (strncasecmp(it, ":include:", 9) == 0)
			r = expand_include(xs, c, a, it + 9, domain, aliaskey,
			    depth + 1);
		else if (strncasecmp(it, "error:", 6) == 0) {
			it += 6;
			while (*it == ' ')
				it++;
			if ((it[0] == '4' || it[0] == '5') &&
			    isdigit((unsigned char)it[1]) &&
			    isdigit((unsigned char)it[2]) && it[3] == ' ')
				snprintf(line, sizeof(line), "%s", it);
			else
				snprintf(line, sizeof(line), "550 5.0.0 %s",
				    it);
			r = xerror(xs, line);
		} else if (strchr(it, '@') != NULL) {
			const char *at = strrchr(it, '@');

			if (lka_is_local_domain(at + 1))
				r = expand_local(xs, c, a, it, depth + 1, 0);
			else {
				/* forwarded off-site: the admin's choice, so
				 * matched as from local */
				c2 = *c;
				c2.is_local = 1;
				r = expand_address(xs, &c2, it, depth + 1);
			}
		} else {
			/* a user name: aliases and system users only */
			snprintf(addr, sizeof(addr), "%s@%s", it, domain);
			r = expand_local(xs, c, a, addr, depth + 1, 1);
		}
	}
	free(copy);
	return r;
}

static int
expand_local(struct xstate *xs, const struct lka_ctx *c,
    const struct action *a, const char *addr, int depth, int novirtual)
{
	char		 key[256], base[256], tmp[ADDR_MAX + 8];
	const char	*at, *domain, *v, *runkey;
	struct passwd	*pw;
	size_t		 n;
	int		 r, untrusted;

	if (depth > LKA_EXPAND_DEPTH)
		return xerror(xs, "550 5.4.6 Alias expansion too deep");
	at = strrchr(addr, '@');
	domain = at ? at + 1 : "";
	n = at ? (size_t)(at - addr) : strlen(addr);
	if (n == 0 || n >= sizeof(key))
		return xerror(xs, "550 5.1.1 User unknown");
	memcpy(key, addr, n);
	key[n] = '\0';
	lower(key);
	strlcpy(base, key, sizeof(base));
	if ((n = strcspn(base, "+")) > 0)	/* user+tag */
		base[n] = '\0';

	if (visited(xs, key)) {
		/* "user: user, other": deliver to the user itself */
		if ((pw = getpwnam(key)) != NULL)
			return add(xs, a->name, addr, pw->pw_name);
		return 0;
	}
	v = NULL;
	runkey = key;
	if (a->virtual && !novirtual) {
		if ((v = lookup(a->virtual, addr)) == NULL) {
			snprintf(tmp, sizeof(tmp), "%s@%s", base, domain);
			v = lookup(a->virtual, tmp);
		}
		if (v == NULL) {
			snprintf(tmp, sizeof(tmp), "@%s", domain);
			v = lookup(a->virtual, tmp);
		}
		/* The local part of a virtual address is the sender's
		 * choice, not a system user a |command may run as. */
		if (v != NULL)
			runkey = "";
		if (v == NULL && a->alias == NULL &&
		    strcmp(base, "postmaster") == 0)
			return expand_postmaster(xs, c, a, domain, depth);
		if (v == NULL && a->alias == NULL) {
			snprintf(tmp, sizeof(tmp), "550 5.1.1 <%.200s>: "
			    "User unknown", addr);
			return xerror(xs, tmp);
		}
	}
	if (v == NULL && a->alias) {
		if ((v = lookup(a->alias, key)) == NULL)
			v = lookup(a->alias, base);
	}
	if (v != NULL) {
		if (xs->nvisited >= sizeof(xs->visited) /
		    sizeof(xs->visited[0]))
			return xerror(xs, "550 5.4.6 Alias expansion too "
			    "deep");
		strlcpy(xs->visited[xs->nvisited++], key,
		    sizeof(xs->visited[0]));
		/* an alias or virtual entry is the admin's own */
		untrusted = xs->untrusted;
		xs->untrusted = 0;
		r = expand_values(xs, c, a, v, domain, runkey, depth);
		xs->untrusted = untrusted;
		xs->nvisited--;
		return r;
	}
	if (a->user)
		return add(xs, a->name, addr, a->user);
	if ((pw = getpwnam(key)) != NULL || (pw = getpwnam(base)) != NULL)
		return add(xs, a->name, addr, pw->pw_name);
	if (strcmp(base, "postmaster") == 0)
		return expand_postmaster(xs, c, a, domain, depth);
	snprintf(tmp, sizeof(tmp), "550 5.1.1 <%.200s>: User unknown", addr);
	return xerror(xs, tmp);
}

/*
 * RFC 5321 4.5.1: postmaster at a domain of ours is always accepted.
 * Reached when no alias, virtual entry or system user took it: the
 * global `postmaster` address if it names someone else, else root's
 * alias, else 550 5.1.1.
 */
static int
expand_postmaster(struct xstate *xs, const struct lka_ctx *c,
    const struct action *a, const char *domain, int depth)
{
	const char	*pm = env->postmaster, *at, *v;
	char		 tmp[ADDR_MAX + 8];
	struct lka_ctx	 c2;
	int		 r;

	if (visited(xs, "postmaster") ||
	    xs->nvisited >= sizeof(xs->visited) / sizeof(xs->visited[0]))
		goto unknown;
	at = strrchr(pm, '@');
	if (at != NULL && !(at - pm == 10 &&
	    strncasecmp(pm, "postmaster", 10) == 0 &&
	    lka_is_local_domain(at + 1))) {
		strlcpy(xs->visited[xs->nvisited++], "postmaster",
		    sizeof(xs->visited[0]));
		if (lka_is_local_domain(at + 1))
			r = expand_local(xs, c, a, pm, depth + 1, 0);
		else {
			c2 = *c;
			c2.is_local = 1;	/* the admin's own forward */
			r = expand_address(xs, &c2, pm, depth + 1);
		}
		xs->nvisited--;
		return r;
	}
	if (a->alias && (v = lookup(a->alias, "root")) != NULL) {
		strlcpy(xs->visited[xs->nvisited++], "postmaster",
		    sizeof(xs->visited[0]));
		r = expand_values(xs, c, a, v, domain, "", depth + 1);
		xs->nvisited--;
		return r;
	}
unknown:
	snprintf(tmp, sizeof(tmp), "550 5.1.1 <postmaster@%.200s>: User "
	    "unknown", domain);
	return xerror(xs, tmp);
}

static int
expand_address(struct xstate *xs, const struct lka_ctx *c,
    const char *addr, int depth)
{
	const struct rule	*rule;
	size_t			 i;

	if (depth > LKA_EXPAND_DEPTH)
		return xerror(xs, "550 5.4.6 Alias expansion too deep");
	rule = lka_rule_match(c, addr);
	if (rule == NULL || rule->reject || rule->actions == NULL)
		return xerror(xs, "550 5.7.1 Delivery not authorized");
	for (i = 0; rule->actions[i] != NULL; i++) {
		const struct action *a = rule->actions[i];

		if (a->method == A_RELAY) {
			if (add(xs, a->name, addr, "") == -1)
				return -1;
		} else if (expand_local(xs, c, a, addr, depth, 0) == -1)
			return -1;
	}
	return 0;
}

int
lka_expand(const struct lka_ctx *c, const char *rcpt,
    struct lka_expansion *ex)
{
	struct xstate	 xs;

	memset(&xs, 0, sizeof(xs));
	xs.ex = ex;
	if (expand_address(&xs, c, rcpt, 0) == -1)
		return -1;
	if (ex->n == 0)
		return xerror(&xs, "550 5.4.6 Alias loop: no recipient left");
	return 0;
}

int
lka_user_exists(const char *user)
{
	const struct action	*a;
	char			 key[256];

	if (strlcpy(key, user, sizeof(key)) >= sizeof(key))
		return 0;
	lower(key);
	if (getpwnam(key) != NULL)
		return 1;
	TAILQ_FOREACH(a, &env->actions, entry)
		if (a->alias && table_has(a->alias, key))
			return 1;
	return 0;
}
