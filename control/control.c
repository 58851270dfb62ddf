/*
 * The control process: serves the control socket that smtpctl, sendmail
 * and mailq talk to.  Each client is checked with SO_PEERCRED; a request
 * (an imsg of the IMSG_CTL_* family, payload as in proto.h) is validated,
 * then forwarded to the process that owns the answer with peerid = the
 * client id, and the IMSG_CTL_REPLY chunks and the IMSG_CTL_END coming
 * back are relayed to the client.  Counters (IMSG_STAT_INCR), `show
 * stats`, `show status` and the enqueue socketpair are handled here.
 * Nothing blocks: a client that vanishes just has its answers dropped.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "ctl_fmt.h"
#include "log.h"
#include "proc.h"
#include "proto.h"

#define CONTROL_MAX_CLIENTS	128
/* Unprivileged clients: per uid and in all, so that one local user
 * holding connections open locks neither root nor the others out. */
#define CONTROL_MAX_PER_UID	16
#define CONTROL_MAX_UNPRIV	96
#define CTL_CLIENT_BACKLOG	(64 * 1024 * 1024)	/* unread answer */
#define CTL_CHUNK		(64 * 1024)	/* text per CTL_REPLY */

struct ctl_client {
	TAILQ_ENTRY(ctl_client) entry;
	uint32_t		 id;
	uid_t			 uid;
	pid_t			 pid;
	int			 privileged;
	struct imsgchan		*chan;
	uint32_t		 pending;	/* request in flight */
	enum proc_id		 pending_proc;
	char			 subsystem[8];	/* of pause/resume */
	int			 json;		/* of show status */
	int			 first_chunk;
};
TAILQ_HEAD(ctl_clients, ctl_client);

static struct ctl_clients	 ctl_clients =
    TAILQ_HEAD_INITIALIZER(ctl_clients);
static size_t			 ctl_nclients;
static uint32_t			 ctl_nextid = 1;
static struct event		 ctl_ev_accept;
static struct event		 ctl_ev_pause;
static struct ctl_stats		 ctl_stats;
/* smtp paused by a successful `pause smtp` (mta and mda: the queue's
 * scheduler knows). */
static int			 ctl_paused_smtp;
static void	control_on_accept(int, short, void *);

/* ---- helpers ---- */

static struct ctl_client *
control_client_by_id(uint32_t id)
{
	struct ctl_client	*c;

	TAILQ_FOREACH(c, &ctl_clients, entry)
		if (c->id == id)
			return c;
	return NULL;
}

static void
control_client_free(struct ctl_client *c)
{
	TAILQ_REMOVE(&ctl_clients, c, entry);
	ctl_nclients--;
	if (c->chan)
		imsgchan_free(c->chan);
	log_debug("control client=%u event=closed", c->id);
	free(c);
	/* A slot is free again: accept resumes if it was held back. */
	if (env->ctl_fd >= 0 && !event_pending(&ctl_ev_accept, EV_READ, NULL))
		event_add(&ctl_ev_accept, NULL);
}

static void
control_end(struct ctl_client *c, int ok, const char *msg, int fd)
{
	struct mbuild	*m;

	m = m_create(c->chan, IMSG_CTL_END, 0, fd);
	m_add_u32(m, ok ? 1 : 0);
	m_add_str(m, msg);
	m_close(m);
	c->pending = 0;
}

/* Send text to a client in chunks that fit an imsg. */
static void
control_reply_text(struct ctl_client *c, const char *text, size_t len)
{
	struct mbuild	*m;
	char		*chunk;
	size_t		 n;

	while (len > 0) {
		n = len > CTL_CHUNK ? CTL_CHUNK : len;
		if ((chunk = strndup(text, n)) == NULL)
			fatal("control_reply_text");
		m = m_create(c->chan, IMSG_CTL_REPLY, 0, -1);
		m_add_str(m, chunk);
		m_close(m);
		free(chunk);
		text += n;
		len -= n;
	}
}

/* ---- requests from clients ---- */

/*
 * Payload layout of each request, one letter a field: U u32, Q u64,
 * S str.  `proc` owns the answer (PROC_CONTROL: answered here); `open`
 * requests are allowed to any local user.
 */
static const struct ctl_request {
	uint32_t	 type;
	const char	*fields;
	enum proc_id	 proc;
	int		 open;
	const char	*name;
} ctl_requests[] = {
	{ IMSG_CTL_SHOW_QUEUE, "U", PROC_QUEUE, 0,
	    "show queue" },
	{ IMSG_CTL_SHOW_ENVELOPE, "QU", PROC_QUEUE, 0,
	    "show envelope" },
	{ IMSG_CTL_SHOW_MESSAGE, "U", PROC_QUEUE, 0,
	    "show message" },
	{ IMSG_CTL_SHOW_STATS, "U", PROC_CONTROL, 1,
	    "show stats" },
	{ IMSG_CTL_SHOW_RELAYS, "U", PROC_MTA, 0,
	    "show relays" },
	{ IMSG_CTL_SHOW_STATUS, "U", PROC_QUEUE, 0,
	    "show status" },
	{ IMSG_CTL_SHOW_ROUTE, "SSSSU", PROC_LKA, 0,
	    "show route" },
	{ IMSG_CTL_SCHEDULE, "Q", PROC_QUEUE, 0,
	    "schedule" },
	{ IMSG_CTL_REMOVE, "Q", PROC_QUEUE, 0,
	    "remove" },
	{ IMSG_CTL_PAUSE_ENVELOPE, "Q", PROC_QUEUE, 0,
	    "pause envelope" },
	{ IMSG_CTL_RESUME_ENVELOPE, "Q", PROC_QUEUE, 0,
	    "resume envelope" },
	{ IMSG_CTL_PAUSE, "S", PROC_QUEUE, 0,
	    "pause" },
	{ IMSG_CTL_RESUME, "S", PROC_QUEUE, 0,
	    "resume" },
	{ IMSG_CTL_LOG_VERBOSE, "U", PROC_CONTROL, 0,
	    "log" },
	{ IMSG_CTL_UPDATE_TABLE, "S", PROC_LKA, 0,
	    "update table" },
	{ IMSG_CTL_RELOAD, "", PROC_PARENT, 0,
	    "reload" },
	{ IMSG_SMTP_ENQUEUE, "", PROC_CONTROL, 1,
	    "enqueue" },
};

static const struct ctl_request *
control_request_find(uint32_t type)
{
	size_t	 i;

	for (i = 0; i < sizeof(ctl_requests) / sizeof(ctl_requests[0]); i++)
		if (ctl_requests[i].type == type)
			return &ctl_requests[i];
	return NULL;
}

/* Check that the message holds exactly the fields; 0 if it does. */
static int
control_payload_check(struct imsg *imsg, const char *fields)
{
	struct mreader	 r;
	const char	*s;
	uint32_t	 u;
	uint64_t	 q;

	m_msg(&r, imsg);
	for (; *fields; fields++) {
		if (*fields == 'U')
			m_get_u32(&r, &u);
		else if (*fields == 'Q')
			m_get_u64(&r, &q);
		else
			m_get_str(&r, &s);
	}
	return m_end(&r);
}

/* Copy the (checked) fields of imsg into a message to proc. */
static void
control_forward(struct imsg *imsg, const char *fields, enum proc_id to,
    uint32_t type, uint32_t peerid)
{
	struct mreader	 r;
	struct mbuild	*m;
	const char	*s;
	uint32_t	 u;
	uint64_t	 q;

	m = proc_create(to, type, peerid, -1);
	m_msg(&r, imsg);
	for (; *fields; fields++) {
		if (*fields == 'U') {
			m_get_u32(&r, &u);
			m_add_u32(m, u);
		} else if (*fields == 'Q') {
			m_get_u64(&r, &q);
			m_add_u64(m, q);
		} else {
			m_get_str(&r, &s);
			m_add_str(m, s);
		}
	}
	m_close(m);
}

static void
control_show_stats(struct ctl_client *c, int json)
{
	struct buf	 b;

	buf_init(&b);
	ctl_stats_format(&ctl_stats, time(NULL), json, &b);
	control_reply_text(c, b.data, b.len);
	buf_free(&b);
	control_end(c, 1, "", -1);
}

/* The queue's status text or JSON object, with the smtp state first. */
static void
control_status_merge(struct mbuild *m, const char *s, int json)
{
	struct buf	 b;
	const char	*state = ctl_paused_smtp ? "paused" : "running";

	buf_init(&b);
	if (json && *s == '{')
		buf_printf(&b, "{\"smtp\":\"%s\",%s", state, s + 1);
	else if (json)
		buf_addstr(&b, s);
	else
		buf_printf(&b, "smtp: %s\n%s", state, s);
	m_add_str(m, buf_cstr(&b));
	buf_free(&b);
}

/*
 * Enqueue: a socketpair; one end goes to smtp as a `from local` session
 * of the caller's uid (from SO_PEERCRED, never from the client), the
 * other back to the client with the IMSG_CTL_END.
 */
static void
control_enqueue(struct ctl_client *c)
{
	struct mbuild	*m;
	int		 sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1) {
		log_warn("control client=%u enqueue: socketpair", c->id);
		control_end(c, 0, "temporary failure: cannot create session",
		    -1);
		return;
	}
	m = proc_create(PROC_SMTP, IMSG_SMTP_ENQUEUE, c->id, sp[0]);
	m_add_u32(m, (uint32_t)c->uid);
	m_close(m);
	ctl_stats_incr(&ctl_stats, "control.enqueue", 1);
	log_debug("control client=%u uid=%u event=enqueue", c->id,
	    (unsigned)c->uid);
	control_end(c, 1, "", sp[1]);
}

static void
control_on_client_msg(struct imsgchan *chan, struct imsg *imsg, void *arg)
{
	struct ctl_client	*c = arg;
	const struct ctl_request *req;
	struct mbuild		*m;
	struct mreader		 r;
	const char		*s;
	uint32_t		 u;
	enum proc_id		 to;

	(void)chan;
	if ((req = control_request_find(imsg->type)) == NULL ||
	    control_payload_check(imsg, req->fields) == -1) {
		log_warnx("control client=%u event=bad-request type=%u",
		    c->id, imsg->type);
		control_client_free(c);
		return;
	}
	if (c->pending) {
		/* One request at a time per connection. */
		log_warnx("control client=%u event=overlapping-request",
		    c->id);
		control_client_free(c);
		return;
	}
	if (!c->privileged && !req->open) {
		log_info("control client=%u uid=%u request=\"%s\" "
		    "result=denied", c->id, (unsigned)c->uid, req->name);
		control_end(c, 0, "permission denied", -1);
		return;
	}
	log_debug("control client=%u uid=%u request=\"%s\"", c->id,
	    (unsigned)c->uid, req->name);
	c->pending = imsg->type;
	to = req->proc;

	switch (imsg->type) {
	case IMSG_CTL_SHOW_STATS:
		m_msg(&r, imsg);
		m_get_u32(&r, &u);
		control_show_stats(c, u != 0);
		return;
	case IMSG_CTL_SHOW_STATUS:
		m_msg(&r, imsg);
		m_get_u32(&r, &u);
		c->json = u != 0;
		c->first_chunk = 1;
		break;
	case IMSG_SMTP_ENQUEUE:
		control_enqueue(c);
		return;
	case IMSG_CTL_LOG_VERBOSE:
		m_msg(&r, imsg);
		m_get_u32(&r, &u);
		log_setverbose((int)u);
		/* lka, smtp and mta take it without answering. */
		for (to = PROC_SMTP; to <= PROC_MTA; to++) {
			if (to == PROC_QUEUE)
				continue;
			m = proc_create(to, IMSG_CTL_LOG_VERBOSE, 0, -1);
			m_add_u32(m, u);
			m_close(m);
		}
		log_info("control event=log-verbose level=%u", u);
		control_end(c, 1, u ? "logging verbose" : "logging brief",
		    -1);
		return;
	case IMSG_CTL_PAUSE:
	case IMSG_CTL_RESUME:
		m_msg(&r, imsg);
		m_get_str(&r, &s);
		if (strcmp(s, "smtp") == 0)
			to = PROC_SMTP;
		else if (strcmp(s, "mta") == 0 || strcmp(s, "mda") == 0)
			to = PROC_QUEUE;
		else {
			control_end(c, 0, "unknown subsystem (smtp, mta, mda)",
			    -1);
			return;
		}
		strlcpy(c->subsystem, s, sizeof(c->subsystem));
		break;
	}
	c->pending_proc = to;
	control_forward(imsg, req->fields, to, imsg->type, c->id);
}

static void
control_on_client_close(struct imsgchan *chan, const char *why, void *arg)
{
	struct ctl_client	*c = arg;

	(void)chan;
	log_debug("control client=%u event=gone why=\"%s\"", c->id, why);
	control_client_free(c);
}

static void
control_on_pause_end(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	event_add(&ctl_ev_accept, NULL);
}

/* 1 if an unprivileged uid may not open another connection. */
static int
control_too_many(uid_t uid)
{
	struct ctl_client	*c;
	size_t			 same = 0, unpriv = 0;

	TAILQ_FOREACH(c, &ctl_clients, entry) {
		if (c->privileged)
			continue;
		unpriv++;
		if (c->uid == uid)
			same++;
	}
	return same >= CONTROL_MAX_PER_UID || unpriv >= CONTROL_MAX_UNPRIV;
}

static void
control_on_accept(int fd, short ev, void *arg)
{
	struct ctl_client	*c;
	struct ucred		 cred;
	struct timeval		 tv = { 1, 0 };
	socklen_t		 len = sizeof(cred);
	int			 s;

	(void)ev;
	(void)arg;
	if ((s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		if (errno == EMFILE || errno == ENFILE) {
			log_warn("control: accept");
			event_del(&ctl_ev_accept);
			evtimer_add(&ctl_ev_pause, &tv);
		} else if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("control: accept");
		return;
	}
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		close(s);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("control: calloc");
		close(s);
		return;
	}
	if (cred.uid != 0 && cred.uid != geteuid() &&
	    control_too_many(cred.uid)) {
		log_info("control uid=%u event=refused reason=\"too many "
		    "connections\"", (unsigned)cred.uid);
		free(c);
		close(s);
		return;
	}
	c->id = ctl_nextid++;
	if (ctl_nextid == 0)
		ctl_nextid = 1;
	c->uid = cred.uid;
	c->pid = cred.pid;
	/* root, or the user the daemon runs as. */
	c->privileged = cred.uid == 0 || cred.uid == geteuid();
	c->chan = imsgchan_new(s, "control-client", control_on_client_msg,
	    control_on_client_close, c);
	TAILQ_INSERT_TAIL(&ctl_clients, c, entry);
	ctl_nclients++;
	log_debug("control client=%u uid=%u pid=%d event=connected", c->id,
	    (unsigned)c->uid, (int)c->pid);
	if (ctl_nclients >= CONTROL_MAX_CLIENTS)
		event_del(&ctl_ev_accept);
}

/* ---- answers from the processes ---- */

static void
control_on_answer(enum proc_id from, struct imsg *imsg)
{
	struct ctl_client	*c;
	struct mreader		 r;
	struct mbuild		*m;
	const char		*s;
	uint32_t		 ok;
	int			*flag = NULL;

	m_msg(&r, imsg);
	if (imsg->type == IMSG_CTL_REPLY) {
		if (m_get_str(&r, &s) == -1 || m_end(&r) == -1)
			fatalx("control: bad IMSG_CTL_REPLY from %s",
			    proc_name(from));
		ok = 1;
	} else {
		if (m_get_u32(&r, &ok) == -1 || m_get_str(&r, &s) == -1 ||
		    m_end(&r) == -1)
			fatalx("control: bad IMSG_CTL_END from %s",
			    proc_name(from));
	}

	if (imsg->peerid == 0) {
		/* A reload nobody waits for (SIGHUP): the parent had
		 * every process take the file; the results are logged. */
		if (imsg->type == IMSG_CTL_END)
			log_info("control event=reload process=%s result=%s "
			    "message=\"%s\"", proc_name(from),
			    ok ? "ok" : "failed", s);
		else
			log_warnx("control event=reload process=%s "
			    "detail=\"%.200s\"", proc_name(from), s);
		return;
	}
	if ((c = control_client_by_id(imsg->peerid)) == NULL) {
		/* The client went away meanwhile. */
		return;
	}
	if (c->pending == 0 || c->pending_proc != from) {
		log_warnx("control client=%u: unexpected answer from %s",
		    c->id, proc_name(from));
		return;
	}
	if (imsg->type == IMSG_CTL_REPLY) {
		if (imsgchan_pending(c->chan) > CTL_CLIENT_BACKLOG) {
			/* It does not read its answers: drop it. */
			log_warnx("control client=%u event=dropped "
			    "reason=\"backlog\"", c->id);
			control_client_free(c);
			return;
		}
		m = m_create(c->chan, IMSG_CTL_REPLY, 0, -1);
		if (c->pending == IMSG_CTL_SHOW_STATUS && c->first_chunk) {
			/* The queue knows mta and mda; smtp is known here. */
			c->first_chunk = 0;
			control_status_merge(m, s, c->json);
		} else
			m_add_str(m, s);
		m_close(m);
		return;
	}
	/* A reload: the parent answers once lka, smtp, queue and mta
	 * all took the new file (smtpd/parent_ctl.c). */

	if (ok && (c->pending == IMSG_CTL_PAUSE ||
	    c->pending == IMSG_CTL_RESUME)) {
		if (strcmp(c->subsystem, "smtp") == 0)
			flag = &ctl_paused_smtp;
		if (flag)
			*flag = c->pending == IMSG_CTL_PAUSE;
		if (*s == '\0') {
			control_end(c, ok, c->pending == IMSG_CTL_PAUSE ?
			    "smtp paused" : "smtp resumed", -1);
			return;
		}
	}
	control_end(c, ok, s, -1);
}

static void
control_dispatch(enum proc_id from, struct imsg *imsg)
{
	struct mreader	 r;
	const char	*name;
	int64_t		 delta;

	switch (imsg->type) {
	case IMSG_STAT_INCR:
		m_msg(&r, imsg);
		if (m_get_str(&r, &name) == -1 ||
		    m_get_int(&r, &delta) == -1 || m_end(&r) == -1)
			fatalx("control: bad IMSG_STAT_INCR from %s",
			    proc_name(from));
		if (ctl_stats_incr(&ctl_stats, name, delta) == -1)
			log_warnx("control: counter \"%.64s\" from %s refused",
			    name, proc_name(from));
		return;
	case IMSG_CTL_REPLY:
	case IMSG_CTL_END:
		control_on_answer(from, imsg);
		return;
	}
	fatalx("control: unexpected imsg %u from %s", imsg->type,
	    proc_name(from));
}

void
control_main(void)
{
	ctl_stats.start = time(NULL);
	proc_child_start(PROC_CONTROL, SMTPD_USER, "/var/empty",
	    control_dispatch);
	evtimer_set(&ctl_ev_pause, control_on_pause_end, NULL);
	if (env->ctl_fd >= 0) {
		if (fcntl(env->ctl_fd, F_SETFL, O_NONBLOCK) == -1)
			fatal("control: fcntl");
		event_set(&ctl_ev_accept, env->ctl_fd, EV_READ | EV_PERSIST,
		    control_on_accept, NULL);
		event_add(&ctl_ev_accept, NULL);
	} else
		log_warnx("control: no control socket");
	event_dispatch();
	exit(0);
}
