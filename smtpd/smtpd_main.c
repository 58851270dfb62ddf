/*
 * smtpd(8) start-up: flags, configuration, spool and sockets, the
 * socketpair mesh and the fork of the five children; then the parent's
 * loop (parent.c).
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "parent.h"
#include "proc.h"
#include "control/sendmail.h"

static void	usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fprintf(stderr, "usage: smtpd [-dnv] [-D name=value] [-f file]\n");
	exit(1);
}

/* mkdir -p for the parents of path (mode 0755); path itself excluded. */
static int
smtpd_mkparents(const char *path)
{
	char	*p, *s;

	if ((p = strdup(path)) == NULL)
		fatal("strdup");
	for (s = p + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		if (mkdir(p, 0755) == -1 && errno != EEXIST) {
			log_warn("parent event=mkdir-failed path=%s", p);
			free(p);
			return -1;
		}
		*s = '/';
	}
	free(p);
	return 0;
}

/* A directory that exists (created if missing) with owner and mode. */
static int
smtpd_dir(const char *path, const char *user, mode_t mode)
{
	struct passwd	*pw = NULL;
	struct stat	 st;

	if (user != NULL && (pw = getpwnam(user)) == NULL) {
		log_warnx("parent event=setup-failed reason=\"unknown user "
		    "%s (run tools/setup.sh --users)\"", user);
		return -1;
	}
	if (stat(path, &st) == -1) {
		if (errno != ENOENT || smtpd_mkparents(path) == -1 ||
		    mkdir(path, mode) == -1) {
			log_warn("parent event=mkdir-failed path=%s", path);
			return -1;
		}
		if (stat(path, &st) == -1) {
			log_warn("parent event=stat-failed path=%s", path);
			return -1;
		}
	}
	if (!S_ISDIR(st.st_mode)) {
		log_warnx("parent event=setup-failed path=%s "
		    "reason=\"not a directory\"", path);
		return -1;
	}
	if (pw != NULL && (st.st_uid != pw->pw_uid ||
	    st.st_gid != pw->pw_gid) &&
	    chown(path, pw->pw_uid, pw->pw_gid) == -1) {
		log_warn("parent event=chown-failed path=%s", path);
		return -1;
	}
	if ((st.st_mode & 07777) != mode && chmod(path, mode) == -1) {
		log_warn("parent event=chmod-failed path=%s", path);
		return -1;
	}
	return 0;
}

/* In a new child: close the sockets that belong to other processes. */
static void
smtpd_child_fds(enum proc_id self)
{
	struct listener	*l;

	if (self != PROC_SMTP)
		TAILQ_FOREACH(l, &env->listeners, entry)
			if (l->fd != -1) {
				close(l->fd);
				l->fd = -1;
			}
	if (self != PROC_CONTROL && env->ctl_fd != -1) {
		close(env->ctl_fd);
		env->ctl_fd = -1;
	}
}

static pid_t
smtpd_fork(enum proc_id id)
{
	pid_t	 pid;

	if ((pid = fork()) == -1)
		fatal("fork %s", proc_name(id));
	if (pid > 0)
		return pid;
	smtpd_child_fds(id);
	switch (id) {
	case PROC_SMTP:
		smtp_main();
	case PROC_LKA:
		lka_main();
	case PROC_QUEUE:
		queue_main();
	case PROC_MTA:
		mta_main();
	case PROC_CONTROL:
		control_main();
	default:
		fatalx("smtpd_fork: bad process %d", id);
	}
}

int
main(int argc, char *argv[], char *envp[])
{
	struct smtpd_config	*conf;
	struct listener		*l;
	pid_t			 pids[PROC_COUNT];
	int			 ch, checkonly = 0, i, root;

	proc_title_init(argc, argv, envp);
	log_init(1, 0);
	while ((ch = getopt(argc, argv, "dD:f:nv")) != -1) {
		switch (ch) {
		case 'd':
			parent_opts.foreground = 1;
			break;
		case 'D':
			if (config_define(optarg) == -1) {
				fprintf(stderr, "smtpd: bad macro "
				    "definition: %s\n", optarg);
				exit(1);
			}
			break;
		case 'f':
			parent_opts.conffile = optarg;
			break;
		case 'n':
			checkonly = 1;
			break;
		case 'v':
			parent_opts.verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init(1, parent_opts.verbose);

	if ((conf = config_parse(parent_opts.conffile)) == NULL)
		exit(1);
	if (checkonly) {
		printf("configuration OK\n");
		exit(0);
	}
	env = conf;
	env->ctl_fd = -1;
	if (env->spool == NULL || env->control_socket == NULL)
		fatalx("parent: configuration lacks spool or control socket");

	root = geteuid() == 0;
	if (smtpd_dir(env->spool, root ? SMTPD_QUEUE_USER : NULL,
	    0711) == -1)
		exit(1);
	if (root && smtpd_dir("/var/empty", "root", 0755) == -1)
		exit(1);
	if (root && (getpwnam(SMTPD_USER) == NULL)) {
		log_warnx("parent event=setup-failed reason=\"unknown user "
		    "%s (run tools/setup.sh --users)\"", SMTPD_USER);
		exit(1);
	}

	TAILQ_FOREACH(l, &env->listeners, entry)
		l->fd = -1;
	TAILQ_FOREACH(l, &env->listeners, entry)
		if (parent_listen(l) == -1)
			exit(1);
	if ((env->ctl_fd = parent_control_socket(env->control_socket)) == -1)
		exit(1);

	if (!parent_opts.foreground) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		log_init(0, parent_opts.verbose);
	}
	if (!root)
		log_info("privilege separation is off (not started as root)");

	proc_mesh_init();
	pids[PROC_PARENT] = getpid();
	for (i = PROC_PARENT + 1; i < PROC_COUNT; i++) {
		pids[i] = smtpd_fork((enum proc_id)i);
		log_debug("parent event=forked process=%s pid=%ld",
		    proc_name(i), (long)pids[i]);
	}
	/* Mail sendmail spooled while the daemon was down (control). */
	offline_pickup(env->spool, env->control_socket);
	parent_main(pids);
}
