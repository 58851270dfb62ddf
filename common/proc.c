/*
 * The process tree plumbing shared by all six processes: the socketpair
 * mesh made by the parent before fork, each process's imsg channels to
 * its peers, the common start of a child and the privilege drop.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <event.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "proc.h"

enum proc_id		 smtpd_process = PROC_PARENT;

/* The configuration of this process (config.h). */
struct smtpd_config	*env;

static const char *const proc_names[PROC_COUNT] = {
	"parent", "smtp", "lka", "queue", "mta", "control"
};

/* proc_mesh[a][b]: a's end of the a<->b socketpair; -1 when closed. */
static int		 proc_mesh[PROC_COUNT][PROC_COUNT];
static int		 proc_mesh_ready;
static struct imsgchan	*proc_chans[PROC_COUNT];
static int		 proc_chan_fds[PROC_COUNT];	/* valid if chan set */
static proc_dispatch	 proc_cb;
static proc_close_cb	 proc_on_close_cb;
static size_t		 proc_argv0_len;

const char *
proc_name(enum proc_id id)
{
	if ((unsigned)id >= PROC_COUNT)
		return "unknown";
	return proc_names[id];
}

struct imsgchan *
proc_chan(enum proc_id id)
{
	if ((unsigned)id >= PROC_COUNT)
		return NULL;
	return proc_chans[id];
}

struct mbuild *
proc_create(enum proc_id to, uint32_t type, uint32_t peerid, int fd)
{
	struct imsgchan	*c = proc_chan(to);

	if (c == NULL)
		fatalx("%s: no channel to %s for imsg %u",
		    proc_name(smtpd_process), proc_name(to), type);
	return m_create(c, type, peerid, fd);
}

void
proc_compose(enum proc_id to, uint32_t type, uint32_t peerid, int fd)
{
	m_close(proc_create(to, type, peerid, fd));
}

void
proc_mesh_init(void)
{
	int	 a, b, sv[2];

	for (a = 0; a < PROC_COUNT; a++)
		for (b = 0; b < PROC_COUNT; b++)
			proc_mesh[a][b] = -1;
	for (a = 0; a < PROC_COUNT; a++)
		for (b = a + 1; b < PROC_COUNT; b++) {
			if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
			    0, sv) == -1)
				fatal("socketpair");
			proc_mesh[a][b] = sv[0];
			proc_mesh[b][a] = sv[1];
		}
	proc_mesh_ready = 1;
}

static void
proc_on_msg(struct imsgchan *c, struct imsg *imsg, void *arg)
{
	enum proc_id	 from = (enum proc_id)(intptr_t)arg;

	(void)c;
	proc_cb(from, imsg);
}

static void
proc_on_close(struct imsgchan *c, const char *why, void *arg)
{
	enum proc_id	 peer = (enum proc_id)(intptr_t)arg;

	(void)c;
	if (proc_on_close_cb != NULL) {
		proc_on_close_cb(peer, why);
		return;
	}
	/* A child without its peer is useless: the parent stops all. */
	if (peer == PROC_PARENT)
		log_debug("%s event=peer-closed peer=%s reason=\"%s\"",
		    proc_name(smtpd_process), proc_name(peer), why);
	else
		log_info("%s event=peer-closed peer=%s reason=\"%s\"",
		    proc_name(smtpd_process), proc_name(peer), why);
	exit(PROC_EXIT_PEER);
}

void
proc_set_close_cb(proc_close_cb cb)
{
	proc_on_close_cb = cb;
}

void
proc_setup(enum proc_id self, proc_dispatch dispatch)
{
	int	 a, b;

	if (!proc_mesh_ready)
		fatalx("proc_setup: no socketpair mesh");
	smtpd_process = self;
	proc_cb = dispatch;
	/* Keep our own ends; close every other fd of the mesh. */
	for (a = 0; a < PROC_COUNT; a++)
		for (b = 0; b < PROC_COUNT; b++) {
			if (proc_mesh[a][b] == -1 || a == (int)self)
				continue;
			close(proc_mesh[a][b]);
			proc_mesh[a][b] = -1;
		}
	for (b = 0; b < PROC_COUNT; b++) {
		if (b == (int)self || proc_mesh[self][b] == -1)
			continue;
		proc_chan_fds[b] = proc_mesh[self][b];
		proc_chans[b] = imsgchan_new(proc_mesh[self][b],
		    proc_name(b), proc_on_msg, proc_on_close,
		    (void *)(intptr_t)b);
		proc_mesh[self][b] = -1;
	}
}

void
proc_title_init(int argc, char *argv[], char *envp[])
{
	if (argc > 0 && argv[0] != NULL)
		proc_argv0_len = strlen(argv[0]);
	setproctitle_init(argc, argv, envp);
}

void
proc_title(const char *name)
{
	size_t	 len = strlen("smtpd: ") + strlen(name);
	int	 pad = 0;

	/*
	 * libbsd marks a title shorter than the old argv[0] with a '.' or
	 * a ' ' where argv[0] ended; trailing spaces are quieter.
	 */
	if (proc_argv0_len >= len && proc_argv0_len - len < 256)
		pad = (int)(proc_argv0_len - len) + 1;
	setproctitle("%s%*s", name, pad, "");
}

void
proc_job_child(void)
{
	int	 i;

	for (i = 0; i < PROC_COUNT; i++) {
		if (proc_chans[i] == NULL)
			continue;
		close(proc_chan_fds[i]);
		proc_chans[i] = NULL;	/* not freed: the memory is a copy */
	}
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
}

void
proc_drop_privileges(const char *user, const char *root)
{
	struct passwd	*pw;
	uid_t		 ruid, euid, suid;
	gid_t		 rgid, egid, sgid;

	if (geteuid() != 0)
		return;
	if ((pw = getpwnam(user)) == NULL)
		fatalx("%s: unknown user %s", proc_name(smtpd_process), user);
	if (root != NULL) {
		if (chroot(root) == -1)
			fatal("%s: chroot %s", proc_name(smtpd_process), root);
	}
	if (chdir("/") == -1)
		fatal("%s: chdir /", proc_name(smtpd_process));
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		fatal("%s: cannot drop privileges to %s",
		    proc_name(smtpd_process), user);
	if (getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1 ||
	    ruid != pw->pw_uid || euid != pw->pw_uid || suid != pw->pw_uid ||
	    rgid != pw->pw_gid || egid != pw->pw_gid || sgid != pw->pw_gid)
		fatalx("%s: privileges not dropped", proc_name(smtpd_process));
	if (pw->pw_uid != 0 && (setuid(0) != -1 || seteuid(0) != -1))
		fatalx("%s: could regain root", proc_name(smtpd_process));
}

void
proc_child_start(enum proc_id self, const char *user, const char *root,
    proc_dispatch dispatch)
{
	smtpd_process = self;
	proc_title(proc_name(self));
	log_procname(proc_name(self));
	event_init();
	proc_drop_privileges(user, root);
	proc_setup(self, dispatch);
	/* ^C on a foreground daemon is the parent's to handle. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
}
