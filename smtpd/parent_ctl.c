/*
 * The parent's side of control: configuration reload, on SIGHUP or
 * IMSG_CTL_RELOAD.  The file is parsed into a new configuration; if it
 * is not valid nothing changes and the errors go back to control.  If it
 * is, the parent serves local deliveries from it, keeping what only a
 * restart can change (listeners and their sockets, the spool, the
 * control socket), and control then has lka re-read the file.  The
 * answer carries the client's peerid; after a SIGHUP it carries 0 and
 * control only has lka follow.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "parent.h"
#include "proc.h"
#include "proto.h"
#include "smtpd/reload.h"

/* 1 if the listeners of a and b differ (address, port, options). */
static int
reload_listeners_differ(struct smtpd_config *a, struct smtpd_config *b)
{
	struct listener	*la, *lb;

	la = TAILQ_FIRST(&a->listeners);
	lb = TAILQ_FIRST(&b->listeners);
	for (; la && lb; la = TAILQ_NEXT(la, entry),
	    lb = TAILQ_NEXT(lb, entry))
		if (la->port != lb->port || la->flags != lb->flags ||
		    la->sslen != lb->sslen ||
		    memcmp(&la->ss, &lb->ss, la->sslen) != 0 ||
		    strcmp(la->tag, lb->tag) != 0 ||
		    strcmp(la->hostname, lb->hostname) != 0)
			return 1;
	return la != lb;
}

/*
 * The queue was started with the old actions and tells relay from local
 * deliveries by them: a reload may change what an action does but not
 * add or remove one, nor turn a relay action into a local one.  The
 * problems go to errs as "FILE:LINE: message"; 0 if none.
 */
static int
reload_actions_check(struct smtpd_config *old, struct smtpd_config *conf,
    const char *path, struct buf *errs)
{
	struct action	*a, *o;
	int		 n = 0;

	TAILQ_FOREACH(a, &conf->actions, entry) {
		if ((o = config_action(old, a->name)) == NULL) {
			buf_printf(errs, "%s:%d: action \"%s\" is new: adding "
			    "an action needs a restart\n", path, a->line,
			    a->name);
			n++;
		} else if ((o->method == A_RELAY) != (a->method == A_RELAY)) {
			buf_printf(errs, "%s:%d: action \"%s\" changes between "
			    "relay and local delivery: that needs a restart\n",
			    path, a->line, a->name);
			n++;
		}
	}
	TAILQ_FOREACH(o, &old->actions, entry)
		if (config_action(conf, o->name) == NULL) {
			buf_printf(errs, "%s:0: action \"%s\" is gone: removing "
			    "an action needs a restart\n", path, o->name);
			n++;
		}
	return n;
}

static void
reload_answer(uint32_t peerid, int ok, const char *text, const char *msg)
{
	struct mbuild	*m;

	if (proc_chan(PROC_CONTROL) == NULL)
		return;
	if (text && *text) {
		m = proc_create(PROC_CONTROL, IMSG_CTL_REPLY, peerid, -1);
		m_add_str(m, text);
		m_close(m);
	}
	m = proc_create(PROC_CONTROL, IMSG_CTL_END, peerid, -1);
	m_add_u32(m, ok);
	m_add_str(m, msg);
	m_close(m);
}

static void
parent_reload_for(uint32_t peerid)
{
	struct smtpd_config	*conf, *old = env;
	struct buf		 errs;
	char			*tmp, note[256];
	int			 ctl_fd;
	const char		*path = parent_opts.conffile ?
				    parent_opts.conffile : SMTPD_CONFIG_DEFAULT;

	buf_init(&errs);
	if ((conf = reload_config_parse(path, &errs)) == NULL) {
		log_warnx("parent event=reload result=failed path=%s", path);
		if (errs.len == 0)
			buf_printf(&errs, "%s: cannot be loaded\n", path);
		reload_answer(peerid, 0, buf_cstr(&errs),
		    "configuration not valid, nothing changed");
		buf_free(&errs);
		return;
	}
	if (reload_actions_check(old, conf, path, &errs) != 0) {
		log_warnx("parent event=reload result=refused path=%s "
		    "reason=\"actions added, removed or changed kind\"", path);
		reload_answer(peerid, 0, buf_cstr(&errs),
		    "configuration not applied, nothing changed");
		buf_free(&errs);
		config_free(conf);
		return;
	}
	buf_free(&errs);

	/* What only a restart changes stays as it is. */
	note[0] = '\0';
	if (reload_listeners_differ(old, conf) ||
	    strcmp(old->spool, conf->spool) != 0 ||
	    strcmp(old->control_socket, conf->control_socket) != 0)
		snprintf(note, sizeof(note), "note: listeners, spool and "
		    "control socket changes need a restart\n");
	TAILQ_SWAP(&old->listeners, &conf->listeners, listener, entry);
	tmp = conf->spool;
	conf->spool = old->spool;
	old->spool = tmp;
	tmp = conf->control_socket;
	conf->control_socket = old->control_socket;
	old->control_socket = tmp;
	ctl_fd = old->ctl_fd;
	conf->ctl_fd = ctl_fd;
	/*
	 * The old configuration is not freed: deliveries in flight may
	 * still point into it.
	 */
	env = conf;
	log_info("parent event=reload result=ok path=%s", path);
	reload_answer(peerid, 1, note, "parent: configuration loaded");
}

void
parent_reload(void)
{
	parent_reload_for(0);
}

void
parent_on_ctl(struct imsg *imsg)
{
	struct mreader	 r;

	m_msg(&r, imsg);
	if (imsg->type == IMSG_CTL_RELOAD && m_end(&r) == 0) {
		parent_reload_for(imsg->peerid);
		return;
	}
	log_warnx("parent event=ctl-unsupported type=%u", imsg->type);
	reload_answer(imsg->peerid, 0, NULL, "not supported by the parent");
}
