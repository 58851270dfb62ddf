/*
 * File-system helpers of the queue store (queue_fs.c): spare files and
 * directories reused instead of created, parallel fsyncs, small I/O.
 * Paths are relative to a directory fd; nothing here knows the layout.
 */
#ifndef SMTPD_QUEUE_FS_H
#define SMTPD_QUEUE_FS_H

#include <stddef.h>

#include "buf.h"

/* spare/ under rootfd, emptied; -1 with errno. */
int	 qfs_spare_init(int rootfd);
void	 qfs_spare_close(void);
int	 qfs_spare_fd(void);
/* Give at/path up: kept in spare/ for reuse, or removed. */
int	 qfs_put_file(int at, const char *path);
int	 qfs_put_dir(int at, const char *path);	/* must be empty */
/* A spare directory renamed to at/path; -1 if none (errno EEXIST when
 * at/path exists). */
int	 qfs_take_dir(int at, const char *path);
/* A new file at/name (mode 0600) open with flags (O_RDWR, O_WRONLY):
 * a spare (emptied when it was put), else created with O_EXCL. */
int	 qfs_open_new(int at, const char *name, int flags);

/* Remove at/name and the files in it (one level). */
void	 qfs_rmtree(int at, const char *name);
/* Read the whole file into b; -1 on error or beyond max (EFBIG). */
int	 qfs_read_small(int at, const char *name, struct buf *b, size_t max);

/* fsyncs run together on a small thread pool (started on first use,
 * after the privilege drop); err says how each went. */
struct qfs_sync {
	int		 fd;
	int		 own;		/* close fd once synced (caller) */
	size_t		 owner;		/* caller's index */
	int		 err;
};
struct qfs_syncs {
	struct qfs_sync	*v;
	size_t		 n, cap;
};
struct qfs_sync	*qfs_sync_add(struct qfs_syncs *, size_t owner, int fd,
		    int own);
void		 qfs_sync_run(struct qfs_sync *, size_t n);

#endif
