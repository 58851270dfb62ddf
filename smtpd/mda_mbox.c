/*
 * mbox delivery as Debian policy wants it: a dotlock (path.lock) and an
 * fcntl lock, a "From sender date" line, mboxrd escaping; a failed write
 * truncates the file back to its size before, so the mbox stays intact.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "envelope.h"
#include "mda_deliver.h"
#include "mda_io.h"

#define DOTLOCK_STALE	300	/* seconds: an older dotlock is stale */

static enum mda_result
fail(char *err, size_t errlen, const char *what, const char *path, int e)
{
	const char	*code = "451 4.3.0";

	if (e == ENOSPC || e == EDQUOT)
		code = "452 4.2.2";
	snprintf(err, errlen, "%s mbox %s %s: %s", code, what, path,
	    strerror(e));
	return MDA_TEMPFAIL;
}

/* Take path.lock, waiting up to MDA_MBOX_LOCK_WAIT seconds; a lock file
 * older than DOTLOCK_STALE is removed. */
static int
dotlock(const char *lock)
{
	struct stat	 st;
	int		 fd, i;

	for (i = 0; i <= MDA_MBOX_LOCK_WAIT; i++) {
		fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
		if (fd != -1) {
			close(fd);
			return 0;
		}
		if (errno != EEXIST)
			return -1;
		if (lstat(lock, &st) == 0 &&
		    time(NULL) - st.st_mtime > DOTLOCK_STALE)
			unlink(lock);
		else
			sleep(1);
	}
	errno = EWOULDBLOCK;
	return -1;
}

static int
fcntl_lock(int fd)
{
	struct flock	 fl;
	int		 i;

	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	for (i = 0; i <= MDA_MBOX_LOCK_WAIT; i++) {
		if (fcntl(fd, F_SETLK, &fl) == 0)
			return 0;
		if (errno != EAGAIN && errno != EACCES && errno != EINTR)
			return -1;
		sleep(1);
	}
	errno = EWOULDBLOCK;
	return -1;
}

enum mda_result
mda_mbox_deliver(int msgfd, const char *path, const struct envelope *e,
    char *err, size_t errlen)
{
	struct mda_writer	 w;
	struct stat		 st;
	sigset_t		 block, oset;
	char			 lock[PATH_MAX], date[64];
	char			 from[ADDR_MAX + 80];
	const char		*s;
	enum mda_result		 res;
	time_t			 now;
	off_t			 size;
	int			 fd, rerr, saved, n, locked;

	if (path[0] != '/') {
		snprintf(err, errlen, "550 5.3.5 mbox path %s is not absolute",
		    path);
		return MDA_PERMFAIL;
	}
	if (snprintf(lock, sizeof lock, "%s.lock", path) >= (int)sizeof lock) {
		snprintf(err, errlen, "550 5.3.5 mbox path too long");
		return MDA_PERMFAIL;
	}
	/* A stop signal waits until the mbox is whole and unlocked. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &oset);
	/* A directory the user may not write (an alias /file) gets the
	 * fcntl lock only, as procmail does. */
	locked = 1;
	if (dotlock(lock) == -1) {
		if (errno == EACCES || errno == EPERM || errno == EROFS)
			locked = 0;
		else {
			res = fail(err, errlen, "dotlock", lock, errno);
			sigprocmask(SIG_SETMASK, &oset, NULL);
			return res;
		}
	}

	/* O_NONBLOCK: a FIFO must not hold the delivery (refused below). */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW | O_NONBLOCK, 0600);
	if (fd == -1) {
		if (errno == ENXIO) {	/* a FIFO without a reader */
			snprintf(err, errlen, "550 5.2.0 mbox %s is not a "
			    "regular file", path);
			res = MDA_PERMFAIL;
		} else
			res = fail(err, errlen, "open", path, errno);
		if (locked)
			unlink(lock);
		sigprocmask(SIG_SETMASK, &oset, NULL);
		return res;
	}
	if (fstat(fd, &st) == -1) {
		res = fail(err, errlen, "fstat", path, errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "550 5.2.0 mbox %s is not a regular "
		    "file", path);
		res = MDA_PERMFAIL;
		goto out;
	}
	if (st.st_nlink != 1) {
		snprintf(err, errlen, "550 5.2.0 mbox %s has hard links: "
		    "refused", path);
		res = MDA_PERMFAIL;
		goto out;
	}
	if (fcntl_lock(fd) == -1) {
		res = fail(err, errlen, "lock", path, errno);
		goto out;
	}
	/* Re-read the size under the lock. */
	if (fstat(fd, &st) == -1) {
		res = fail(err, errlen, "fstat", path, errno);
		goto out;
	}
	size = st.st_size;

	now = time(NULL);
	strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", localtime(&now));
	n = snprintf(from, sizeof from, "From ");
	for (s = e->sender[0] ? e->sender : "MAILER-DAEMON";
	    *s && n < (int)sizeof from - 80; s++)
		from[n++] = (*s <= ' ' || *s == 0x7f) ? '_' : *s;
	snprintf(from + n, sizeof from - n, " %s\n", date);

	mda_writer_init(&w, fd, NULL, NULL);
	mda_writer_add(&w, from, strlen(from));
	if (mda_copy_message(msgfd, &w, e, MDA_COPY_MBOXRD, &rerr) == -1)
		goto fail;
	mda_writer_add(&w, "\n", 1);	/* a blank line ends a message */
	if (mda_writer_flush(&w) == -1 || fsync(fd) == -1) {
		rerr = 0;
		goto fail;
	}
	snprintf(err, errlen, "250 2.0.0 delivered to mbox %s", path);
	res = MDA_OK;
	goto out;

fail:
	saved = errno;
	/* Best effort: the write error below is the news. */
	if (ftruncate(fd, size) == 0)
		(void)fsync(fd);
	if (rerr)
		snprintf(err, errlen, "451 4.3.0 reading the queued message: "
		    "%s", strerror(saved));
	else
		fail(err, errlen, "write", path, saved);
	res = MDA_TEMPFAIL;
out:
	close(fd);
	if (locked)
		unlink(lock);
	sigprocmask(SIG_SETMASK, &oset, NULL);
	return res;
}
