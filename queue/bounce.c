/*
 * Delivery status notifications (RFC 3464): failures, delay warnings and
 * success notices.  Recipients of one message reported together share one
 * notice.  The notice is a new message in the queue with sender <>; lka
 * decides its action(s) as for a local session.  A failed bounce goes to
 * postmaster (double bounce); a failed double bounce is logged and
 * dropped.  The text of a notice is bounce_format.c's.
 */
#include <sys/time.h>

#include <errno.h>
#include <event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "envelope.h"
#include "io.h"
#include "log.h"
#include "proc.h"
#include "proto.h"
#include "queue.h"
#include "queue_store.h"

#define BOUNCE_DELAY		1	/* s: let recipients failing together
					 * join one notice */
#define BOUNCE_LKA_TIMEOUT	60
#define BOUNCE_RETRY		60
#define BOUNCE_ORIG_MAX		(64 * 1024 * 1024)
#define BOUNCE_HDRS_MAX		(256 * 1024)

enum bclass { BC_FAILURE, BC_DELAY, BC_SUCCESS };

struct bgroup {
	struct bgroup		*next;
	uint32_t		 msgid;		/* of the original */
	enum bclass		 class;
	int			 dbl;		/* to postmaster */
	char			 to[ADDR_MAX];
	struct envelope		*evps;
	enum bounce_kind	*kinds;
	size_t			 n, cap;
	struct buf		 orig;		/* success/delay: read early,
						 * the message may go */
	int			 have_orig;
	uint32_t		 reqid;		/* lka request, 0: not asked */
	time_t			 when;		/* asked at / retry at */
};

static struct bgroup	*groups;
static struct event	 ev_bounce;
static uint32_t		 nextreq = 1;

static void	bounce_arm(int);
static void	read_original(uint32_t, struct buf *, size_t);

/* ---- generation ---- */

static void
postmaster(char *out, size_t len)
{
	const char	*pm = env->postmaster[0] ? env->postmaster :
	    "postmaster";

	if (strchr(pm, '@'))
		strlcpy(out, pm, len);
	else if (snprintf(out, len, "%s@%s", pm, env->hostname[0] ?
	    env->hostname : "localhost") >= (int)len)
		strlcpy(out, "postmaster", len);
}

static void
group_free(struct bgroup *g)
{
	struct bgroup	**pp;

	for (pp = &groups; *pp; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	free(g->evps);
	free(g->kinds);
	buf_free(&g->orig);
	free(g);
}

/* The originals are done with: failures are removed from the queue. */
static void
group_done(struct bgroup *g)
{
	size_t	 i;

	if (g->class == BC_FAILURE)
		for (i = 0; i < g->n; i++)
			scheduler_bounced(g->evps[i].id, 1);
	group_free(g);
}

void
bounce_add(const struct envelope *e, enum bounce_kind kind)
{
	struct bgroup	*g;
	enum bclass	 class;
	char		 to[ADDR_MAX], id[17];
	int		 dbl = 0;

	class = kind == B_FAILED ? BC_FAILURE : kind == B_DELAYED ?
	    BC_DELAY : BC_SUCCESS;
	if (class == BC_FAILURE && e->sender[0] != '\0' &&
	    e->dsn_notify != 0 && !(e->dsn_notify & DSN_NOTIFY_FAILURE)) {
		log_info("queue envelope=%s event=no-bounce reason=notify",
		    evpid_str(e->id, id));
		scheduler_bounced(e->id, 1);
		return;
	}
	if (e->sender[0] != '\0')
		strlcpy(to, e->sender, sizeof(to));
	else if (class != BC_FAILURE)
		return;
	else if (e->flags & EF_DOUBLE_BOUNCE) {
		log_warnx("queue envelope=%s event=double-bounce-failed "
		    "rcpt=%s action=dropped", evpid_str(e->id, id), e->rcpt);
		scheduler_bounced(e->id, 1);
		return;
	} else {
		postmaster(to, sizeof(to));
		dbl = 1;
	}
	for (g = groups; g; g = g->next)
		if (g->msgid == evpid_to_msgid(e->id) && g->class == class &&
		    g->reqid == 0 && g->dbl == dbl && strcmp(g->to, to) == 0)
			break;
	if (g == NULL) {
		if ((g = calloc(1, sizeof(*g))) == NULL)
			fatal("bounce");
		g->msgid = evpid_to_msgid(e->id);
		g->class = class;
		g->dbl = dbl;
		strlcpy(g->to, to, sizeof(g->to));
		g->when = time(NULL) + BOUNCE_DELAY;
		buf_init(&g->orig);
		if (class != BC_FAILURE) {
			/* headers only; a delivered message is removed
			 * before its notice is written */
			read_original(g->msgid, &g->orig, BOUNCE_HDRS_MAX);
			g->have_orig = 1;
		}
		g->next = groups;
		groups = g;
	}
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 4;
		if ((g->evps = reallocarray(g->evps, g->cap,
		    sizeof(*g->evps))) == NULL ||
		    (g->kinds = reallocarray(g->kinds, g->cap,
		    sizeof(*g->kinds))) == NULL)
			fatal("bounce");
	}
	g->evps[g->n] = *e;
	g->kinds[g->n] = kind;
	g->n++;
	bounce_arm(BOUNCE_DELAY);
}

static void
bounce_ask(struct bgroup *g)
{
	struct mbuild	*m;

	if (proc_chan(PROC_LKA) == NULL)
		return;
	g->reqid = nextreq++;
	if (nextreq == 0)
		nextreq = 1;
	g->when = time(NULL);
	m = proc_create(PROC_LKA, IMSG_LKA_RCPT, g->reqid, -1);
	m_add_u32(m, 0);		/* listener index */
	m_add_str(m, "127.0.0.1");	/* client address */
	m_add_u32(m, 1);		/* is_local */
	m_add_str(m, "");		/* auth user */
	m_add_str(m, "");		/* sender <> */
	m_add_str(m, g->to);
	m_add_str(m, "");		/* listener tag */
	m_close(m);
}

static void
bounce_on_timer(int fd, short ev, void *arg)
{
	struct bgroup	*g;
	time_t		 now = time(NULL);

	(void)fd;
	(void)ev;
	(void)arg;
	for (g = groups; g; g = g->next) {
		if (g->reqid == 0 && g->when <= now)
			bounce_ask(g);
		else if (g->reqid != 0 && now - g->when >= BOUNCE_LKA_TIMEOUT) {
			log_warnx("queue msgid=%08" PRIx32 " event=bounce "
			    "warning=\"lka did not answer, asking again\"",
			    g->msgid);
			bounce_ask(g);
		}
	}
	if (groups)
		bounce_arm(BOUNCE_DELAY);
}

static void
bounce_arm(int secs)
{
	struct timeval	 tv = { secs, 0 };

	if (evtimer_pending(&ev_bounce, NULL))
		return;
	evtimer_add(&ev_bounce, &tv);
}

void
bounce_init(void)
{
	evtimer_set(&ev_bounce, bounce_on_timer, NULL);
}

/* Read the original message (capped) into b. */
static void
read_original(uint32_t msgid, struct buf *b, size_t max)
{
	char	 tmp[8192];
	ssize_t	 n;
	int	 fd;

	if ((fd = queue_store_open_message(msgid)) == -1)
		return;
	while (b->len < max && (n = read(fd, tmp, sizeof(tmp))) > 0)
		buf_add(b, tmp, (size_t)n);
	close(fd);
}

static void
bounce_on_committed(const struct envelope *e, void *arg)
{
	(void)arg;
	scheduler_add(e);
}

/* lka's answer is in: write the notice and commit it. */
static int
bounce_generate(struct bgroup *g, const char **acts, const char **rcpts,
    const char **users, uint32_t count)
{
	struct bounce_rcpt	*rs;
	struct envelope		 e;
	struct qs_commit	 c;
	struct buf		 orig, out;
	const char		*eol = "\n";
	char			 boundary[64], id[9], pm[ADDR_MAX];
	uint32_t		 msgid, k;
	size_t			 i;
	int			 fd, ret_full = 0, known;
	time_t			 now = time(NULL);

	if ((fd = queue_store_create(&msgid)) == -1) {
		log_warn("queue: bounce create");
		return -1;
	}
	buf_init(&orig);
	buf_init(&out);
	if (g->have_orig)
		buf_add(&orig, g->orig.data ? g->orig.data : "", g->orig.len);
	else
		read_original(g->msgid, &orig, BOUNCE_ORIG_MAX);
	for (i = 0; i < orig.len; i++)
		if (orig.data[i] == '\n') {
			if (i > 0 && orig.data[i - 1] == '\r')
				eol = "\r\n";
			break;
		}
	if ((rs = calloc(g->n, sizeof(*rs))) == NULL)
		fatal("bounce");
	for (i = 0; i < g->n; i++) {
		rs[i].e = &g->evps[i];
		rs[i].kind = g->kinds[i];
		if (g->evps[i].dsn_ret == DSN_RET_FULL)
			ret_full = 1;
	}
	snprintf(boundary, sizeof(boundary), "%08" PRIx32 ".%lld.%08" PRIx32,
	    msgid, (long long)now, arc4random());
	postmaster(pm, sizeof(pm));
	bounce_format(&out, env->hostname[0] ? env->hostname : "localhost",
	    pm, g->to, rs, g->n, orig.data ? orig.data : "", orig.len, ret_full,
	    now, boundary, eol);
	free(rs);
	buf_free(&orig);
	if (io_write_all(fd, out.data, out.len) == -1) {
		log_warn("queue: bounce write");
		close(fd);
		buf_free(&out);
		queue_store_rollback(msgid);
		return -1;
	}
	close(fd);
	buf_free(&out);
	for (k = 0; k < count; k++) {
		memset(&e, 0, sizeof(e));
		strlcpy(e.action, acts[k], sizeof(e.action));
		e.type = queue_method_local(acts[k], &known) ? ENV_MDA :
		    ENV_MTA;
		strlcpy(e.rcpt, rcpts[k], sizeof(e.rcpt));
		strlcpy(e.orig_rcpt, g->to, sizeof(e.orig_rcpt));
		strlcpy(e.user, users[k], sizeof(e.user));
		strlcpy(e.helo, env->hostname, sizeof(e.helo));
		strlcpy(e.client_addr, "127.0.0.1", sizeof(e.client_addr));
		e.flags = EF_BOUNCE | EF_LOCAL;
		if (g->dbl)
			e.flags |= EF_DOUBLE_BOUNCE;
		e.creation = now;
		queue_store_envelope(msgid, &e);
	}
	memset(&c, 0, sizeof(c));
	c.msgid = msgid;
	c.size = UINT64_MAX;
	queue_store_commit(&c, 1, bounce_on_committed, NULL);
	if (!c.ok) {
		log_warnx("queue msgid=%08" PRIx32 " event=bounce-failed "
		    "reply=\"%s\"", g->msgid, c.reply);
		return -1;
	}
	snprintf(id, sizeof(id), "%08" PRIx32, msgid);
	log_info("queue msgid=%08" PRIx32 " event=%s to=%s recipients=%zu "
	    "notice=%s", g->msgid, g->dbl ? "double-bounce" :
	    g->class == BC_FAILURE ? "bounce" : g->class == BC_DELAY ?
	    "delay-notice" : "success-notice", g->to, g->n, id);
	return 0;
}

void
bounce_on_lka_result(struct imsg *imsg)
{
	struct mreader	 r, save;
	struct bgroup	*g;
	const char	*line, **acts = NULL, **rcpts = NULL, **users = NULL;
	uint32_t	 ok, count = 0, k;

	for (g = groups; g; g = g->next)
		if (g->reqid != 0 && g->reqid == imsg->peerid)
			break;
	if (g == NULL) {
		log_warnx("queue: lka answer for unknown bounce %u",
		    imsg->peerid);
		return;
	}
	m_msg(&r, imsg);
	if (m_get_u32(&r, &ok) == -1)
		goto bad;
	/* the reply line may be absent when ok: fields are typed, peek */
	save = r;
	if (m_get_str(&r, &line) == -1) {
		r = save;
		line = "";
	}
	if (ok) {
		if (m_get_u32(&r, &count) == -1 || count == 0 ||
		    count > 1000)
			goto bad;
		acts = calloc(count, sizeof(*acts));
		rcpts = calloc(count, sizeof(*rcpts));
		users = calloc(count, sizeof(*users));
		if (!acts || !rcpts || !users)
			fatal("bounce");
		for (k = 0; k < count; k++)
			if (m_get_str(&r, &acts[k]) == -1 ||
			    m_get_str(&r, &rcpts[k]) == -1 ||
			    m_get_str(&r, &users[k]) == -1)
				goto bad;
	}
	g->reqid = 0;
	if (!ok) {
		log_warnx("queue msgid=%08" PRIx32 " event=bounce-refused "
		    "to=%s reply=\"%s\"", g->msgid, g->to, line);
		if (g->dbl || g->class != BC_FAILURE) {
			if (g->class == BC_FAILURE)
				log_warnx("queue msgid=%08" PRIx32
				    " event=double-bounce-failed "
				    "action=dropped",
				    g->msgid);
			group_done(g);
		} else {
			/* nobody takes the bounce: tell postmaster */
			postmaster(g->to, sizeof(g->to));
			g->dbl = 1;
			g->when = time(NULL);
			bounce_arm(0);
		}
		goto done;
	}
	if (bounce_generate(g, acts, rcpts, users, count) == -1) {
		g->when = time(NULL) + BOUNCE_RETRY;	/* disk full? */
		bounce_arm(BOUNCE_DELAY);
		goto done;
	}
	group_done(g);
	goto done;
bad:
	log_warnx("queue: bad IMSG_LKA_RCPT_RESULT for bounce ignored");
done:
	free(acts);
	free(rcpts);
	free(users);
}
