/* Local delivery in the parent (stub until the queue issue lands). */
#include <string.h>

#include "config.h"
#include "envelope.h"
#include "log.h"
#include "mda.h"
#include "proc.h"
#include "proto.h"

void
mda_on_deliver(struct imsg *imsg)
{
	struct mreader	 r;
	struct mbuild	*m;
	struct envelope	 e;
	const char	*text;
	char		 err[128];

	m_msg(&r, imsg);
	if (m_get_str(&r, &text) == -1 || m_end(&r) == -1)
		fatalx("parent: bad IMSG_MDA_DELIVER");
	if (envelope_load(&e, text, strlen(text), err, sizeof err) == -1)
		fatalx("parent: bad envelope from queue: %s", err);
	m = proc_create(PROC_QUEUE, IMSG_QUEUE_DELIVERY_TEMPFAIL, 0, -1);
	m_add_u64(m, e.id);
	m_add_str(m, "451 4.3.0 local delivery not implemented");
	m_close(m);
}

int
mda_on_child_exit(pid_t pid, int status)
{
	(void)pid;
	(void)status;
	return 0;
}
