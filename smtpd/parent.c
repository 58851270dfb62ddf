/*
 * The parent's event loop: dispatch of imsgs from the children (local
 * deliveries), SIGCHLD (a dead process child takes the daemon down),
 * SIGTERM/SIGINT (clean stop), SIGHUP (reload), and the socket helpers.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "mda.h"
#include "parent.h"
#include "proc.h"
#include "proto.h"

#define PARENT_STOP_WAIT_MS	5000	/* SIGTERM grace before SIGKILL */
#define PARENT_PEER_LOSS(st)	(WIFEXITED(st) && \
				    WEXITSTATUS(st) == PROC_EXIT_PEER)

struct parent_opts	 parent_opts = { SMTPD_CONFIG_DEFAULT, 0, 0 };

static pid_t		 parent_pids[PROC_COUNT];
static int		 parent_stopping;
static struct event	 parent_ev_chld, parent_ev_term, parent_ev_int;
static struct event	 parent_ev_hup, parent_ev_lost;
static enum proc_id	 parent_lost_peer;

pid_t
parent_child_pid(enum proc_id id)
{
	if (id <= PROC_PARENT || id >= PROC_COUNT)
		return -1;
	return parent_pids[id];
}

static void
parent_status(char *dst, size_t len, int status)
{
	if (WIFEXITED(status))
		snprintf(dst, len, "exit:%d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(dst, len, "signal:%d", WTERMSIG(status));
	else
		snprintf(dst, len, "unknown:%d", status);
}

/* Forget a reaped pid; returns its process id or PROC_PARENT if none. */
static enum proc_id
parent_forget(pid_t pid)
{
	int	 i;

	for (i = PROC_PARENT + 1; i < PROC_COUNT; i++)
		if (parent_pids[i] == pid) {
			parent_pids[i] = -1;
			return (enum proc_id)i;
		}
	return PROC_PARENT;
}

static int
parent_children_left(void)
{
	int	 i, n = 0;

	for (i = PROC_PARENT + 1; i < PROC_COUNT; i++)
		if (parent_pids[i] != -1)
			n++;
	return n;
}

void
parent_shutdown(int code)
{
	struct timespec	 ts = { 0, 20 * 1000 * 1000 };
	pid_t		 pid;
	int		 i, status, waited;

	parent_stopping = 1;
	for (i = PROC_PARENT + 1; i < PROC_COUNT; i++)
		if (parent_pids[i] != -1)
			kill(parent_pids[i], SIGTERM);
	for (waited = 0; parent_children_left() > 0 &&
	    waited < PARENT_STOP_WAIT_MS; waited += 20) {
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			if (parent_forget(pid) == PROC_PARENT)
				mda_on_child_exit(pid, status);
		if (pid == -1 && errno == ECHILD)
			break;
		if (parent_children_left() > 0)
			nanosleep(&ts, NULL);
	}
	for (i = PROC_PARENT + 1; i < PROC_COUNT; i++) {
		if (parent_pids[i] == -1)
			continue;
		log_warnx("parent event=child-killed process=%s",
		    proc_name(i));
		kill(parent_pids[i], SIGKILL);
		waitpid(parent_pids[i], &status, 0);
		parent_pids[i] = -1;
	}
	if (env != NULL && env->control_socket != NULL)
		unlink(env->control_socket);
	log_info("parent event=exiting status=%d", code);
	exit(code);
}

/*
 * Reap what exited.  A dead process child takes the daemon down; the
 * log names the child that died first: when several went in one batch,
 * one that did not merely lose a peer (PROC_EXIT_PEER).
 */
static void
parent_on_sigchld(int sig, short ev, void *arg)
{
	enum proc_id	 id, culprit = PROC_PARENT;
	pid_t		 pid, culprit_pid = -1;
	struct timespec	 ts = { 0, 20 * 1000 * 1000 };
	char		 st[32];
	int		 status, culprit_status = 0, tries;

	(void)sig;
	(void)ev;
	(void)arg;
	/* Up to ~1 s (a signal may cut a sleep short: count the tries). */
	for (tries = 0; tries < 50; tries++) {
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (mda_on_child_exit(pid, status))
				continue;
			if ((id = parent_forget(pid)) == PROC_PARENT)
				continue;
			if (culprit == PROC_PARENT ||
			    (PARENT_PEER_LOSS(culprit_status) &&
			    !PARENT_PEER_LOSS(status))) {
				culprit = id;
				culprit_pid = pid;
				culprit_status = status;
			}
		}
		if (culprit == PROC_PARENT || parent_stopping)
			return;
		if (!PARENT_PEER_LOSS(culprit_status) ||
		    parent_children_left() == 0)
			break;
		/* The child whose death it saw may not be reapable yet. */
		nanosleep(&ts, NULL);
	}
	parent_status(st, sizeof st, culprit_status);
	log_warnx("parent event=child-exited process=%s pid=%ld status=%s",
	    proc_name(culprit), (long)culprit_pid, st);
	parent_shutdown(1);
}

static void
parent_on_sigterm(int sig, short ev, void *arg)
{
	(void)ev;
	(void)arg;
	log_info("parent event=signal signal=%s", sig == SIGINT ? "INT" :
	    "TERM");
	parent_shutdown(0);
}

static void
parent_on_sighup(int sig, short ev, void *arg)
{
	(void)sig;
	(void)ev;
	(void)arg;
	log_info("parent event=signal signal=HUP");
	parent_reload();
}

/* The channel closed but SIGCHLD did not follow: the child is broken. */
static void
parent_on_lost(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	if (parent_stopping || parent_pids[parent_lost_peer] == -1)
		return;
	log_warnx("parent event=child-channel-closed process=%s",
	    proc_name(parent_lost_peer));
	parent_shutdown(1);
}

static void
parent_on_chan_close(enum proc_id peer, const char *why)
{
	struct timeval	 tv = { 1, 0 };

	log_debug("parent event=peer-closed peer=%s reason=\"%s\"",
	    proc_name(peer), why);
	if (parent_stopping || evtimer_pending(&parent_ev_lost, NULL))
		return;
	parent_lost_peer = peer;
	evtimer_add(&parent_ev_lost, &tv);
}

static void
parent_dispatch(enum proc_id from, struct imsg *imsg)
{
	if (from == PROC_QUEUE && imsg->type == IMSG_MDA_DELIVER) {
		mda_on_deliver(imsg);
		return;
	}
	if (from == PROC_CONTROL && imsg->type >= IMSG_CTL_SHOW_QUEUE &&
	    imsg->type <= IMSG_CTL_END) {
		parent_on_ctl(imsg);
		return;
	}
	if (from == PROC_LKA && (imsg->type == IMSG_CTL_REPLY ||
	    imsg->type == IMSG_CTL_END)) {
		parent_on_lka_reload(imsg);
		return;
	}
	if (imsg->type == IMSG_RELOAD_DONE && (from == PROC_SMTP ||
	    from == PROC_QUEUE || from == PROC_MTA)) {
		parent_reload_done();
		return;
	}
	fatalx("parent: unexpected imsg %u from %s", imsg->type,
	    proc_name(from));
}

void
parent_main(pid_t pids[PROC_COUNT])
{
	int	 i;

	for (i = 0; i < PROC_COUNT; i++)
		parent_pids[i] = i == PROC_PARENT ? -1 : pids[i];
	proc_title(proc_name(PROC_PARENT));
	event_init();
	proc_setup(PROC_PARENT, parent_dispatch);
	evtimer_set(&parent_ev_lost, parent_on_lost, NULL);
	proc_set_close_cb(parent_on_chan_close);
	signal(SIGPIPE, SIG_IGN);
	signal_set(&parent_ev_chld, SIGCHLD, parent_on_sigchld, NULL);
	signal_set(&parent_ev_term, SIGTERM, parent_on_sigterm, NULL);
	signal_set(&parent_ev_int, SIGINT, parent_on_sigterm, NULL);
	signal_set(&parent_ev_hup, SIGHUP, parent_on_sighup, NULL);
	signal_add(&parent_ev_chld, NULL);
	signal_add(&parent_ev_term, NULL);
	signal_add(&parent_ev_int, NULL);
	signal_add(&parent_ev_hup, NULL);
	/* A child may have died before the handler was in place. */
	parent_on_sigchld(SIGCHLD, 0, NULL);
	log_info("parent event=started pid=%ld", (long)getpid());
	event_dispatch();
	fatalx("parent: event loop ended");
}

int
parent_listen(struct listener *l)
{
	struct sockaddr_storage	 ss = l->ss;
	socklen_t		 sslen = l->sslen;
	int			 fd, on = 1;

	if (ss.ss_family == AF_INET) {
		((struct sockaddr_in *)&ss)->sin_port = htons(l->port);
		sslen = sizeof(struct sockaddr_in);
	} else if (ss.ss_family == AF_INET6) {
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(l->port);
		sslen = sizeof(struct sockaddr_in6);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		log_warn("parent event=listen-failed listener=%s port=%u "
		    "step=socket", l->name, l->port);
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == -1 ||
	    (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof on) == -1)) {
		log_warn("parent event=listen-failed listener=%s port=%u "
		    "step=setsockopt", l->name, l->port);
		close(fd);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&ss, sslen) == -1 ||
	    listen(fd, SOMAXCONN) == -1) {
		log_warn("parent event=listen-failed listener=%s port=%u",
		    l->name, l->port);
		close(fd);
		return -1;
	}
	l->fd = fd;
	return fd;
}

int
parent_control_socket(const char *path)
{
	struct sockaddr_un	 sun;
	mode_t			 old;
	int			 fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		log_warnx("parent event=control-failed path=%s "
		    "reason=\"path too long\"", path);
		return -1;
	}
	strncpy(sun.sun_path, path, sizeof sun.sun_path - 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		log_warn("parent event=control-failed path=%s", path);
		return -1;
	}
	/* A live daemon answers: do not steal its socket. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0 ||
	    errno == EAGAIN || errno == EINPROGRESS) {
		log_warnx("parent event=control-failed path=%s "
		    "reason=\"socket in use by another daemon\"", path);
		close(fd);
		return -1;
	}
	close(fd);
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("parent event=control-failed path=%s step=unlink",
		    path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		log_warn("parent event=control-failed path=%s", path);
		return -1;
	}
	old = umask(0111);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		umask(old);
		log_warn("parent event=control-failed path=%s step=bind",
		    path);
		close(fd);
		return -1;
	}
	umask(old);
	/* Everyone may connect; control checks the peer's credentials. */
	if (chmod(path, 0666) == -1 || listen(fd, SOMAXCONN) == -1) {
		log_warn("parent event=control-failed path=%s step=listen",
		    path);
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}
