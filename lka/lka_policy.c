/* Policy answers for smtp (stub until the inbound issue lands). */
#include "config.h"
#include "lka.h"
#include "log.h"
#include "proto.h"

void
lka_policy_init(void)
{
}

void
lka_on_connect(struct imsg *imsg)
{
	struct mbuild	*m;

	m = proc_create(PROC_SMTP, IMSG_LKA_CONNECT_RESULT, imsg->peerid, -1);
	m_add_u32(m, 1);
	m_add_str(m, "");
	m_close(m);
}

void
lka_on_rcpt(struct imsg *imsg)
{
	struct mbuild	*m;

	m = proc_create(PROC_SMTP, IMSG_LKA_RCPT_RESULT, imsg->peerid, -1);
	m_add_u32(m, 0);
	m_add_str(m, "550 5.7.1 Delivery not authorized");
	m_add_u32(m, 0);
	m_close(m);
}

void
lka_on_auth(struct imsg *imsg)
{
	struct mbuild	*m;

	m = proc_create(PROC_SMTP, IMSG_LKA_AUTH_RESULT, imsg->peerid, -1);
	m_add_u32(m, 0);
	m_close(m);
}

void
lka_on_vrfy(struct imsg *imsg)
{
	struct mbuild	*m;

	m = proc_create(PROC_SMTP, IMSG_LKA_VRFY_RESULT, imsg->peerid, -1);
	m_add_str(m, "252 2.5.0 Cannot VRFY user");
	m_close(m);
}
