/*
 * Local delivery, parent side: for each IMSG_MDA_DELIVER the parent
 * resolves the user, forks a child that becomes that user (never root)
 * and runs one delivery method (mda_deliver.h); the child's result line
 * comes back through a pipe, and its exit (or the time limit) sends
 * IMSG_QUEUE_DELIVERY_OK / TEMPFAIL / PERMFAIL to the queue.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "envelope.h"
#include "log.h"
#include "mda.h"
#include "mda_child.h"
#include "mda_deliver.h"
#include "proc.h"
#include "proto.h"

#define MDA_KILL_SLACK	10	/* seconds past the limit, then SIGKILL */

struct mda_child {
	TAILQ_ENTRY(mda_child)	 entry;
	pid_t			 pid;
	uint64_t		 evpid;
	int			 resfd;		/* result pipe, read end */
	struct event		 timer;
	int			 timedout;
	time_t			 start;
	time_t			 timeout;
	char			 user[64];
	const char		*method;
};

static TAILQ_HEAD(, mda_child)	 mda_children =
    TAILQ_HEAD_INITIALIZER(mda_children);

/* Keep a result line printable and on one line for imsg and logs. */
static void
mda_clean_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static void
mda_send_result(uint64_t evpid, enum mda_result r, const char *line)
{
	static const uint32_t	 types[] = {
		IMSG_QUEUE_DELIVERY_OK,
		IMSG_QUEUE_DELIVERY_TEMPFAIL,
		IMSG_QUEUE_DELIVERY_PERMFAIL
	};
	struct mbuild	*m;

	if (proc_chan(PROC_QUEUE) == NULL) {
		log_warnx("mda envelope=%016llx event=result-lost "
		    "reason=\"no queue channel\"", (unsigned long long)evpid);
		return;
	}
	m = proc_create(PROC_QUEUE, types[r], 0, -1);
	m_add_u64(m, evpid);
	m_add_str(m, line);
	m_add_str(m, "");	/* hop: none, a local delivery */
	m_add_u32(m, 0);	/* remote DSN */
	m_close(m);
}

static void
mda_refuse(const struct envelope *e, enum mda_result r, const char *line)
{
	char	 buf[MDA_ERR_MAX], rcpt[ADDR_MAX], esc[MDA_ERR_MAX + 64];

	strlcpy(buf, line, sizeof buf);
	mda_clean_line(buf);
	log_escape(rcpt, sizeof rcpt, e->rcpt, strlen(e->rcpt));
	log_info("mda envelope=%016llx rcpt=\"%s\" result=%s stat=\"%s\"",
	    (unsigned long long)e->id, rcpt,
	    r == MDA_PERMFAIL ? "PermFail" : "TempFail",
	    log_escape(esc, sizeof esc, buf, strlen(buf)));
	mda_send_result(e->id, r, buf);
}

static void
mda_on_timeout(int fd, short ev, void *arg)
{
	struct mda_child	*c = arg;

	(void)fd;
	(void)ev;
	log_warnx("mda envelope=%016llx event=timeout pid=%ld limit=%llds",
	    (unsigned long long)c->evpid, (long)c->pid, (long long)c->timeout);
	c->timedout = 1;
	kill(-c->pid, SIGKILL);
	kill(c->pid, SIGKILL);
}

void
mda_on_deliver(struct imsg *imsg)
{
	struct mreader		 rd;
	struct envelope		 e;
	struct mda_user		 u;
	struct mda_child	*c;
	struct action		*a;
	struct timeval		 tv;
	enum mda_result		 r;
	const char		*text;
	char			 err[256], line[MDA_ERR_MAX], lhlo[256];
	time_t			 timeout;
	pid_t			 pid;
	int			 msgfd, resfd;

	m_msg(&rd, imsg);
	if (m_get_str(&rd, &text) == -1 || m_end(&rd) == -1)
		fatalx("parent: bad IMSG_MDA_DELIVER");
	if (envelope_load(&e, text, strlen(text), err, sizeof err) == -1)
		fatalx("parent: bad envelope from queue: %s", err);
	msgfd = imsg->fd;
	imsg->fd = -1;

	if (msgfd == -1) {
		mda_refuse(&e, MDA_TEMPFAIL, "451 4.3.0 no message file");
		return;
	}
	if ((a = config_action(env, e.action)) == NULL) {
		snprintf(line, sizeof line, "451 4.3.5 no action named %.64s",
		    e.action);
		mda_refuse(&e, MDA_TEMPFAIL, line);
		close(msgfd);
		return;
	}
	if (a->method == A_RELAY) {
		snprintf(line, sizeof line, "554 5.3.5 action %.64s is not "
		    "local", e.action);
		mda_refuse(&e, MDA_PERMFAIL, line);
		close(msgfd);
		return;
	}
	if (mda_user_resolve(a, &e, &u, &r, line, sizeof line) == -1) {
		mda_refuse(&e, r, line);
		close(msgfd);
		return;
	}
	timeout = env->mda_timeout > 0 ? env->mda_timeout :
	    MDA_TIMEOUT_DEFAULT;

	if (env->hostname[0])
		strlcpy(lhlo, env->hostname, sizeof lhlo);
	else if (gethostname(lhlo, sizeof lhlo) == -1)
		strlcpy(lhlo, "localhost", sizeof lhlo);
	lhlo[sizeof lhlo - 1] = '\0';
	pid = mda_child_spawn(msgfd, a, &e, &u, timeout, lhlo, &resfd, line,
	    sizeof line);
	close(msgfd);
	if (pid == -1) {
		mda_refuse(&e, MDA_TEMPFAIL, line);
		return;
	}

	if ((c = calloc(1, sizeof *c)) == NULL)
		fatal("mda_on_deliver");
	c->pid = pid;
	c->evpid = e.id;
	c->resfd = resfd;
	c->start = time(NULL);
	c->timeout = timeout;
	c->method = mda_method(a, &e);
	strlcpy(c->user, u.name, sizeof c->user);
	evtimer_set(&c->timer, mda_on_timeout, c);
	tv.tv_sec = timeout + MDA_KILL_SLACK;
	tv.tv_usec = 0;
	evtimer_add(&c->timer, &tv);
	TAILQ_INSERT_TAIL(&mda_children, c, entry);
	log_debug("mda envelope=%016llx event=started pid=%ld user=%s "
	    "method=%s", (unsigned long long)e.id, (long)pid, u.name,
	    c->method);
}

int
mda_on_child_exit(pid_t pid, int status)
{
	struct mda_child	*c;
	enum mda_result		 r;
	char			 line[MDA_ERR_MAX], esc[MDA_ERR_MAX + 64];

	TAILQ_FOREACH(c, &mda_children, entry)
		if (c->pid == pid)
			break;
	if (c == NULL)
		return 0;
	TAILQ_REMOVE(&mda_children, c, entry);
	evtimer_del(&c->timer);
	r = mda_child_result(c->resfd, status, c->timedout, c->timeout, line,
	    sizeof line);
	close(c->resfd);
	/* the line may quote the recipient or a command's stderr */
	log_info("mda envelope=%016llx user=%s method=%s result=%s delay=%llds "
	    "stat=\"%s\"", (unsigned long long)c->evpid, c->user, c->method,
	    r == MDA_OK ? "Ok" : r == MDA_TEMPFAIL ? "TempFail" : "PermFail",
	    (long long)(time(NULL) - c->start),
	    log_escape(esc, sizeof esc, line, strlen(line)));
	mda_send_result(c->evpid, r, line);
	free(c);
	return 1;
}
