/*
 * The parent's side of control: configuration reload, on SIGHUP or
 * IMSG_CTL_RELOAD.  The file is parsed into a new configuration; if it
 * is not valid nothing changes and the errors go back to control.  If it
 * is (and every new listener could be opened), the parent serves local
 * deliveries from it, sends smtp, queue and mta their part
 * (parent_reload.c), waits for their IMSG_RELOAD_DONE and answers;
 * control then has lka re-read the file.  Only the spool and the control
 * socket need a restart.  The answer carries the client's peerid; after
 * a SIGHUP it carries 0 and control only has lka follow.
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

/*
 * A reload in progress: the parent has validated the file (reload_conf,
 * its new listeners open) and waits for lka to take it (RELOAD_LKA),
 * then for smtp, queue and mta to answer IMSG_RELOAD_DONE (RELOAD_PUSH).
 */
enum reload_state {
	RELOAD_IDLE,
	RELOAD_LKA,
	RELOAD_PUSH
};
static enum reload_state	 reload_state;
static struct smtpd_config	*reload_conf;
static int			 reload_waiting;
static uint32_t			 reload_peer;
static char			 reload_note[256];
static struct buf		 reload_lka_text;

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

static void	parent_reload_lka(int);

static void
parent_reload_for(uint32_t peerid)
{
	struct smtpd_config	*conf, *old = env;
	struct buf		 errs;
	const char		*path = parent_opts.conffile ?
				    parent_opts.conffile : SMTPD_CONFIG_DEFAULT;

	if (reload_state != RELOAD_IDLE) {
		log_warnx("parent event=reload result=refused "
		    "reason=\"a reload is in progress\"");
		reload_answer(peerid, 0, NULL, "a reload is in progress, "
		    "try again");
		return;
	}
	buf_init(&errs);
	if ((conf = reload_config_parse(path, &errs)) == NULL ||
	    reload_listeners_open(old, conf, path, &errs) == -1) {
		log_warnx("parent event=reload result=failed path=%s", path);
		if (errs.len == 0)
			buf_printf(&errs, "%s: cannot be loaded\n", path);
		reload_answer(peerid, 0, buf_cstr(&errs),
		    "configuration not valid, nothing changed");
		buf_free(&errs);
		if (conf != NULL)
			config_free(conf);
		return;
	}
	buf_free(&errs);

	/* The spool and the control socket stay until a restart. */
	reload_note[0] = '\0';
	if (strcmp(old->spool, conf->spool) != 0 ||
	    strcmp(old->control_socket, conf->control_socket) != 0)
		snprintf(reload_note, sizeof(reload_note), "note: spool and "
		    "control socket changes need a restart\n");
	free(conf->spool);
	conf->spool = strdup(old->spool);
	free(conf->control_socket);
	conf->control_socket = strdup(old->control_socket);
	if (conf->spool == NULL || conf->control_socket == NULL)
		fatal("parent: reload");
	conf->ctl_fd = old->ctl_fd;
	reload_conf = conf;
	reload_peer = peerid;
	buf_init(&reload_lka_text);
	if (proc_chan(PROC_LKA) == NULL) {
		parent_reload_lka(1);
		return;
	}
	/* lka, which holds rules, tables and routes, goes first. */
	reload_state = RELOAD_LKA;
	proc_compose(PROC_LKA, IMSG_CTL_RELOAD, peerid, -1);
}

/* lka answered: on success everybody else follows, else nothing changes. */
static void
parent_reload_lka(int ok)
{
	struct smtpd_config	*old = env, *conf = reload_conf;

	reload_conf = NULL;
	if (!ok) {
		log_warnx("parent event=reload result=failed "
		    "reason=\"lka could not load the file\"");
		reload_listeners_abort(conf);
		config_free(conf);
		reload_state = RELOAD_IDLE;
		reload_answer(reload_peer, 0, buf_cstr(&reload_lka_text),
		    "lka could not load the configuration, nothing changed");
		buf_free(&reload_lka_text);
		return;
	}
	buf_free(&reload_lka_text);
	/*
	 * From here nothing can fail: smtp, queue and mta take what they
	 * are sent.  The old configuration is not freed: deliveries in
	 * flight may still point into it.
	 */
	reload_state = RELOAD_PUSH;
	reload_waiting = reload_push(old, conf);
	env = conf;
	log_info("parent event=reload result=sent processes=%d",
	    reload_waiting);
	if (reload_waiting == 0)
		parent_reload_done();
}

void
parent_reload_done(void)
{
	if (reload_state != RELOAD_PUSH) {
		log_warnx("parent event=reload-unexpected-done");
		return;
	}
	if (reload_waiting > 0 && --reload_waiting > 0)
		return;
	reload_state = RELOAD_IDLE;
	log_info("parent event=reload result=ok");
	reload_answer(reload_peer, 1, reload_note, "configuration reloaded");
}

void
parent_on_lka_reload(struct imsg *imsg)
{
	struct mreader	 r;
	const char	*s;
	uint32_t	 ok;

	m_msg(&r, imsg);
	if (reload_state != RELOAD_LKA)
		fatalx("parent: unexpected reload answer from lka");
	if (imsg->type == IMSG_CTL_REPLY) {
		if (m_get_str(&r, &s) == -1 || m_end(&r) == -1)
			fatalx("parent: bad IMSG_CTL_REPLY from lka");
		if (reload_lka_text.len < 64 * 1024)
			buf_add(&reload_lka_text, s, strlen(s));
		return;
	}
	if (m_get_u32(&r, &ok) == -1 || m_get_str(&r, &s) == -1 ||
	    m_end(&r) == -1)
		fatalx("parent: bad IMSG_CTL_END from lka");
	parent_reload_lka(ok != 0);
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
