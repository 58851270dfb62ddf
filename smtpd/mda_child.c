/*
 * The delivery child: who a local delivery runs as, the fork that drops
 * to that user (never root) keeping only the message and the result
 * pipe, the method dispatch, and the report read back by the parent.
 */
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "envelope.h"
#include "mda_child.h"
#include "mda_deliver.h"

#define MDA_CHILD_MSGFD	3
#define MDA_CHILD_RESFD	4

/*
 * Who the delivery runs as: without root, the invoking user; as root the
 * action's `user`, else the envelope's local user; never uid 0.
 * Returns -1 with the result in *r and line.
 */
int
mda_user_resolve(const struct action *a, const struct envelope *e,
    struct mda_user *u, enum mda_result *r, char *line, size_t len)
{
	struct passwd	*pw;
	const char	*name;

	errno = 0;
	if (geteuid() != 0) {
		pw = getpwuid(getuid());
		name = "(invoking user)";
	} else {
		/* lka chose the user (it already applied `user NAME`). */
		name = e->user[0] ? e->user : a->user ? a->user : "";
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
			snprintf(line, len, "550 5.1.1 no such local user: "
			    "%.200s", name);
			*r = MDA_PERMFAIL;
		}
		return -1;
	}
	if (geteuid() == 0 && pw->pw_uid == 0) {
		snprintf(line, len, "550 5.2.0 delivery as root refused: "
		    "add an alias");
		*r = MDA_PERMFAIL;
		return -1;
	}
	/* The daemon's own users: a delivery as them could reach its
	 * processes, its spool and its control socket. */
	if (geteuid() == 0 && (strcmp(pw->pw_name, SMTPD_USER) == 0 ||
	    strcmp(pw->pw_name, SMTPD_QUEUE_USER) == 0)) {
		snprintf(line, len, "550 5.2.0 delivery as %s refused: "
		    "add an alias", pw->pw_name);
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
	    dup2(null, 1) == -1 || dup2(null, 2) == -1)
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
    const struct envelope *e, const struct mda_user *u, time_t timeout,
    const char *lhlo, pid_t parent)
{
	struct mda_vars	 v;
	struct sigaction sa;
	sigset_t	 set;
	char		 path[PATH_MAX], xerr[256], line[MDA_ERR_MAX];
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
	/* Group mail is for mbox dotlocks only, never for an alias's
	 * |command or /file (other users' mailboxes are in that group). */
	if (mda_child_become(u, mda_alias_target(e) ? A_MDA : a->method) ==
	    -1) {
		snprintf(line, sizeof line, "451 4.3.0 cannot become user "
		    "%s: %s", u->name, strerror(errno));
		mda_child_exit(resfd, MDA_TEMPFAIL, line);
	}
	if (chdir(u->home) == -1 && chdir("/") == -1)
		mda_child_exit(resfd, MDA_TEMPFAIL, "451 4.3.0 chdir failed");
	umask(077);
	/* The daemon stopped or died: do not deliver behind its back (the
	 * setting is cleared by the uid change, hence here). */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(1);

	v.user = e->user[0] ? e->user : u->name;
	v.home = u->home;
	v.rcpt = mda_rcpt(e);
	v.sender = e->sender;

	/* An alias to |command or /file overrides the action's method. */
	switch (mda_alias_target(e)) {
	case '|':
		r = mda_cmd_deliver(msgfd, e->rcpt + 1, &v, e, timeout, line,
		    sizeof line);
		mda_child_exit(resfd, r, line);
	case '/':
		r = mda_mbox_deliver(msgfd, e->rcpt, e, line, sizeof line);
		mda_child_exit(resfd, r, line);
	}

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
		else
			r = mda_lmtp_deliver(msgfd, path, lhlo, e, timeout,
			    line, sizeof line);
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

const char *
mda_method(const struct action *a, const struct envelope *e)
{
	switch (mda_alias_target(e)) {
	case '|':
		return "pipe";
	case '/':
		return "file";
	}
	return config_method_name(a->method);
}

pid_t
mda_child_spawn(int msgfd, const struct action *a, const struct envelope *e,
    const struct mda_user *u, time_t timeout, const char *lhlo, int *resfd,
    char *line, size_t len)
{
	pid_t	 pid, parent = getpid();
	int	 p[2];

	if (pipe2(p, O_CLOEXEC) == -1) {
		snprintf(line, len, "451 4.3.0 pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		snprintf(line, len, "451 4.3.0 fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		mda_child_run(msgfd, p[1], a, e, u, timeout, lhlo, parent);
	}
	setpgid(pid, pid);	/* the child does it too: no race */
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	*resfd = p[0];
	return pid;
}

enum mda_result
mda_child_result(int resfd, int status, int timedout, time_t timeout,
    char *line, size_t len)
{
	char		 buf[MDA_ERR_MAX + 2];
	enum mda_result	 r;
	size_t		 n = 0;
	ssize_t		 got;
	char		*s;

	while (n < sizeof buf - 1) {
		got = read(resfd, buf + n, sizeof buf - 1 - n);
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += got;
	}
	buf[n] = '\0';

	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && n > 1 &&
	    (buf[0] == 'O' || buf[0] == 'T' || buf[0] == 'P')) {
		r = buf[0] == 'O' ? MDA_OK : buf[0] == 'P' ? MDA_PERMFAIL :
		    MDA_TEMPFAIL;
		snprintf(line, len, "%s", buf + 1);
	} else if (timedout) {
		snprintf(line, len, "451 4.4.7 delivery timed out after %llds",
		    (long long)timeout);
		r = MDA_TEMPFAIL;
	} else if (WIFSIGNALED(status)) {
		snprintf(line, len, "451 4.3.0 delivery process killed by "
		    "signal %d", WTERMSIG(status));
		r = MDA_TEMPFAIL;
	} else {
		snprintf(line, len, "451 4.3.0 delivery process failed "
		    "without a result");
		r = MDA_TEMPFAIL;
	}
	/* Printable and on one line, for imsg and logs. */
	for (s = line; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
	return r;
}
