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

/* A reload sent to smtp, queue and mta, waiting for their answers. */
static int		 reload_waiting;
static uint32_t		 reload_peer;
static char		 reload_note[256];

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
	const char		*path = parent_opts.conffile ?
				    parent_opts.conffile : SMTPD_CONFIG_DEFAULT;

	if (reload_waiting > 0) {
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
	/*
	 * From here nothing can fail: smtp, queue and mta take what they
	 * are sent.  The old configuration is not freed: deliveries in
	 * flight may still point into it.
	 */
	reload_waiting = reload_push(old, conf);
	reload_peer = peerid;
	env = conf;
	log_info("parent event=reload result=sent path=%s processes=%d",
	    path, reload_waiting);
	if (reload_waiting == 0)
		parent_reload_done();
}

void
parent_reload_done(void)
{
	if (reload_waiting > 0 && --reload_waiting > 0)
		return;
	log_info("parent event=reload result=ok");
	reload_answer(reload_peer, 1, reload_note,
	    "parent: configuration loaded");
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
