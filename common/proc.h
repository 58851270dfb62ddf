/*
 * The process tree.  The parent creates one socketpair for every pair of
 * processes (a full mesh) before forking; each child keeps the ends that
 * are its own and wraps them in imsg channels.  proc_send() and friends
 * address a process by id.
 */
#ifndef SMTPD_PROC_H
#define SMTPD_PROC_H

#include "imsg.h"

enum proc_id {
	PROC_PARENT,
	PROC_SMTP,
	PROC_LKA,
	PROC_QUEUE,
	PROC_MTA,
	PROC_CONTROL,
	PROC_COUNT
};

/* Which process this is. */
extern enum proc_id	 smtpd_process;

const char	*proc_name(enum proc_id);	/* "parent", "smtp", ... */

/* Called by each process for every message from a peer process. */
typedef void	(*proc_dispatch)(enum proc_id from, struct imsg *);

/* Channel to a peer process (NULL for self). */
struct imsgchan	*proc_chan(enum proc_id);

/* Builder shortcut: m_create(proc_chan(to), ...). */
struct mbuild	*proc_create(enum proc_id to, uint32_t type, uint32_t peerid,
		    int fd);
void		 proc_compose(enum proc_id to, uint32_t type,
		    uint32_t peerid, int fd);

/*
 * Entry points of the children, called in the child after fork with the
 * parsed configuration (struct smtpd_config, config.h) inherited.  Each
 * sets its title, drops privileges (proc_drop_privileges), sets up its
 * channels with proc_setup(), registers its events, and runs the loop.
 * They never return.
 */
void	 smtp_main(void) __attribute__((noreturn));
void	 lka_main(void) __attribute__((noreturn));
void	 queue_main(void) __attribute__((noreturn));
void	 mta_main(void) __attribute__((noreturn));
void	 control_main(void) __attribute__((noreturn));

/*
 * The common start of every child: set the title ("smtpd: lka"), set the
 * log name, init libevent, drop privileges to user (chroot to root when
 * root is not NULL; both only when started as root), set up the channels
 * with dispatch, and ignore SIGPIPE/SIGHUP.  The caller then adds its own
 * events and calls event_dispatch().
 */
void	 proc_child_start(enum proc_id self, const char *user,
	    const char *root, proc_dispatch);

/*
 * Process titles.  proc_title_init() (main, before anything touches argv
 * or environ) wraps setproctitle_init(); proc_title("lka") shows
 * "smtpd: lka" in ps, padded with spaces past the original argv[0] so
 * that no stray byte of the old command line shows after it.
 */
void	 proc_title_init(int argc, char *argv[], char *envp[]);
void	 proc_title(const char *name);

/* Set up the channels of this process (after event_init()). */
void	 proc_setup(enum proc_id self, proc_dispatch);
/*
 * When running as root: chroot(root) unless root is NULL, chdir("/"),
 * setgroups, setresgid, setresuid to user.  Otherwise nothing, and the
 * parent logs once that privilege separation is off.
 */
void	 proc_drop_privileges(const char *user, const char *root);

/*
 * Parent, before any fork: create the full mesh of socketpairs (one per
 * pair of processes).  proc_setup() later keeps this process's ends and
 * closes the rest.
 */
void	 proc_mesh_init(void);
/*
 * Called when the channel to peer closes.  Default (NULL): a child logs
 * "NAME event=peer-closed peer=PEER reason=..." and exits with
 * PROC_EXIT_PEER, so the parent takes the daemon down naming the child
 * that died first.  The parent sets its own.
 */
/*
 * In a short-lived child that a process forks for one job (a local
 * delivery): close the inherited channel sockets without touching the
 * forker's libevent state (an event_del would remove the forker's epoll
 * registrations), and put SIGCHLD/SIGTERM/SIGINT/SIGHUP/SIGPIPE back to
 * their defaults (libevent's handlers would forward them to the forker's
 * loop: a SIGTERM to the job would stop the daemon).  Call it first
 * thing after fork() in the job child.
 */
void	 proc_job_child(void);

#define PROC_EXIT_PEER	3	/* a child's exit status after peer-closed */
typedef void	(*proc_close_cb)(enum proc_id peer, const char *why);
void	 proc_set_close_cb(proc_close_cb);

#endif
