/*
 * mda command delivery: the command is split into an argument vector
 * (mda_argv_split) and run with execvpe, never through a shell, with the
 * message on stdin, its stderr kept (bounded) as the diagnostic, and a
 * time limit after which its process group is killed.
 */
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "envelope.h"
#include "mda_deliver.h"
#include "mda_io.h"

#define EX_TEMPFAIL_CODE	75	/* sysexits.h EX_TEMPFAIL */
#define CMD_ENV_MAX		8

struct cmd_io {
	int		 in;		/* its stdin, -1 once closed */
	int		 errfd;		/* its stderr, -1 at EOF */
	char		 errbuf[MDA_STDERR_MAX];
	size_t		 errlen;
	struct timespec	 deadline;	/* CLOCK_MONOTONIC */
	int		 timedout;
};

/* Milliseconds left before the deadline, 0 when past it. */
static int
ms_left(const struct timespec *deadline)
{
	struct timespec	 now;
	long long	 ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000LL +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	if (ms < 0)
		return 0;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Read what stderr has; keep the first MDA_STDERR_MAX bytes. */
static void
drain_stderr(struct cmd_io *io)
{
	char	 tmp[4096];
	ssize_t	 n;
	size_t	 room;

	for (;;) {
		n = read(io->errfd, tmp, sizeof tmp);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close(io->errfd);
			io->errfd = -1;
			return;
		}
		room = sizeof io->errbuf - io->errlen;
		if ((size_t)n < room)
			room = n;
		memcpy(io->errbuf + io->errlen, tmp, room);
		io->errlen += room;
	}
}

/*
 * Write p, n to the command's stdin while draining its stderr.  -1 when
 * the deadline passes (ETIMEDOUT) or the command closed its stdin
 * (EPIPE).
 */
static int
cmd_pump(struct cmd_io *io, const char *p, size_t n)
{
	struct pollfd	 pfd[2];
	ssize_t		 w;
	int		 r, nfd, ms;

	while (n > 0) {
		nfd = 0;
		pfd[nfd].fd = io->in;
		pfd[nfd++].events = POLLOUT;
		if (io->errfd != -1) {
			pfd[nfd].fd = io->errfd;
			pfd[nfd++].events = POLLIN;
		}
		if ((ms = ms_left(&io->deadline)) == 0) {
			io->timedout = 1;
			errno = ETIMEDOUT;
			return -1;
		}
		r = poll(pfd, nfd, ms);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (io->errfd != -1 &&
		    pfd[nfd - 1].revents & (POLLIN | POLLHUP | POLLERR))
			drain_stderr(io);
		if (pfd[0].revents & (POLLOUT | POLLERR | POLLHUP)) {
			w = write(io->in, p, n);
			if (w == -1) {
				if (errno == EINTR || errno == EAGAIN)
					continue;
				return -1;
			}
			p += w;
			n -= w;
		}
	}
	return 0;
}

static int
cmd_flush(void *arg, const char *p, size_t n)
{
	return cmd_pump(arg, p, n);
}

/*
 * After stdin is closed: collect stderr until the command exits or the
 * deadline passes (-1).  A command that leaves a child holding stderr
 * open does not keep us waiting.
 */
static int
cmd_finish(struct cmd_io *io, pid_t pid, int *status)
{
	struct pollfd	 pfd;
	pid_t		 r;
	int		 ms;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid) {
			if (io->errfd != -1)
				drain_stderr(io);
			return 0;
		}
		if (r == -1 && errno != EINTR)
			return -1;
		if ((ms = ms_left(&io->deadline)) == 0) {
			io->timedout = 1;
			return -1;
		}
		if (ms > 50)
			ms = 50;
		if (io->errfd == -1) {
			usleep(ms * 1000);
			continue;
		}
		pfd.fd = io->errfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, ms) > 0)
			drain_stderr(io);
	}
}

static void
cmd_child(char **argv, char **envp, int in, int errfd, pid_t parent)
{
	int	 null;

	setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	/* The delivery was abandoned: the command goes with it. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(EX_TEMPFAIL_CODE);
	if ((null = open("/dev/null", O_RDWR)) == -1 ||
	    dup2(in, 0) == -1 || dup2(null, 1) == -1 || dup2(errfd, 2) == -1)
		_exit(EX_TEMPFAIL_CODE);
	closefrom(3);
	execvpe(argv[0], argv, envp);
	dprintf(2, "exec %s: %s", argv[0], strerror(errno));
	_exit(EX_TEMPFAIL_CODE);
}

static char *
env_entry(const char *name, const char *value)
{
	char	*s;

	if (asprintf(&s, "%s=%s", name, value ? value : "") == -1)
		return NULL;
	return s;
}

enum mda_result
mda_cmd_deliver(int msgfd, const char *cmd, const struct mda_vars *vars,
    const struct envelope *e, time_t timeout, char *err, size_t errlen)
{
	struct mda_writer	 w;
	struct cmd_io		 io;
	struct sigaction	 sa, osa;
	char			**words, **argv = NULL, *envp[CMD_ENV_MAX];
	char			 word[PATH_MAX], xerr[128];
	char			 diag[MDA_ERR_MAX];
	enum mda_result		 res;
	size_t			 n, i;
	pid_t			 pid, parent;
	int			 inp[2], errp[2], status, rerr, r;

	memset(envp, 0, sizeof envp);
	if ((words = mda_argv_split(cmd, xerr, sizeof xerr)) == NULL) {
		snprintf(err, errlen, "550 5.3.5 mda command: %s", xerr);
		return MDA_PERMFAIL;
	}
	for (n = 0; words[n]; n++)
		;
	if ((argv = calloc(n + 1, sizeof *argv)) == NULL) {
		snprintf(err, errlen, "451 4.3.0 out of memory");
		free(words);
		return MDA_TEMPFAIL;
	}
	for (i = 0; i < n; i++) {
		if (mda_expand(word, sizeof word, words[i], vars, 0, xerr,
		    sizeof xerr) == -1) {
			snprintf(err, errlen, "550 5.3.5 mda command: %s",
			    xerr);
			res = MDA_PERMFAIL;
			goto done;
		}
		if ((argv[i] = strdup(word)) == NULL) {
			snprintf(err, errlen, "451 4.3.0 out of memory");
			res = MDA_TEMPFAIL;
			goto done;
		}
	}
	envp[0] = env_entry("PATH", "/usr/local/bin:/usr/bin:/bin");
	envp[1] = env_entry("HOME", vars->home);
	envp[2] = env_entry("USER", vars->user);
	envp[3] = env_entry("LOGNAME", vars->user);
	envp[4] = env_entry("SHELL", "/bin/sh");
	envp[5] = env_entry("SENDER", e->sender);
	envp[6] = env_entry("RECIPIENT", mda_rcpt(e));
	for (i = 0; i < 7; i++)
		if (envp[i] == NULL) {
			snprintf(err, errlen, "451 4.3.0 out of memory");
			res = MDA_TEMPFAIL;
			goto done;
		}

	if (pipe2(inp, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "451 4.3.0 pipe: %s", strerror(errno));
		res = MDA_TEMPFAIL;
		goto done;
	}
	if (pipe2(errp, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "451 4.3.0 pipe: %s", strerror(errno));
		close(inp[0]);
		close(inp[1]);
		res = MDA_TEMPFAIL;
		goto done;
	}
	parent = getpid();
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "451 4.3.0 fork: %s", strerror(errno));
		close(inp[0]);
		close(inp[1]);
		close(errp[0]);
		close(errp[1]);
		res = MDA_TEMPFAIL;
		goto done;
	}
	if (pid == 0)
		cmd_child(argv, envp, inp[0], errp[1], parent);
	setpgid(pid, pid);	/* also done in the child: no race */
	close(inp[0]);
	close(errp[1]);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, &osa);

	memset(&io, 0, sizeof io);
	io.in = inp[1];
	io.errfd = errp[0];
	fcntl(io.in, F_SETFL, O_NONBLOCK);
	fcntl(io.errfd, F_SETFL, O_NONBLOCK);
	clock_gettime(CLOCK_MONOTONIC, &io.deadline);
	io.deadline.tv_sec += timeout > 0 ? timeout : MDA_TIMEOUT_DEFAULT;

	mda_writer_init(&w, io.in, cmd_flush, &io);
	r = mda_copy_message(msgfd, &w, e, 0, &rerr);
	close(io.in);
	if (r == -1 && rerr) {
		snprintf(err, errlen, "451 4.3.0 reading the queued message: "
		    "%s", strerror(errno));
		kill(-pid, SIGKILL);
		waitpid(pid, &status, 0);
		res = MDA_TEMPFAIL;
		goto closed;
	}
	/* EPIPE: the command did not read it all; its status decides. */
	if (io.timedout || cmd_finish(&io, pid, &status) == -1) {
		kill(-pid, SIGKILL);
		waitpid(pid, &status, 0);
		snprintf(err, errlen, "451 4.4.7 mda command timed out after "
		    "%llds", (long long)(timeout > 0 ? timeout :
		    MDA_TIMEOUT_DEFAULT));
		res = MDA_TEMPFAIL;
		goto closed;
	}
	mda_diag_escape(diag, sizeof diag, io.errbuf, io.errlen,
	    MDA_STDERR_MAX);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		snprintf(err, errlen, "250 2.0.0 delivered to mda command %s",
		    argv[0]);
		res = MDA_OK;
	} else if (WIFEXITED(status) &&
	    WEXITSTATUS(status) == EX_TEMPFAIL_CODE) {
		snprintf(err, errlen, "451 4.3.0 mda command exited with "
		    "EX_TEMPFAIL%s%s", diag[0] ? ": " : "", diag);
		res = MDA_TEMPFAIL;
	} else if (WIFEXITED(status)) {
		snprintf(err, errlen, "550 5.3.0 mda command exited with "
		    "status %d%s%s", WEXITSTATUS(status), diag[0] ? ": " : "",
		    diag);
		res = MDA_PERMFAIL;
	} else {
		snprintf(err, errlen, "451 4.3.0 mda command killed by "
		    "signal %d%s%s", WTERMSIG(status), diag[0] ? ": " : "",
		    diag);
		res = MDA_TEMPFAIL;
	}
closed:
	if (io.errfd != -1)
		close(io.errfd);
	sigaction(SIGPIPE, &osa, NULL);
done:
	for (i = 0; i < CMD_ENV_MAX; i++)
		free(envp[i]);
	if (argv)
		for (i = 0; i < n; i++)
			free(argv[i]);
	free(argv);
	free(words);
	return res;
}
