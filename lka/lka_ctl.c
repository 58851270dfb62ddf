/* Control requests answered by lka (stub until the control issue). */
#include "config.h"
#include "lka.h"
#include "log.h"
#include "proto.h"

void
lka_on_ctl(struct imsg *imsg)
{
	struct mbuild	*m;

	m = proc_create(PROC_CONTROL, IMSG_CTL_END, imsg->peerid, -1);
	m_add_u32(m, 0);
	m_add_str(m, "not implemented");
	m_close(m);
}
