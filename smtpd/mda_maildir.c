/*
 * Maildir delivery: the message is written to tmp/UNIQUE, fsynced,
 * renamed into new/ and the directories fsynced, so a crash leaves either
 * nothing visible or the whole message.  Missing directories are made.
 */
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "mda_deliver.h"
#include "mda_io.h"

/* Create dir and its missing parents (0700). */
static int
mkdirs(const char *dir)
{
	char	 path[PATH_MAX];
	char	*s;

	if (strlen(dir) >= sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(path, dir);
	for (s = path + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(path, 0700) == -1 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

static int
fsync_dir(const char *dir)
{
	int	 fd, r;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

/* "sec.MusecPpid_n.host", host with '/' and ':' made safe. */
static void
unique_name(char *buf, size_t len)
{
	static unsigned	 counter;
	struct timeval	 tv;
	char		 host[256], *s;

	gettimeofday(&tv, NULL);
	if (gethostname(host, sizeof host) == -1)
		strcpy(host, "localhost");
	host[sizeof host - 1] = '\0';
	for (s = host; *s; s++)
		if (*s == '/')
			*s = '\\';
		else if (*s == ':')
			*s = '-';
	snprintf(buf, len, "%lld.M%ldP%dQ%u.%s", (long long)tv.tv_sec,
	    (long)tv.tv_usec, (int)getpid(), ++counter, host);
}

/* Temporary unless the error cannot go away by itself. */
static enum mda_result
io_fail(char *err, size_t errlen, const char *what, const char *path, int e)
{
	const char	*code = "451 4.3.0";

	if (e == ENOSPC || e == EDQUOT)
		code = "452 4.2.2";
	snprintf(err, errlen, "%s maildir %s %s: %s", code, what, path,
	    strerror(e));
	return MDA_TEMPFAIL;
}

enum mda_result
mda_maildir_deliver(int msgfd, const char *dir, const struct envelope *e,
    char *err, size_t errlen)
{
	struct mda_writer	 w;
	char			 sub[PATH_MAX], tmp[PATH_MAX];
	char			 new[PATH_MAX];
	char			 name[384];
	static const char	*subs[] = { "tmp", "new", "cur" };
	size_t			 i;
	int			 fd, rerr, saved, r;

	if (dir[0] != '/') {
		snprintf(err, errlen, "550 5.3.5 maildir path %s is not "
		    "absolute", dir);
		return MDA_PERMFAIL;
	}
	unique_name(name, sizeof name);
	if (snprintf(tmp, sizeof tmp, "%s/tmp/%s", dir, name) >=
	    (int)sizeof tmp ||
	    snprintf(new, sizeof new, "%s/new/%s", dir, name) >=
	    (int)sizeof new) {
		snprintf(err, errlen, "550 5.3.5 maildir path too long");
		return MDA_PERMFAIL;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	/* The usual case is an existing maildir: make it only if needed. */
	if (fd == -1 && errno == ENOENT) {
		for (i = 0; i < 3; i++) {
			snprintf(sub, sizeof sub, "%s/%s", dir, subs[i]);
			if (mkdirs(sub) == -1)
				return io_fail(err, errlen, "mkdir", sub,
				    errno);
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
	}
	if (fd == -1)
		return io_fail(err, errlen, "open", tmp, errno);

	mda_writer_init(&w, fd, NULL, NULL);
	if (mda_copy_message(msgfd, &w, e, 0, &rerr) == -1) {
		saved = errno;
		close(fd);
		unlink(tmp);
		if (rerr) {
			snprintf(err, errlen, "451 4.3.0 reading the queued "
			    "message: %s", strerror(saved));
			return MDA_TEMPFAIL;
		}
		return io_fail(err, errlen, "write", tmp, saved);
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		saved = errno;
		unlink(tmp);
		return io_fail(err, errlen, "fsync", tmp, saved);
	}
	r = rename(tmp, new);
	if (r == -1 && errno == ENOENT) {
		/* tmp/ was there but not new/ or cur/ */
		for (i = 1; i < 3; i++) {
			snprintf(sub, sizeof sub, "%s/%s", dir, subs[i]);
			if (mkdirs(sub) == -1) {
				saved = errno;
				unlink(tmp);
				return io_fail(err, errlen, "mkdir", sub,
				    saved);
			}
		}
		r = rename(tmp, new);
	}
	if (r == -1) {
		saved = errno;
		unlink(tmp);
		return io_fail(err, errlen, "rename", new, saved);
	}
	snprintf(sub, sizeof sub, "%s/new", dir);
	if (fsync_dir(sub) == -1)
		return io_fail(err, errlen, "fsync", sub, errno);
	snprintf(err, errlen, "250 2.0.0 delivered to maildir: %s", name);
	return MDA_OK;
}
