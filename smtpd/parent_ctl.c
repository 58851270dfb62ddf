/*
 * The parent's side of control requests and of SIGHUP: reload, and any
 * IMSG_CTL_* the control process sends to the parent.  Placeholder until
 * the control issue implements it (that helper owns this file).
 */
#include "log.h"
#include "parent.h"
#include "proc.h"
#include "proto.h"

void
parent_reload(void)
{
	log_info("parent event=reload-requested result=not-implemented");
}

void
parent_on_ctl(struct imsg *imsg)
{
	struct mbuild	*m;

	if (imsg->type == IMSG_CTL_RELOAD) {
		parent_reload();
		m = proc_create(PROC_CONTROL, IMSG_CTL_END, imsg->peerid, -1);
		m_add_u32(m, 0);
		m_add_str(m, "reload not implemented");
		m_close(m);
		return;
	}
	log_warnx("parent event=ctl-unsupported type=%u", imsg->type);
	m = proc_create(PROC_CONTROL, IMSG_CTL_END, imsg->peerid, -1);
	m_add_u32(m, 0);
	m_add_str(m, "not supported by the parent");
	m_close(m);
}
