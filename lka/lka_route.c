/* Routes for mta (stub until the relay issue lands). */
#include "config.h"
#include "lka.h"
#include "log.h"
#include "proto.h"

void
lka_route_init(void)
{
}

void
lka_on_route(struct imsg *imsg)
{
	struct mbuild	*m;

	m = proc_create(PROC_MTA, IMSG_LKA_ROUTE_RESULT, imsg->peerid, -1);
	m_add_u32(m, ROUTE_TEMPFAIL);
	m_add_str(m, "451 4.3.0 routing not implemented");
	m_add_u32(m, 0);
	m_close(m);
}
