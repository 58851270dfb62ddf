/*
 * Configuration reload, asked by SIGHUP or by control (IMSG_CTL_RELOAD).
 * Placeholder until the control issue implements it.
 */
#include "log.h"
#include "parent.h"

void
parent_reload(void)
{
	log_info("parent event=reload-requested result=not-implemented");
}
