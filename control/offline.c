/*
 * The offline spool: when sendmail cannot reach the daemon it writes the
 * job (envelope lines, a blank line, the message) into SPOOL/offline; at
 * the next start the parent forks a runner that submits each file as its
 * owner, then removes it.  The directory and each file are checked
 * (no symlinks, no hard links, not world-writable) before use.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ctl_client.h"
#include "log.h"
#include "proto.h"
#include "sendmail.h"

#define OFFLINE_MAX_SIZE	(256 * 1024 * 1024)
#define OFFLINE_MAX_FILES	10000

int
offline_write(const char *spool, const struct sm_job *j, char *err,
    size_t errlen)
{
	struct buf	 b;
	char		 dir[1024], tmp[1100], final[1100];
	size_t		 off;
	ssize_t		 n;
	int		 fd;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", spool, OFFLINE_DIR) >=
	    sizeof(dir)) {
		snprintf(err, errlen, "spool path too long");
		return -1;
	}
	(void)mkdir(dir, 0770);		/* root, or the daemon's user */
	snprintf(tmp, sizeof(tmp), "%s/.tmp.XXXXXX", dir);
	if ((fd = mkstemp(tmp)) == -1) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	buf_init(&b);
	offline_dump(j, &b);
	for (off = 0; off < b.len; off += (size_t)n)
		if ((n = write(fd, b.data + off, b.len - off)) <= 0)
			break;
	if (off != b.len || fsync(fd) == -1 || close(fd) == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		unlink(tmp);
		buf_free(&b);
		return -1;
	}
	buf_free(&b);
	/* The final name drops the leading ".tmp.": now it is complete. */
	snprintf(final, sizeof(final), "%s/%lld.%s", dir, (long long)time(NULL),
	    tmp + strlen(dir) + 6);
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) ==
	    -1) {
		snprintf(err, errlen, "rename %s: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	snprintf(err, errlen, "%s", final);
	return 0;
}

/* In the grandchild, as the owner: submit the file on fd. */
static int
offline_submit(int fd, const char *name, const char *sockpath)
{
	struct sm_job	 job;
	struct buf	 b;
	struct ctl_conn	*c = NULL;
	char		 tmp[8192], err[512];
	ssize_t		 n;
	int		 sfd = -1, i, ret;

	buf_init(&b);
	while ((n = read(fd, tmp, sizeof(tmp))) > 0) {
		buf_add(&b, tmp, (size_t)n);
		if (b.len > OFFLINE_MAX_SIZE)
			break;
	}
	if (n != 0 || offline_load(&job, b.data ? b.data : "", b.len, err,
	    sizeof(err)) == -1) {
		log_warnx("offline file=%s result=invalid reason=\"%s\"",
		    name, n != 0 ? "read error or too large" : err);
		buf_free(&b);
		return EX_DATAERR;
	}
	buf_free(&b);
	/* The daemon is starting: give the control process time. */
	for (i = 0; i < 30; i++) {
		if ((c = ctl_open(sockpath)) != NULL)
			break;
		sleep(1);
	}
	if (c == NULL) {
		log_warnx("offline file=%s result=tempfail reason=\"no "
		    "control socket\"", name);
		sm_job_free(&job);
		return EX_TEMPFAIL;
	}
	m_close(ctl_create(c, IMSG_SMTP_ENQUEUE));
	if (ctl_wait(c, NULL, NULL, 120) == -1 || !ctl_ok(c) ||
	    (sfd = ctl_take_fd(c)) == -1) {
		log_warnx("offline file=%s result=tempfail reason=\"%s\"",
		    name, ctl_message(c));
		ctl_close(c);
		sm_job_free(&job);
		return EX_TEMPFAIL;
	}
	ctl_close(c);
	ret = sm_smtp_send(sfd, &job, NULL, err, sizeof(err));
	close(sfd);
	log_info("offline file=%s result=%s%s%s%s", name,
	    ret == EX_OK ? "enqueued" : "failed", err[0] ? " reason=\"" : "",
	    err, err[0] ? "\"" : "");
	sm_job_free(&job);
	return ret;
}

/* The runner: walk the directory, one grandchild per file. */
static void
offline_run(const char *spool, const char *sockpath)
{
	struct stat	 sb;
	struct dirent	*de;
	struct passwd	*pw;
	DIR		*d;
	char		 dir[1024];
	pid_t		 pid;
	int		 dfd, fd, status, count = 0;

	snprintf(dir, sizeof(dir), "%s/%s", spool, OFFLINE_DIR);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			log_warn("offline: %s", dir);
		return;
	}
	if (fstat(dfd, &sb) == -1 || !S_ISDIR(sb.st_mode) ||
	    (sb.st_mode & S_IWOTH) ||
	    (sb.st_uid != 0 && sb.st_uid != geteuid())) {
		log_warnx("offline dir=%s result=ignored reason=\"not a "
		    "directory of ours, or world-writable\"", dir);
		close(dfd);
		return;
	}
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return;
	}
	while ((de = readdir(d)) != NULL && count++ < OFFLINE_MAX_FILES) {
		if (de->d_name[0] == '.')
			continue;
		fd = openat(dfd, de->d_name, O_RDONLY | O_NOFOLLOW |
		    O_NONBLOCK | O_CLOEXEC);
		if (fd == -1) {
			log_warnx("offline file=%s result=ignored "
			    "reason=\"%s\"", de->d_name, errno == ELOOP ?
			    "symbolic link" : strerror(errno));
			continue;
		}
		if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
		    sb.st_nlink != 1 ||
		    (pw = getpwuid(sb.st_uid)) == NULL ||
		    (sb.st_mode & (S_IWGRP | S_IWOTH))) {
			log_warnx("offline file=%s result=ignored reason=\"not "
			    "a plain file of a known user\"", de->d_name);
			close(fd);
			continue;
		}
		if ((pid = fork()) == -1) {
			log_warn("offline: fork");
			close(fd);
			break;
		}
		if (pid == 0) {
			if (geteuid() == 0 && (setgroups(1, &pw->pw_gid) ==
			    -1 || setresgid(pw->pw_gid, pw->pw_gid,
			    pw->pw_gid) == -1 || setresuid(sb.st_uid,
			    sb.st_uid, sb.st_uid) == -1))
				_exit(EX_OSERR);
			_exit(offline_submit(fd, de->d_name, sockpath));
		}
		close(fd);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		/* Submitted, or unusable and already logged: either way
		 * the file has had its chance.  A temporary failure keeps
		 * it for the next start. */
		if (WIFEXITED(status) && WEXITSTATUS(status) != EX_TEMPFAIL &&
		    WEXITSTATUS(status) != EX_OSERR) {
			if (WEXITSTATUS(status) != EX_OK)
				log_warnx("offline file=%s result=dropped "
				    "status=%d", de->d_name,
				    WEXITSTATUS(status));
			if (unlinkat(dfd, de->d_name, 0) == -1)
				log_warn("offline: unlink %s", de->d_name);
		}
	}
	closedir(d);
}

pid_t
offline_pickup(const char *spool, const char *sockpath)
{
	struct group	*gr;
	char		 dir[1024];
	pid_t	 pid;

	snprintf(dir, sizeof(dir), "%s/%s", spool, OFFLINE_DIR);
	/* Not world-writable: root (and a set-group-id smtpctl of the
	 * queue's group) or, unprivileged, the daemon's user. */
	if (mkdir(dir, 0770) == 0 && geteuid() == 0 &&
	    (gr = getgrnam(SMTPD_QUEUE_USER)) != NULL &&
	    chown(dir, 0, gr->gr_gid) == -1)
		log_warn("offline: chown %s", dir);
	if ((pid = fork()) == -1) {
		log_warn("offline: fork");
		return -1;
	}
	if (pid != 0)
		return pid;
	closefrom(STDERR_FILENO + 1);
	offline_run(spool, sockpath);
	_exit(0);
}
