/*
 * Local delivery, parent side: for each IMSG_MDA_DELIVER the parent
 * resolves the user, forks a child that becomes that user (never root)
 * and runs one delivery method (mda_deliver.h); the child's result line
 * comes back through a pipe, and its exit (or the time limit) sends
 * IMSG_QUEUE_DELIVERY_OK / TEMPFAIL / PERMFAIL to the queue.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/wait.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
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
#include "mda_deliver.h"
#include "proc.h"
#include "proto.h"

#define MDA_KILL_SLACK	10	/* seconds past the limit before SIGKILL */
#define MDA_CHILD_MSGFD	3
#define MDA_CHILD_RESFD	4

struct mda_user {
	char	 name[256];
	char	 home[PATH_MAX];
	uid_t	 uid;
	gid_t	 gid;
};

struct mda_child {
	TAILQ_ENTRY(mda_child)	 entry;
	pid_t			 pid;
	uint64_t		 evpid;
	int			 resfd;		/* read end of the result pipe */
	struct event		 timer;
	int			 timedout;
	time_t			 start;
	time_t			 timeout;
	char			 user[64];
	const char		*method;
};

static TAILQ_HEAD(, mda_child)	 mda_children =
    TAILQ_HEAD_INITIALIZER(mda_children);

static const char *
mda_method_name(enum action_method m)
{
	switch (m) {
	case A_MAILDIR:
		return "maildir";
	case A_MBOX:
		return "mbox";
	case A_MDA:
		return "mda";
	case A_LMTP:
		return "lmtp";
	case A_RELAY:
		break;
	}
	return "relay";
}

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
	m_close(m);
}

static void
mda_refuse(const struct envelope *e, enum mda_result r, const char *line)
{
	char	 id[17], buf[MDA_ERR_MAX], rcpt[ADDR_MAX];

	strlcpy(buf, line, sizeof buf);
	mda_clean_line(buf);
	log_escape(rcpt, sizeof rcpt, e->rcpt, strlen(e->rcpt));
	log_info("mda envelope=%s rcpt=\"%s\" result=%s stat=\"%s\"",
	    evpid_str(e->id, id), rcpt,
	    r == MDA_PERMFAIL ? "PermFail" : "TempFail", buf);
	mda_send_result(e->id, r, buf);
}

/*
 * Who the delivery runs as: without root, the invoking user; as root the
 * action's `user`, else the envelope's local user; never uid 0.
 * Returns -1 with the result in *r and line.
 */
static int
mda_resolve_user(const struct action *a, const struct envelope *e,
    struct mda_user *u, enum mda_result *r, char *line, size_t len)
{
	struct passwd	*pw;
	const char	*name;

	errno = 0;
	if (geteuid() != 0) {
		pw = getpwuid(getuid());
		name = "(invoking user)";
	} else {
		name = a->user ? a->user : e->user;
		if (name[0] == '\0') {
			snprintf(line, len, "550 5.1.1 no local user for this "
			    "recipient");
			*r = MDA_PERMFAIL;
			return -1;
		}
		pw = getpwnam(name);
	}
	if (pw == NULL) {
		if (errno != 0 && errno != ENOENT && errno != ESRCH) {
			snprintf(line, len, "451 4.3.0 user lookup failed: %s",
			    strerror(errno));
			*r = MDA_TEMPFAIL;
		} else {
			snprintf(line, len, "550 5.1.1 no such local user: %.200s",
			    name);
			*r = MDA_PERMFAIL;
		}
		return -1;
	}
	if (geteuid() == 0 && pw->pw_uid == 0) {
		snprintf(line, len, "550 5.2.0 delivery as root refused: add an "
		    "alias");
		*r = MDA_PERMFAIL;
		return -1;
	}
	if (strlcpy(u->name, pw->pw_name, sizeof u->name) >= sizeof u->name ||
	    strlcpy(u->home, pw->pw_dir ? pw->pw_dir : "", sizeof u->home) >=
	    sizeof u->home) {
		snprintf(line, len, "550 5.1.1 user name or home too long");
		*r = MDA_PERMFAIL;
		return -1;
	}
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	return 0;
}

static void __attribute__((noreturn))
mda_child_exit(int resfd, enum mda_result r, const char *line)
{
	char	 buf[MDA_ERR_MAX + 2];
	int	 n;

	n = snprintf(buf, sizeof buf, "%c%s",
	    r == MDA_OK ? 'O' : r == MDA_PERMFAIL ? 'P' : 'T', line);
	if (n >= (int)sizeof buf)
		n = sizeof buf - 1;
	(void)!write(resfd, buf, n);
	_exit(0);
}

/* In the child: only the message and the result pipe stay open. */
static int
mda_child_fds(int msgfd, int resfd)
{
	int	 m, r, null;

	if ((m = fcntl(msgfd, F_DUPFD, 100)) == -1 ||
	    (r = fcntl(resfd, F_DUPFD, 100)) == -1)
		return -1;
	if (dup2(m, MDA_CHILD_MSGFD) == -1 || dup2(r, MDA_CHILD_RESFD) == -1)
		return -1;
	fcntl(MDA_CHILD_MSGFD, F_SETFD, FD_CLOEXEC);
	fcntl(MDA_CHILD_RESFD, F_SETFD, FD_CLOEXEC);
	if ((null = open("/dev/null", O_RDWR)) == -1 || dup2(null, 0) == -1 ||
	    dup2(null, 1) == -1)
		return -1;
	closefrom(MDA_CHILD_RESFD + 1);
	return 0;
}

static int
mda_child_become(const struct mda_user *u, enum action_method method)
{
	struct group	*gr;
	gid_t		 groups[2];
	int		 ngroups = 0;

	if (geteuid() != 0)
		return 0;
	groups[ngroups++] = u->gid;
	/* Debian: mbox dotlocks in /var/mail need group mail. */
	if (method == A_MBOX && (gr = getgrnam("mail")) != NULL &&
	    gr->gr_gid != u->gid)
		groups[ngroups++] = gr->gr_gid;
	if (setgroups(ngroups, groups) == -1 ||
	    setresgid(u->gid, u->gid, u->gid) == -1 ||
	    setresuid(u->uid, u->uid, u->uid) == -1)
		return -1;
	if (getuid() != u->uid || geteuid() != u->uid || getgid() != u->gid ||
	    setuid(0) != -1 || u->uid == 0)
		return -1;
	return 0;
}

static void __attribute__((noreturn))
mda_child_run(int msgfd, int resfd, const struct action *a,
    const struct envelope *e, const struct mda_user *u, time_t timeout)
{
	struct mda_vars	 v;
	struct sigaction sa;
	sigset_t	 set;
	char		 path[PATH_MAX], xerr[256], line[MDA_ERR_MAX];
	char		 lhlo[256];
	enum mda_result	 r;
	const char	*fmt;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	setpgid(0, 0);
	setproctitle("delivery %s", u->name);

	if (mda_child_fds(msgfd, resfd) == -1) {
		/* closefrom() comes last: resfd is still open. */
		snprintf(line, sizeof line, "451 4.3.0 delivery setup: %s",
		    strerror(errno));
		mda_child_exit(resfd, MDA_TEMPFAIL, line);
	}
	msgfd = MDA_CHILD_MSGFD;
	resfd = MDA_CHILD_RESFD;
	if (mda_child_become(u, a->method) == -1) {
		snprintf(line, sizeof line, "451 4.3.0 cannot become user "
		    "%s: %s", u->name, strerror(errno));
		mda_child_exit(resfd, MDA_TEMPFAIL, line);
	}
	if (chdir(u->home) == -1 && chdir("/") == -1)
		mda_child_exit(resfd, MDA_TEMPFAIL, "451 4.3.0 chdir failed");
	umask(077);

	v.user = e->user[0] ? e->user : u->name;
	v.home = u->home;
	v.rcpt = e->rcpt;
	v.sender = e->sender;

	switch (a->method) {
	case A_MAILDIR:
	case A_MBOX:
	case A_LMTP:
		if (a->method == A_MBOX && a->path == NULL) {
			if (strchr(u->name, '/') != NULL ||
			    u->name[0] == '.') {
				mda_child_exit(resfd, MDA_PERMFAIL,
				    "550 5.1.1 bad user name for mbox");
			}
			snprintf(path, sizeof path, "/var/mail/%s", u->name);
		} else {
			fmt = a->path ? a->path : "~/Maildir";
			if (mda_expand(path, sizeof path, fmt, &v, 1, xerr,
			    sizeof xerr) == -1) {
				snprintf(line, sizeof line, "550 5.3.5 "
				    "expanding %s: %s", fmt, xerr);
				mda_child_exit(resfd, MDA_PERMFAIL, line);
			}
		}
		if (a->method == A_MAILDIR)
			r = mda_maildir_deliver(msgfd, path, e, line,
			    sizeof line);
		else if (a->method == A_MBOX)
			r = mda_mbox_deliver(msgfd, path, e, line,
			    sizeof line);
		else {
			if (env != NULL && env->hostname[0])
				strlcpy(lhlo, env->hostname, sizeof lhlo);
			else if (gethostname(lhlo, sizeof lhlo) == -1)
				strlcpy(lhlo, "localhost", sizeof lhlo);
			lhlo[sizeof lhlo - 1] = '\0';
			r = mda_lmtp_deliver(msgfd, path, lhlo, e, timeout,
			    line, sizeof line);
		}
		break;
	case A_MDA:
		r = mda_cmd_deliver(msgfd, a->path ? a->path : "", &v, e,
		    timeout, line, sizeof line);
		break;
	default:
		r = MDA_PERMFAIL;
		snprintf(line, sizeof line, "554 5.3.5 action %s is not local",
		    a->name);
		break;
	}
	mda_child_exit(resfd, r, line);
}

static void
mda_on_timeout(int fd, short ev, void *arg)
{
	struct mda_child	*c = arg;
	char			 id[17];

	(void)fd;
	(void)ev;
	log_warnx("mda envelope=%s event=timeout pid=%ld limit=%llds",
	    evpid_str(c->evpid, id), (long)c->pid, (long long)c->timeout);
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
	char			 err[256], line[MDA_ERR_MAX];
	time_t			 timeout;
	pid_t			 pid;
	int			 msgfd, p[2];

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
	if (mda_resolve_user(a, &e, &u, &r, line, sizeof line) == -1) {
		mda_refuse(&e, r, line);
		close(msgfd);
		return;
	}
	timeout = env->mda_timeout > 0 ? env->mda_timeout :
	    MDA_TIMEOUT_DEFAULT;

	if (pipe2(p, O_CLOEXEC) == -1) {
		snprintf(line, sizeof line, "451 4.3.0 pipe: %s",
		    strerror(errno));
		mda_refuse(&e, MDA_TEMPFAIL, line);
		close(msgfd);
		return;
	}
	if ((pid = fork()) == -1) {
		snprintf(line, sizeof line, "451 4.3.0 fork: %s",
		    strerror(errno));
		mda_refuse(&e, MDA_TEMPFAIL, line);
		close(msgfd);
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		close(p[0]);
		mda_child_run(msgfd, p[1], a, &e, &u, timeout);
	}
	setpgid(pid, pid);
	close(p[1]);
	close(msgfd);
	fcntl(p[0], F_SETFL, O_NONBLOCK);

	if ((c = calloc(1, sizeof *c)) == NULL)
		fatal("mda_on_deliver");
	c->pid = pid;
	c->evpid = e.id;
	c->resfd = p[0];
	c->start = time(NULL);
	c->timeout = timeout;
	c->method = mda_method_name(a->method);
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
	char			 buf[MDA_ERR_MAX + 2], id[17];
	const char		*line;
	size_t			 len = 0;
	ssize_t			 n;

	TAILQ_FOREACH(c, &mda_children, entry)
		if (c->pid == pid)
			break;
	if (c == NULL)
		return 0;
	TAILQ_REMOVE(&mda_children, c, entry);
	evtimer_del(&c->timer);
	while (len < sizeof buf - 1) {
		n = read(c->resfd, buf + len, sizeof buf - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	close(c->resfd);

	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && len > 1 &&
	    (buf[0] == 'O' || buf[0] == 'T' || buf[0] == 'P')) {
		r = buf[0] == 'O' ? MDA_OK : buf[0] == 'P' ? MDA_PERMFAIL :
		    MDA_TEMPFAIL;
		line = buf + 1;
	} else if (c->timedout) {
		snprintf(buf, sizeof buf, "451 4.4.7 delivery timed out after "
		    "%llds", (long long)c->timeout);
		r = MDA_TEMPFAIL;
		line = buf;
	} else if (WIFSIGNALED(status)) {
		snprintf(buf, sizeof buf, "451 4.3.0 delivery process killed "
		    "by signal %d", WTERMSIG(status));
		r = MDA_TEMPFAIL;
		line = buf;
	} else {
		snprintf(buf, sizeof buf, "451 4.3.0 delivery process failed "
		    "without a result");
		r = MDA_TEMPFAIL;
		line = buf;
	}
	mda_clean_line((char *)line);
	log_info("mda envelope=%s user=%s method=%s result=%s delay=%llds "
	    "stat=\"%s\"", evpid_str(c->evpid, id), c->user, c->method,
	    r == MDA_OK ? "Ok" : r == MDA_TEMPFAIL ? "TempFail" : "PermFail",
	    (long long)(time(NULL) - c->start), line);
	mda_send_result(c->evpid, r, line);
	free(c);
	return 1;
}
