/*
 * The outbound limits and timeouts of the configuration in use (`mta
 * limit ...`, `mta timeout ...`), read at each use so that a reloaded
 * configuration applies to new connections; the defaults of mta.h when
 * there is none (obj/tools/mta-drive) or a value is unset.
 */
#include <limits.h>

#include "config.h"
#include "mta.h"

static int
secs(time_t t, int dflt)
{
	if (t <= 0)
		return dflt;
	return t > INT_MAX ? INT_MAX : (int)t;
}

unsigned
mta_conn_per_hop(void)
{
	return env != NULL && env->mta_conn_per_hop > 0 ?
	    env->mta_conn_per_hop : MTA_CONN_PER_HOP;
}

unsigned
mta_conn_per_domain(void)
{
	return env != NULL && env->mta_conn_per_domain > 0 ?
	    env->mta_conn_per_domain : MTA_CONN_PER_DOMAIN;
}

unsigned
mta_msg_per_conn(void)
{
	return env != NULL && env->mta_msg_per_conn > 0 ?
	    env->mta_msg_per_conn : MTA_MSG_PER_CONN;
}

int
mta_timeout_connect(void)
{
	return secs(env != NULL ? env->mta_timeout_connect : 0, MTA_CONNECT_TIMEOUT);
}

int
mta_timeout_reply(void)
{
	return secs(env != NULL ? env->mta_timeout_reply : 0, MTA_REPLY_TIMEOUT);
}

int
mta_timeout_idle(void)
{
	return secs(env != NULL ? env->mta_timeout_idle : 0, MTA_IDLE_TIMEOUT);
}
