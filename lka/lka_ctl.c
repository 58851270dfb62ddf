/*
 * Control requests answered by lka: `show route` (a dry run of the rules
 * and the route builder for one address), `update table` (atomic: the
 * file is loaded into a fresh table, swapped in only if it parsed) and
 * the lka half of `reload` (re-read the configuration lka serves from).
 * Answers go to control as IMSG_CTL_REPLY chunks and one IMSG_CTL_END.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "lka.h"
#include "log.h"
#include "proto.h"
#include "table.h"
#include "lka_dns.h"
#include "lka_policy.h"
#include "smtpd/reload.h"

/* Who asked: control, or the parent for a reload. */
static enum proc_id	 lka_ctl_to = PROC_CONTROL;

static void
lka_ctl_end(uint32_t peerid, int ok, const char *msg)
{
	struct mbuild	*m;

	m = proc_create(lka_ctl_to, IMSG_CTL_END, peerid, -1);
	m_add_u32(m, ok ? 1 : 0);
	m_add_str(m, msg);
	m_close(m);
}

static void
lka_ctl_text(uint32_t peerid, const char *text)
{
	struct mbuild	*m;

	m = proc_create(lka_ctl_to, IMSG_CTL_REPLY, peerid, -1);
	m_add_str(m, text);
	m_close(m);
}

/*
 * Reload one file table: a fresh table takes the file; only when it
 * parsed are the entries swapped into the live table, whose address the
 * rules and actions hold.  0, or -1 with "FILE:LINE: message" in err.
 */
static int
lka_ctl_table_reload(struct table *t, char *err, size_t errlen)
{
	struct table		*fresh;
	struct table		 old;

	if (t->backend == TABLE_INLINE) {
		snprintf(err, errlen, "table %s is inline: use reload",
		    t->name);
		return -1;
	}
	fresh = table_new(t->name, t->backend, t->path);
	if (table_load(fresh, err, errlen) == -1) {
		table_free(fresh);
		return -1;
	}
	/* The entries and their hash index go together. */
	old = *t;
	t->entries = fresh->entries;
	t->nentries = fresh->nentries;
	t->hidx = fresh->hidx;
	t->hcap = fresh->hcap;
	t->hcount = fresh->hcount;
	fresh->entries = old.entries;
	fresh->nentries = old.nentries;
	fresh->hidx = old.hidx;
	fresh->hcap = old.hcap;
	fresh->hcount = old.hcount;
	table_free(fresh);
	return 0;
}

static int
lka_ctl_is_alias_table(const struct table *t)
{
	struct action	*a;

	TAILQ_FOREACH(a, &env->actions, entry)
		if (a->alias == t || a->virtual == t)
			return 1;
	return 0;
}

static void
lka_ctl_update_table(uint32_t peerid, const char *name)
{
	struct table	*t;
	struct buf	 out;
	char		 err[1024];
	int		 n = 0, failed = 0;

	if (*name) {
		if ((t = config_table(env, name)) == NULL) {
			snprintf(err, sizeof(err), "unknown table %s", name);
			lka_ctl_end(peerid, 0, err);
			return;
		}
		if (lka_ctl_table_reload(t, err, sizeof(err)) == -1) {
			log_warnx("lka event=update-table table=%s "
			    "result=failed error=\"%s\"", name, err);
			lka_ctl_end(peerid, 0, err);
			return;
		}
		log_info("lka event=update-table table=%s result=ok "
		    "entries=%zu", name, t->nentries);
		snprintf(err, sizeof(err), "table %s updated (%zu entries)",
		    name, t->nentries);
		lka_ctl_end(peerid, 1, err);
		return;
	}

	/* newaliases: every table an action uses as alias or virtual. */
	buf_init(&out);
	TAILQ_FOREACH(t, &env->tables, entry) {
		if (!lka_ctl_is_alias_table(t) || t->backend == TABLE_INLINE)
			continue;
		n++;
		if (lka_ctl_table_reload(t, err, sizeof(err)) == -1) {
			failed++;
			buf_printf(&out, "%s\n", err);
			log_warnx("lka event=update-table table=%s "
			    "result=failed error=\"%s\"", t->name, err);
		} else
			log_info("lka event=update-table table=%s result=ok "
			    "entries=%zu", t->name, t->nentries);
	}
	if (out.len)
		lka_ctl_text(peerid, buf_cstr(&out));
	buf_free(&out);
	if (failed)
		snprintf(err, sizeof(err), "%d of %d alias tables failed",
		    failed, n);
	else
		snprintf(err, sizeof(err), "%d alias table%s updated", n,
		    n == 1 ? "" : "s");
	lka_ctl_end(peerid, failed == 0, err);
}

/*
 * The parent has validated the file; lka re-reads it and serves rules,
 * actions, tables and routes from the new one.  The old configuration
 * is kept (not freed): requests in flight may still point into it.
 */
static void
lka_ctl_reload(uint32_t peerid)
{
	struct smtpd_config	*conf = NULL;
	struct buf		 errs;
	const char		*path = env->conf_path;

	buf_init(&errs);
	if (path != NULL)
		conf = reload_config_parse(path, &errs);
	if (conf == NULL) {
		log_warnx("lka event=reload result=failed path=%s",
		    path ? path : "?");
		if (errs.len)
			lka_ctl_text(peerid, buf_cstr(&errs));
		buf_free(&errs);
		lka_ctl_end(peerid, 0, "lka could not load the configuration; "
		    "lka keeps the previous one");
		return;
	}
	buf_free(&errs);
	conf->ctl_fd = env->ctl_fd;
	env = conf;
	lka_dns_reload();
	lka_policy_reload();
	log_info("lka event=reload result=ok path=%s", path);
	lka_ctl_end(peerid, 1, "configuration reloaded");
}

void
lka_on_parent_reload(struct imsg *imsg)
{
	struct mreader	 r;

	m_msg(&r, imsg);
	if (m_end(&r) == -1)
		fatalx("lka: bad IMSG_CTL_RELOAD");
	lka_ctl_to = PROC_PARENT;
	lka_ctl_reload(imsg->peerid);
	lka_ctl_to = PROC_CONTROL;
}

void
lka_on_ctl(struct imsg *imsg)
{
	struct mreader	 r;
	const char	*s;
	uint32_t	 u;

	m_msg(&r, imsg);
	switch (imsg->type) {
	case IMSG_CTL_UPDATE_TABLE:
		if (m_get_str(&r, &s) == -1 || m_end(&r) == -1)
			fatalx("lka: bad IMSG_CTL_UPDATE_TABLE");
		lka_ctl_update_table(imsg->peerid, s);
		return;
	case IMSG_CTL_RELOAD:
		if (m_end(&r) == -1)
			fatalx("lka: bad IMSG_CTL_RELOAD");
		lka_ctl_reload(imsg->peerid);
		return;
	case IMSG_CTL_LOG_VERBOSE:
		if (m_get_u32(&r, &u) == -1 || m_end(&r) == -1)
			fatalx("lka: bad IMSG_CTL_LOG_VERBOSE");
		log_setverbose((int)u);
		return;		/* fire and forget: no answer */
	case IMSG_CTL_SHOW_ROUTE:
		lka_ctl_show_route(imsg);	/* lka_ctl_route.c */
		return;
	}
	lka_ctl_end(imsg->peerid, 0, "request not handled by lka");
}
