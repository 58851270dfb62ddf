/*
 * Answers of the queue to control requests (smtpctl show queue, show
 * envelope, show message, schedule, remove, pause/resume): text or JSON,
 * sent as IMSG_CTL_REPLY chunks and closed by IMSG_CTL_END, with the
 * control client id echoed as peerid.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "envelope.h"
#include "log.h"
#include "proc.h"
#include "proto.h"
#include "queue.h"
#include "queue_store.h"
#include "json.h"
#include "control/ctl_fmt.h"

#define CTL_CHUNK	(32 * 1024)

static void
ctl_flush(uint32_t peerid, struct buf *b, int force)
{
	struct mbuild	*m;
	size_t		 off = 0, n;

	if (b->len == 0 || (!force && b->len < CTL_CHUNK))
		return;
	while (off < b->len) {
		n = b->len - off;
		if (n > CTL_CHUNK)
			n = CTL_CHUNK;
		/* strings carry no NUL: m_add_str needs a C string */
		{
			char	*chunk;

			if ((chunk = malloc(n + 1)) == NULL)
				fatal("queue_ctl");
			memcpy(chunk, b->data + off, n);
			chunk[n] = '\0';
			m = proc_create(PROC_CONTROL, IMSG_CTL_REPLY, peerid,
			    -1);
			m_add_str(m, chunk);
			m_close(m);
			free(chunk);
		}
		off += n;
	}
	buf_reset(b);
}

static void
ctl_end(uint32_t peerid, int ok, const char *msg)
{
	struct mbuild	*m;

	m = proc_create(PROC_CONTROL, IMSG_CTL_END, peerid, -1);
	m_add_u32(m, ok);
	m_add_str(m, msg);
	m_close(m);
}

static const char *
state_name(const struct sched_evp *s)
{
	if (s->removed)
		return "removing";
	switch (s->state) {
	case S_PENDING:
	case S_PARKED:
		return "pending";
	case S_INFLIGHT:
		return "inflight";
	case S_HELD:
		return "held";
	case S_BOUNCING:
		return "bouncing";
	}
	return "unknown";
}

static void
iso_time(time_t t, char out[32])
{
	struct tm	 tm;

	if (t == 0) {
		strlcpy(out, "-", 32);
		return;
	}
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Seconds since the envelope was created (0 if the clock went back). */
static time_t
evp_age(const struct envelope *e)
{
	time_t	 now = time(NULL);

	return (now > e->creation ? now - e->creation : 0);
}

static void
show_json(struct buf *b, const struct sched_evp *s)
{
	const struct envelope *e = &s->e;
	char	 id[17], mid[9];

	snprintf(mid, sizeof(mid), "%08" PRIx32, evpid_to_msgid(e->id));
	buf_printf(b, "{\"id\":\"%s\",\"message_id\":\"%s\",\"sender\":",
	    evpid_str(e->id, id), mid);
	json_str(b, e->sender);
	buf_addstr(b, ",\"recipient\":");
	json_str(b, e->rcpt);
	buf_addstr(b, ",\"action\":");
	json_str(b, e->action);
	buf_printf(b, ",\"type\":\"%s\",\"state\":\"%s\",\"attempts\":%u,"
	    "\"creation\":%lld,\"age\":%lld,\"last_attempt\":%lld,"
	    "\"next_attempt\":%lld,"
	    "\"size\":%" PRIu64 ",\"last_error\":", s->local ? "mda" : "mta",
	    state_name(s), e->retries, (long long)e->creation,
	    (long long)evp_age(e),
	    (long long)e->lasttry, (long long)e->nexttry, e->size);
	json_str(b, e->errorline);
	buf_addc(b, '}');
}

static void
show_text(struct buf *b, const struct sched_evp *s)
{
	const struct envelope *e = &s->e;
	char	 id[17], next[32], esc[1100];

	iso_time(e->nexttry, next);
	log_escape(esc, sizeof(esc), e->errorline, strlen(e->errorline));
	buf_printf(b, "id=%s message_id=%08" PRIx32 " sender=<", evpid_str(
	    e->id, id), evpid_to_msgid(e->id));
	log_escape(esc, sizeof(esc), e->sender, strlen(e->sender));
	buf_printf(b, "%s> recipient=<", esc);
	log_escape(esc, sizeof(esc), e->rcpt, strlen(e->rcpt));
	buf_printf(b, "%s> age=", esc);
	ctl_duration(b, evp_age(e));
	buf_printf(b, " action=%s state=%s attempts=%u next_attempt=%s",
	    e->action, state_name(s), e->retries, next);
	log_escape(esc, sizeof(esc), e->errorline, strlen(e->errorline));
	buf_printf(b, " last_error=\"%s\"\n", esc);
}

static void
ctl_show_queue(uint32_t peerid, uint32_t json)
{
	struct sched_evp	*s;
	struct buf		 b;
	size_t			 n = 0;

	buf_init(&b);
	if (json)
		buf_addc(&b, '[');
	for (s = scheduler_first(); s; s = scheduler_next(s)) {
		if (json) {
			if (n)
				buf_addc(&b, ',');
			show_json(&b, s);
		} else
			show_text(&b, s);
		n++;
		ctl_flush(peerid, &b, 0);
	}
	if (json)
		buf_addstr(&b, "]\n");
	ctl_flush(peerid, &b, 1);
	buf_free(&b);
	/* JSON is the chunks alone; text ends with a count, as mailq does */
	if (json)
		ctl_end(peerid, 1, "");
	else {
		char	 msg[64];

		snprintf(msg, sizeof(msg), "%zu envelope%s", n,
		    n == 1 ? "" : "s");
		ctl_end(peerid, 1, msg);
	}
}

static void
ctl_show_envelope(uint32_t peerid, uint64_t evpid, uint32_t json)
{
	struct sched_evp	*s;
	struct buf		 b;

	if ((s = scheduler_find(evpid)) == NULL) {
		ctl_end(peerid, 0, "unknown envelope");
		return;
	}
	buf_init(&b);
	if (json) {
		show_json(&b, s);
		buf_addc(&b, '\n');
	} else {
		envelope_dump(&s->e, &b);
		buf_printf(&b, "state: %s\n", state_name(s));
	}
	ctl_flush(peerid, &b, 1);
	buf_free(&b);
	ctl_end(peerid, 1, "");
}

static void
ctl_show_message(uint32_t peerid, uint32_t msgid)
{
	struct buf	 b;
	char		 tmp[8192];
	ssize_t		 n;
	int		 fd;

	if ((fd = queue_store_open_message(msgid)) == -1) {
		ctl_end(peerid, 0, "unknown message");
		return;
	}
	buf_init(&b);
	while ((n = read(fd, tmp, sizeof(tmp))) > 0) {
		/* NUL bytes cannot travel in a str field */
		ssize_t	 i;

		for (i = 0; i < n; i++)
			if (tmp[i] == '\0')
				tmp[i] = ' ';
		buf_add(&b, tmp, (size_t)n);
		ctl_flush(peerid, &b, 0);
	}
	close(fd);
	ctl_flush(peerid, &b, 1);
	buf_free(&b);
	ctl_end(peerid, n == 0, n == 0 ? "" : "read error");
}

/* Apply fn to an envelope, every envelope of a message (low half 0),
 * or everything (0). */
static int
ctl_apply(uint64_t id, int (*fn)(uint64_t))
{
	struct sched_evp	*s;
	uint64_t		*ids = NULL;
	size_t			 n = 0, cap = 0, i;
	int			 r = 0;

	if (id == 0 || (id & 0xffffffffULL) != 0)
		return fn(id);
	for (s = scheduler_first(); s; s = scheduler_next(s)) {
		if (evpid_to_msgid(s->e.id) != evpid_to_msgid(id))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((ids = reallocarray(ids, cap, sizeof(*ids))) ==
			    NULL)
				fatal("queue_ctl");
		}
		ids[n++] = s->e.id;
	}
	for (i = 0; i < n; i++)
		r += fn(ids[i]);
	free(ids);
	return r;
}

static void
ctl_status(uint32_t peerid, uint32_t json)
{
	struct buf	 b;

	buf_init(&b);
	if (json)
		buf_printf(&b, "{\"mta\":\"%s\",\"mda\":\"%s\","
		    "\"envelopes\":%zu}\n", scheduler_paused("mta") ?
		    "paused" : "running", scheduler_paused("mda") ? "paused" :
		    "running", scheduler_count());
	else
		buf_printf(&b, "mta: %s\nmda: %s\nenvelopes: %zu\n",
		    scheduler_paused("mta") ? "paused" : "running",
		    scheduler_paused("mda") ? "paused" : "running",
		    scheduler_count());
	ctl_flush(peerid, &b, 1);
	buf_free(&b);
	ctl_end(peerid, 1, "");
}

void
queue_ctl_dispatch(struct imsg *imsg)
{
	struct mreader	 r;
	const char	*str;
	uint64_t	 evpid;
	uint32_t	 u, json;
	int		 n;
	char		 msg[64];
	int		(*fn)(uint64_t) = NULL;
	const char	*verb = "";

	m_msg(&r, imsg);
	switch (imsg->type) {
	case IMSG_CTL_SHOW_QUEUE:
		if (m_get_u32(&r, &json) == -1 || m_end(&r) == -1)
			goto bad;
		ctl_show_queue(imsg->peerid, json);
		return;
	case IMSG_CTL_SHOW_ENVELOPE:
		if (m_get_u64(&r, &evpid) == -1 ||
		    m_get_u32(&r, &json) == -1 || m_end(&r) == -1)
			goto bad;
		ctl_show_envelope(imsg->peerid, evpid, json);
		return;
	case IMSG_CTL_SHOW_MESSAGE:
		if (m_get_u32(&r, &u) == -1 || m_end(&r) == -1)
			goto bad;
		ctl_show_message(imsg->peerid, u);
		return;
	case IMSG_CTL_SHOW_STATUS:
		if (m_get_u32(&r, &json) == -1 || m_end(&r) == -1)
			goto bad;
		ctl_status(imsg->peerid, json);
		return;
	case IMSG_CTL_SCHEDULE:
		fn = scheduler_schedule;
		verb = "scheduled";
		break;
	case IMSG_CTL_REMOVE:
		fn = scheduler_remove;
		verb = "removed";
		break;
	case IMSG_CTL_PAUSE_ENVELOPE:
		fn = scheduler_hold;
		verb = "paused";
		break;
	case IMSG_CTL_RESUME_ENVELOPE:
		fn = scheduler_release;
		verb = "resumed";
		break;
	case IMSG_CTL_PAUSE:
	case IMSG_CTL_RESUME:
		if (m_get_str(&r, &str) == -1 || m_end(&r) == -1)
			goto bad;
		if (scheduler_pause(str, imsg->type == IMSG_CTL_PAUSE) == -1) {
			ctl_end(imsg->peerid, 0, "unknown subsystem");
			return;
		}
		snprintf(msg, sizeof(msg), "%s %s", str,
		    imsg->type == IMSG_CTL_PAUSE ? "paused" : "resumed");
		ctl_end(imsg->peerid, 1, msg);
		return;
	default:
		ctl_end(imsg->peerid, 0, "not handled by the queue");
		return;
	}
	if (m_get_u64(&r, &evpid) == -1 || m_end(&r) == -1)
		goto bad;
	n = ctl_apply(evpid, fn);
	if (evpid != 0 && n == 0) {
		ctl_end(imsg->peerid, 0, "no such envelope");
		return;
	}
	snprintf(msg, sizeof(msg), "%d envelope%s %s", n, n == 1 ? "" : "s",
	    verb);
	ctl_end(imsg->peerid, 1, msg);
	return;
bad:
	log_warnx("queue: bad control imsg %u", imsg->type);
	ctl_end(imsg->peerid, 0, "bad request");
}
