/*
 * `smtpctl show relays`: the relay health that mta keeps (failures,
 * cooldown, deliveries, sessions), as text lines or one JSON object,
 * sent to control in IMSG_CTL_REPLY chunks and an IMSG_CTL_END.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "log.h"
#include "mta.h"
#include "proc.h"
#include "proto.h"
#include "json.h"

struct ctl_ctx {
	uint32_t	 peerid;
	int		 json;
	int		 n;
	time_t		 now;
};

static void
send_chunk(uint32_t peerid, struct buf *b)
{
	struct mbuild	*m;

	m = proc_create(PROC_CONTROL, IMSG_CTL_REPLY, peerid, -1);
	m_add_str(m, buf_cstr(b));
	m_close(m);
}

static void
one_relay(const struct mta_relay_info *ri, void *arg)
{
	struct ctl_ctx	*ctx = arg;
	struct buf	 b;
	char		 esc[600];
	long		 cool;
	int		 v6 = strchr(ri->addr, ':') != NULL;

	cool = ri->cooldown_until > ctx->now ?
	    (long)(ri->cooldown_until - ctx->now) : 0;
	buf_init(&b);
	if (ctx->json) {
		buf_addstr(&b, ctx->n ? ",{\"address\":" : "{\"address\":");
		json_str(&b, ri->addr);
		buf_printf(&b, ",\"port\":%u,\"host\":", ri->port);
		json_str(&b, ri->host);
		buf_printf(&b, ",\"state\":\"%s\",\"failures\":%u,"
		    "\"cooldown\":%ld,\"delivered\":%lu,\"failed\":%lu,"
		    "\"sessions\":%u,\"waiting\":%u,\"last_ok\":%lld,"
		    "\"last_failure\":%lld,\"last_error\":",
		    cool ? "cooldown" : "up", ri->fails, cool, ri->delivered,
		    ri->failed, ri->sessions, ri->waiting,
		    (long long)ri->last_ok, (long long)ri->last_fail);
		json_str(&b, ri->last_error);
		buf_addc(&b, '}');
	} else {
		log_escape(esc, sizeof(esc), ri->last_error,
		    strlen(ri->last_error));
		buf_printf(&b, "%s%s%s:%u host=%s state=%s failures=%u "
		    "cooldown=%lds delivered=%lu failed=%lu sessions=%u "
		    "waiting=%u last_error=\"%s\"\n", v6 ? "[" : "", ri->addr,
		    v6 ? "]" : "", ri->port, ri->host[0] ? ri->host : "-",
		    cool ? "cooldown" : "up", ri->fails, cool, ri->delivered,
		    ri->failed, ri->sessions, ri->waiting, esc);
	}
	send_chunk(ctx->peerid, &b);
	buf_free(&b);
	ctx->n++;
}

void
mta_on_ctl(struct imsg *imsg)
{
	struct mreader	 r;
	struct ctl_ctx	 ctx;
	struct mbuild	*m;
	struct buf	 b;
	uint32_t	 json;

	m_msg(&r, imsg);
	if (m_get_u32(&r, &json) == -1 || m_end(&r) == -1) {
		log_warnx("mta: malformed IMSG_CTL_SHOW_RELAYS");
		json = 0;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.peerid = imsg->peerid;
	ctx.json = json != 0;
	ctx.now = time(NULL);
	buf_init(&b);
	if (ctx.json) {
		buf_addstr(&b, "{\"relays\":[");
		send_chunk(ctx.peerid, &b);
	}
	mta_relay_foreach(one_relay, &ctx);
	if (ctx.json) {
		buf_reset(&b);
		buf_addstr(&b, "]}\n");
		send_chunk(ctx.peerid, &b);
	}
	buf_free(&b);
	m = proc_create(PROC_CONTROL, IMSG_CTL_END, ctx.peerid, -1);
	m_add_u32(m, 1);
	m_add_str(m, ctx.json || ctx.n ? "" : "no relay used yet");
	m_close(m);
}
