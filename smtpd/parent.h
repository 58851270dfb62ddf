/*
 * The parent process: after smtpd_main.c has parsed the configuration,
 * opened the sockets and forked the children, the parent runs this event
 * loop: it serves local deliveries (mda.h), reaps children, stops the
 * whole daemon when one dies, and handles SIGTERM/SIGINT/SIGHUP.
 */
#ifndef SMTPD_PARENT_H
#define SMTPD_PARENT_H

#include <sys/types.h>

#include "config.h"
#include "proc.h"

/* How the daemon was started (flags of smtpd_main.c). */
struct parent_opts {
	const char	*conffile;	/* -f, default SMTPD_CONFIG_DEFAULT */
	int		 foreground;	/* -d */
	int		 verbose;	/* -v count */
};
extern struct parent_opts	 parent_opts;

/* pid of a process child, -1 when not running (or for PROC_PARENT). */
pid_t	 parent_child_pid(enum proc_id);

/* Run the parent's loop (after the forks).  Never returns. */
void	 parent_main(pid_t pids[PROC_COUNT]) __attribute__((noreturn));

/*
 * Stop every child (SIGTERM, a bounded wait, then SIGKILL), remove the
 * control socket and exit with code.
 */
void	 parent_shutdown(int code) __attribute__((noreturn));

/*
 * Socket helpers, also for reload.  parent_listen opens, binds and
 * listens on one listener (non-blocking, SO_REUSEADDR) and stores the fd
 * in l->fd; -1 with a log line on failure.  parent_control_socket
 * creates the unix control socket (stale one unlinked, mode 0666) and
 * returns its fd, or -1 with a log line (also if a daemon answers on it).
 * The parent keeps its copies of the listener fds and the control fd.
 */
int	 parent_listen(struct listener *l);
int	 parent_control_socket(const char *path);

/*
 * SIGHUP and IMSG_CTL_RELOAD from control: re-read parent_opts.conffile
 * and apply it (control issue; smtpd/parent_ctl.c).
 */
void	 parent_reload(void);
/*
 * Every IMSG_CTL_* (IMSG_CTL_SHOW_QUEUE .. IMSG_CTL_END) the control
 * process sends to the parent lands here (smtpd/parent_ctl.c); it
 * answers with IMSG_CTL_REPLY / IMSG_CTL_END on imsg->peerid.
 */
void	 parent_on_ctl(struct imsg *);
/* smtp, queue or mta answered IMSG_RELOAD_DONE (parent_ctl.c). */
void	 parent_reload_done(void);
/* lka's IMSG_CTL_REPLY / IMSG_CTL_END to the reload the parent sent it. */
void	 parent_on_lka_reload(struct imsg *);

#endif
