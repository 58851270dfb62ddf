/*
 * `smtpctl show route ADDRESS [from SENDER] [source IP] [auth USER]`: a
 * dry run in lka of what a RCPT TO would meet, with nothing sent.  The
 * rule that matches (lka_rule_match, its line), the expansion into
 * actions (lka_expand: aliases, virtual), and for each relay action the
 * hop list the route builder gives now (lka_route_build: routes table,
 * host list, MX with DNS answers), formatted by lka_route_format.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "control/ctl_fmt.h"
#include "lka.h"
#include "lka_policy.h"
#include "lka_route.h"
#include "log.h"
#include "proc.h"
#include "proto.h"

struct show_route {
	uint32_t		 peerid;
	int			 json;
	char			*address, *sender, *source, *auth;
	struct lka_expansion	 ex;
	size_t			 next;		/* in ex */
	size_t			 nout;		/* actions out */
	int			 waiting;	/* a route is being built */
	int			 in_build;	/* in route_build */
	struct buf		 out;
};

static void
sr_free(struct show_route *sr)
{
	lka_expansion_free(&sr->ex);
	buf_free(&sr->out);
	free(sr->address);
	free(sr->sender);
	free(sr->source);
	free(sr->auth);
	free(sr);
}

/* Send what was built, in chunks an imsg can carry, then the END. */
static void
sr_finish(struct show_route *sr)
{
	struct mbuild	*m;
	size_t		 off, n;
	char		*chunk;

	if (sr->json)
		buf_addstr(&sr->out, "]}\n");
	for (off = 0; off < sr->out.len; off += n) {
		n = sr->out.len - off;
		if (n > 32 * 1024)
			n = 32 * 1024;
		if ((chunk = strndup(sr->out.data + off, n)) == NULL)
			fatal("show route");
		m = proc_create(PROC_CONTROL, IMSG_CTL_REPLY, sr->peerid, -1);
		m_add_str(m, chunk);
		m_close(m);
		free(chunk);
	}
	m = proc_create(PROC_CONTROL, IMSG_CTL_END, sr->peerid, -1);
	m_add_u32(m, 1);
	m_add_str(m, "");
	m_close(m);
	sr_free(sr);
}

static void
sr_action_head(struct show_route *sr, const struct lka_exp *e,
    const struct action *a)
{
	if (sr->json) {
		buf_addstr(&sr->out, sr->nout ? ",{\"name\":" : "{\"name\":");
		json_str(&sr->out, e->action);
		buf_addstr(&sr->out, ",\"method\":");
		json_str(&sr->out, a ? config_method_name(a->method) : "unknown");
		buf_addstr(&sr->out, ",\"recipient\":");
		json_str(&sr->out, e->rcpt);
		buf_addstr(&sr->out, ",\"user\":");
		json_str(&sr->out, e->user);
		if (a && a->method != A_RELAY) {
			buf_addstr(&sr->out, ",\"path\":");
			json_str(&sr->out, a->path ? a->path : "");
		}
	} else {
		buf_printf(&sr->out, "action \"%s\" (%s) recipient=%s",
		    e->action, a ? config_method_name(a->method) : "unknown", e->rcpt);
		if (e->user[0])
			buf_printf(&sr->out, " user=%s", e->user);
		if (a && a->method != A_RELAY && a->path)
			buf_printf(&sr->out, " path=\"%s\"", a->path);
		buf_addc(&sr->out, '\n');
	}
	sr->nout++;
}

static void	sr_next(struct show_route *);

static void
sr_on_route(const struct route_result *res, void *arg)
{
	struct show_route	*sr = arg;
	struct buf		 b;
	const char		*p, *eol;

	buf_init(&b);
	lka_route_format(res, sr->json, &b);
	if (sr->json) {
		while (b.len > 0 && b.data[b.len - 1] == '\n')
			b.len--;
		buf_addstr(&sr->out, ",\"route\":");
		buf_add(&sr->out, b.data, b.len);
		buf_addc(&sr->out, '}');
	} else {
		/* indented under its action */
		for (p = buf_cstr(&b); *p; p = eol + 1) {
			if ((eol = strchr(p, '\n')) == NULL)
				eol = p + strlen(p);
			buf_addstr(&sr->out, "  ");
			buf_add(&sr->out, p, eol - p);
			buf_addc(&sr->out, '\n');
			if (*eol == '\0')
				break;
		}
	}
	buf_free(&b);
	sr->waiting = 0;
	if (!sr->in_build)
		sr_next(sr);
}

/* Walk the expansion; relay actions wait for their route. */
static void
sr_next(struct show_route *sr)
{
	const struct lka_exp	*e;
	const struct action	*a;

	while (sr->next < sr->ex.n) {
		e = &sr->ex.v[sr->next++];
		a = config_action(env, e->action);
		sr_action_head(sr, e, a);
		if (a != NULL && a->method == A_RELAY) {
			sr->waiting = 1;
			sr->in_build = 1;
			lka_route_build(e->action, sr->sender, e->rcpt,
			    sr_on_route, sr);
			sr->in_build = 0;
			if (sr->waiting)
				return;	/* DNS: sr_on_route goes on */
			continue;
		}
		if (sr->json)
			buf_addc(&sr->out, '}');
	}
	sr_finish(sr);
}

static int
sr_is_loopback(const char *ip)
{
	return *ip == '\0' || strncmp(ip, "127.", 4) == 0 ||
	    strcmp(ip, "::1") == 0;
}

void
lka_ctl_show_route(struct imsg *imsg)
{
	struct show_route	*sr;
	struct mreader		 r;
	struct lka_ctx		 ctx;
	const struct rule	*rule;
	const char		*address, *sender, *source, *auth;
	uint32_t		 json;
	int			 ok;

	m_msg(&r, imsg);
	if (m_get_str(&r, &address) == -1 || m_get_str(&r, &sender) == -1 ||
	    m_get_str(&r, &source) == -1 || m_get_str(&r, &auth) == -1 ||
	    m_get_u32(&r, &json) == -1 || m_end(&r) == -1)
		fatalx("lka: bad IMSG_CTL_SHOW_ROUTE");
	if ((sr = calloc(1, sizeof(*sr))) == NULL ||
	    (sr->address = strdup(address)) == NULL ||
	    (sr->sender = strdup(sender)) == NULL ||
	    (sr->source = strdup(source)) == NULL ||
	    (sr->auth = strdup(auth)) == NULL)
		fatal("show route");
	sr->peerid = imsg->peerid;
	sr->json = json != 0;
	buf_init(&sr->out);

	memset(&ctx, 0, sizeof(ctx));
	ctx.lindex = 0;
	ctx.addr = *source ? sr->source : "local";
	ctx.is_local = sr_is_loopback(source);
	ctx.auth_user = sr->auth;
	ctx.sender = sr->sender;
	ctx.tag = "";

	rule = lka_rule_match(&ctx, sr->address);
	ok = lka_expand(&ctx, sr->address, &sr->ex) == 0;
	if (sr->json) {
		buf_addstr(&sr->out, "{\"address\":");
		json_str(&sr->out, sr->address);
		buf_addstr(&sr->out, ",\"sender\":");
		json_str(&sr->out, sr->sender);
		buf_addstr(&sr->out, ",\"source\":");
		json_str(&sr->out, *source ? sr->source : "local");
		buf_addstr(&sr->out, ",\"auth\":");
		json_str(&sr->out, sr->auth);
		buf_addstr(&sr->out, ",\"result\":");
		json_str(&sr->out, ok ? "accept" : "reject");
		buf_addstr(&sr->out, ",\"reply\":");
		json_str(&sr->out, ok ? "" : sr->ex.error);
		if (rule)
			buf_printf(&sr->out, ",\"rule\":{\"line\":%d,"
			    "\"reject\":%s}", rule->line,
			    rule->reject ? "true" : "false");
		else
			buf_addstr(&sr->out, ",\"rule\":null");
		buf_addstr(&sr->out, ",\"actions\":[");
	} else {
		buf_printf(&sr->out, "address: %s\nsender: <%s>\nsource: %s\n",
		    sr->address, sr->sender, *source ? sr->source : "local");
		if (*auth)
			buf_printf(&sr->out, "auth: %s\n", sr->auth);
		if (rule)
			buf_printf(&sr->out, "rule: line %d%s\n", rule->line,
			    rule->reject ? " (reject)" : "");
		else
			buf_addstr(&sr->out, "rule: none matches\n");
		if (ok)
			buf_addstr(&sr->out, "result: accept\n");
		else
			buf_printf(&sr->out, "result: reject \"%s\"\n",
			    sr->ex.error);
	}
	if (!ok)
		sr->ex.n = 0;
	sr_next(sr);
}
