/*
 * File-system helpers of the queue store: spare files and directories
 * reused instead of created, the thread pool that runs the fsyncs of a
 * commit batch in parallel, and small careful I/O.  No queue layout
 * knowledge here; queue_store.c decides what goes where.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "io.h"
#include "log.h"
#include "queue_fs.h"

#define D_SPARE		"spare"
#define SPARE_MAX	4096
#define QFS_SYNC_THREADS 8

static int	 sfd = -1;

/*
 * Spare files and directories.  Creating an inode is the dearest step
 * of a commit on a busy ext4 (the allocator scans past every recently
 * freed inode), so what a delivery frees is renamed into spare/ and the
 * next message or envelope reuses it instead of creating.  A spare file
 * is truncated as it goes in: its blocks go back to the file system at
 * once (free space, min-free-space and df stay true; a delivered
 * message does not linger on disk), and nothing of it can show through
 * in the next message or envelope written into it.
 */
struct spare {
	uint32_t	*v;
	size_t		 n, cap;
};
static struct spare	 sfiles, sdirs;
static uint32_t		 spare_seq;

static void
spare_name(char kind, uint32_t k, char out[12])
{
	snprintf(out, 12, "%c%08" PRIx32, kind, k);
}

/* Give the blocks of spare/nm back: 0, or -1 (then it is not kept). */
static int
spare_empty(const char *nm)
{
	int	 fd;

	if ((fd = openat(sfd, nm, O_WRONLY | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return -1;
	return close(fd);
}

/* Move at/path into spare/ (a file emptied), or remove it when spare/
 * is full or the file cannot be emptied. */
static int
spare_put(struct spare *sp, char kind, int at, const char *path)
{
	char	 nm[12];
	uint32_t k;

	if (sfd != -1 && sp->n < SPARE_MAX) {
		if (sp->n == sp->cap) {
			sp->cap = sp->cap ? sp->cap * 2 : 64;
			if ((sp->v = reallocarray(sp->v, sp->cap,
			    sizeof(*sp->v))) == NULL)
				fatal("queue_fs");
		}
		k = spare_seq++;
		spare_name(kind, k, nm);
		if (renameat(at, path, sfd, nm) == 0) {
			if (kind == 'f' && spare_empty(nm) == -1)
				return unlinkat(sfd, nm, 0);
			sp->v[sp->n++] = k;
			return 0;
		}
	}
	return unlinkat(at, path, kind == 'd' ? AT_REMOVEDIR : 0);
}

/* Move a spare to at/path (which must not exist); -1 if none. */
static int
spare_take(struct spare *sp, char kind, int at, const char *path)
{
	char	 nm[12];

	while (sp->n > 0) {
		spare_name(kind, sp->v[sp->n - 1], nm);
		if (renameat2(sfd, nm, at, path, RENAME_NOREPLACE) == 0) {
			sp->n--;
			return 0;
		}
		if (errno == EEXIST)
			return -1;
		sp->n--;	/* gone: forget it */
	}
	errno = ENOENT;
	return -1;
}

/* Start with an empty spare/: nothing in it is trusted. */
static void
spare_wipe(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 fd;

	if ((fd = dup(sfd)) == -1 || (d = fdopendir(fd)) == NULL)
		return;
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(sfd, de->d_name, 0) == -1 &&
		    unlinkat(sfd, de->d_name, AT_REMOVEDIR) == -1)
			qfs_rmtree(sfd, de->d_name);
	}
	closedir(d);
}

int
qfs_spare_init(int rootfd)
{
	qfs_spare_close();
	if (mkdirat(rootfd, D_SPARE, 0700) == -1 && errno != EEXIST)
		return -1;
	if ((sfd = openat(rootfd, D_SPARE, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return -1;
	/* nothing left from a previous run is trusted */
	spare_wipe();
	return 0;
}

void
qfs_spare_close(void)
{
	if (sfd != -1)
		close(sfd);
	sfd = -1;
	free(sfiles.v);
	free(sdirs.v);
	memset(&sfiles, 0, sizeof(sfiles));
	memset(&sdirs, 0, sizeof(sdirs));
}

int
qfs_spare_fd(void)
{
	return sfd;
}

int
qfs_put_file(int at, const char *path)
{
	return spare_put(&sfiles, 'f', at, path);
}

int
qfs_put_dir(int at, const char *path)
{
	return spare_put(&sdirs, 'd', at, path);
}

int
qfs_take_dir(int at, const char *path)
{
	return spare_take(&sdirs, 'd', at, path);
}

int
qfs_open_new(int at, const char *name, int flags)
{
	int	 fd, saved;

	if (spare_take(&sfiles, 'f', at, name) == 0) {
		/* empty already; O_TRUNC all the same */
		if ((fd = openat(at, name, flags | O_TRUNC | O_NOFOLLOW |
		    O_CLOEXEC)) == -1) {
			/* do not leave it there to block the name */
			saved = errno;
			unlinkat(at, name, 0);
			errno = saved;
		}
		return fd;
	}
	return openat(at, name, flags | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
}

/* Remove dir/name and everything in it (one level). */
void
qfs_rmtree(int at, const char *name)
{
	DIR		*d;
	struct dirent	*de;
	int		 fd;

	if ((fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		if (errno != ENOENT && unlinkat(at, name, 0) == -1)
			log_warn("queue: remove %s", name);
		return;
	}
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == -1)
			log_warn("queue: unlink %s/%s", name, de->d_name);
	}
	closedir(d);
	if (unlinkat(at, name, AT_REMOVEDIR) == -1 && errno != ENOENT)
		log_warn("queue: rmdir %s", name);
}

/* Read a whole small file into b; -1 on error or when too large. */
int
qfs_read_small(int at, const char *name, struct buf *b, size_t max)
{
	char	 tmp[4096];
	ssize_t	 n;
	int	 fd;

	buf_reset(b);
	if ((fd = openat(at, name, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	for (;;) {
		if ((n = read(fd, tmp, sizeof(tmp))) == -1) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		if (b->len + (size_t)n > max) {
			close(fd);
			errno = EFBIG;
			return -1;
		}
		buf_add(b, tmp, (size_t)n);
	}
	close(fd);
	return 0;
}

/*
 * The fsyncs of a batch run in parallel threads: the file system folds
 * concurrent fsyncs into one journal commit, which is what makes group
 * commit pay.  An item is an open fd, or a name under a directory fd.
 */
static void
sync_one(struct qfs_sync *it)
{
	if (fsync(it->fd) == -1)
		it->err = errno;
}

/*
 * A small pool of threads, started on first use (after the privilege
 * drop), runs the items of one sync_run at a time with the caller.
 */
static pthread_mutex_t	 pool_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t	 run_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 pool_work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t	 pool_idle = PTHREAD_COND_INITIALIZER;
static struct qfs_sync	*job;
static size_t		 job_n, job_next, job_done;
static int		 pool_threads;

static void *
sync_worker(void *arg)
{
	size_t	 k;

	(void)arg;
	pthread_mutex_lock(&pool_mtx);
	for (;;) {
		while (job_next >= job_n)
			pthread_cond_wait(&pool_work, &pool_mtx);
		k = job_next++;
		pthread_mutex_unlock(&pool_mtx);
		sync_one(&job[k]);
		pthread_mutex_lock(&pool_mtx);
		if (++job_done == job_n)
			pthread_cond_signal(&pool_idle);
	}
	return NULL;
}

void
qfs_sync_run(struct qfs_sync *items, size_t n)
{
	pthread_t	 th;
	size_t		 k;

	if (n <= 1) {
		for (k = 0; k < n; k++)
			sync_one(&items[k]);
		return;
	}
	/* one run at a time: the commit thread and the event loop share
	 * the pool */
	pthread_mutex_lock(&run_mtx);
	pthread_mutex_lock(&pool_mtx);
	while (pool_threads < QFS_SYNC_THREADS - 1 &&
	    (size_t)pool_threads < n - 1) {
		if (pthread_create(&th, NULL, sync_worker, NULL) != 0)
			break;
		pthread_detach(th);
		pool_threads++;
	}
	job = items;
	job_n = n;
	job_next = job_done = 0;
	pthread_cond_broadcast(&pool_work);
	while (job_next < job_n) {
		k = job_next++;
		pthread_mutex_unlock(&pool_mtx);
		sync_one(&items[k]);
		pthread_mutex_lock(&pool_mtx);
		job_done++;
	}
	while (job_done < job_n)
		pthread_cond_wait(&pool_idle, &pool_mtx);
	job = NULL;
	job_n = job_next = job_done = 0;
	pthread_mutex_unlock(&pool_mtx);
	pthread_mutex_unlock(&run_mtx);
}

struct qfs_sync *
qfs_sync_add(struct qfs_syncs *ss, size_t owner, int fd, int own)
{
	struct qfs_sync	*it;

	if (ss->n == ss->cap) {
		ss->cap = ss->cap ? ss->cap * 2 : 64;
		if ((ss->v = reallocarray(ss->v, ss->cap,
		    sizeof(*ss->v))) == NULL)
			fatal("queue_fs");
	}
	it = &ss->v[ss->n++];
	memset(it, 0, sizeof(*it));
	it->fd = fd;
	it->own = own;
	it->owner = owner;
	return it;
}
