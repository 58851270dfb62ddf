/*
 * Recipients of bounces: the queue asks IMSG_LKA_RCPT as a local session
 * with sender <> for the address a notice goes to; the answer, in the
 * IMSG_LKA_RCPT_RESULT format, goes back to the queue (lka_policy.c
 * answers smtp's questions, this file the queue's).
 */
#include <string.h>

#include "config.h"
#include "envelope.h"
#include "lka.h"
#include "log.h"
#include "proc.h"
#include "proto.h"

#if __has_include("lka_policy.h")
#include "lka_policy.h"
#define LKA_BOUNCE_EXPAND	1
#endif

void
lka_bounce_on_rcpt(struct imsg *imsg)
{
	struct mreader		 r;
	struct mbuild		*m;
	const char		*addr, *auth, *sender, *rcpt, *tag;
	uint32_t		 lindex, is_local;
#ifdef LKA_BOUNCE_EXPAND
	struct lka_ctx		 c;
	struct lka_expansion	 ex;
	size_t			 i;
#endif

	m_msg(&r, imsg);
	if (m_get_u32(&r, &lindex) == -1 || m_get_str(&r, &addr) == -1 ||
	    m_get_u32(&r, &is_local) == -1 || m_get_str(&r, &auth) == -1 ||
	    m_get_str(&r, &sender) == -1 || m_get_str(&r, &rcpt) == -1 ||
	    m_get_str(&r, &tag) == -1 || m_end(&r) == -1) {
		log_warnx("lka: bad IMSG_LKA_RCPT from queue");
		return;
	}
	m = proc_create(PROC_QUEUE, IMSG_LKA_RCPT_RESULT, imsg->peerid, -1);
#ifdef LKA_BOUNCE_EXPAND
	c.lindex = lindex;
	c.addr = addr;
	c.is_local = is_local != 0;
	c.auth_user = auth;
	c.sender = sender;
	c.tag = tag;
	memset(&ex, 0, sizeof(ex));
	if (lka_expand(&c, rcpt, &ex) == -1) {
		char e1[ADDR_MAX * 2], e2[512];

		log_info("lka event=bounce-rcpt-refused to=<%s> reply=\"%s\"",
		    log_escape(e1, sizeof(e1), rcpt, strlen(rcpt)),
		    log_escape(e2, sizeof(e2), ex.error, strlen(ex.error)));
		m_add_u32(m, 0);
		m_add_str(m, ex.error);
		m_add_u32(m, 0);
	} else {
		m_add_u32(m, 1);
		m_add_str(m, "");
		m_add_u32(m, (uint32_t)ex.n);
		for (i = 0; i < ex.n; i++) {
			m_add_str(m, ex.v[i].action);
			m_add_str(m, ex.v[i].rcpt);
			m_add_str(m, ex.v[i].user);
		}
	}
	lka_expansion_free(&ex);
#else
	(void)lindex;
	(void)is_local;
	m_add_u32(m, 0);
	m_add_str(m, "451 4.3.0 lka cannot expand recipients yet");
	m_add_u32(m, 0);
#endif
	m_close(m);
}
