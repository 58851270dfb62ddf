/*
 * The on-disk queue.  A message is built in incoming/<msgid>/ (the
 * "message" file written by smtp through a passed fd, then one file per
 * envelope); commit fsyncs all of it and renames the directory into
 * queue/, so a message and its envelopes appear together or not at all.
 * Commits handed over together share the fsync of queue/ (group commit).
 * Failure modes: any write, fsync or rename error fails the commit with
 * 452 and removes every trace of it; recovery moves what does not parse
 * to corrupt/ and logs it.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/tree.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "envelope.h"
#include "io.h"
#include "log.h"
#include "queue_fs.h"
#include "queue_store.h"

#define D_INCOMING	"incoming"
#define D_QUEUE		"queue"
#define D_CORRUPT	"corrupt"
#define F_MESSAGE	"message"
#define ENVELOPE_FILE_MAX	(64 * 1024)
#define INCOMING_EVP_MAX	20000

struct qs_incoming {
	struct qs_incoming	*next;
	uint32_t		 msgid;
	int			 fd;		/* ours, for fsync */
	uint32_t		 seq;
	struct envelope		*evps;
	size_t			 nevp, cap;
	char			*failed;	/* commit must fail: reply */
};

/* Committed messages and how many envelopes each still has. */
struct qs_msg {
	RB_ENTRY(qs_msg)	 entry;
	uint32_t		 msgid;
	uint32_t		 nevp;
	uint32_t		 seq;		/* highest envelope seq */
	int			 dirty;		/* dir needs fsync */
};

static int
qs_msg_cmp(struct qs_msg *a, struct qs_msg *b)
{
	return a->msgid < b->msgid ? -1 : a->msgid > b->msgid;
}
RB_HEAD(qs_msgs, qs_msg);
RB_GENERATE_INTERNAL(qs_msgs, qs_msg, entry, qs_msg_cmp,
    __attribute__((unused)) static)

static int			 rootfd = -1, incfd = -1, qfd = -1, cfd = -1;
static struct qs_incoming	*incoming;
static struct qs_msgs		 msgs = RB_INITIALIZER(&msgs);
static uint32_t			*dirty;
static size_t			 ndirty, dirtycap;
static int			 qdirty;
static unsigned			 ncorrupt;

static void
msgname(uint32_t msgid, char buf[9])
{
	snprintf(buf, 9, "%08" PRIx32, msgid);
}

static int
opendir_at(int at, const char *name)
{
	if (mkdirat(at, name, 0700) == -1 && errno != EEXIST)
		return -1;
	return openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int
queue_store_init(const char *root)
{
	queue_store_close();
	if ((rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if ((incfd = opendir_at(rootfd, D_INCOMING)) == -1 ||
	    (qfd = opendir_at(rootfd, D_QUEUE)) == -1 ||
	    (cfd = opendir_at(rootfd, D_CORRUPT)) == -1 ||
	    qfs_spare_init(rootfd) == -1) {
		queue_store_close();
		return -1;
	}
	if (fsync(rootfd) == -1)
		log_warn("queue: fsync spool");
	return 0;
}

void
queue_store_close(void)
{
	struct qs_msg	*m, *n;

	while (incoming)
		queue_store_rollback(incoming->msgid);
	RB_FOREACH_SAFE(m, qs_msgs, &msgs, n) {
		RB_REMOVE(qs_msgs, &msgs, m);
		free(m);
	}
	if (rootfd != -1)
		close(rootfd);
	if (incfd != -1)
		close(incfd);
	if (qfd != -1)
		close(qfd);
	if (cfd != -1)
		close(cfd);
	qfs_spare_close();
	rootfd = incfd = qfd = cfd = -1;
	free(dirty);
	dirty = NULL;
	ndirty = dirtycap = 0;
	qdirty = 0;
	ncorrupt = 0;
}

static struct qs_msg *
msg_find(uint32_t msgid)
{
	struct qs_msg	 key;

	key.msgid = msgid;
	return RB_FIND(qs_msgs, &msgs, &key);
}

static struct qs_msg *
msg_get(uint32_t msgid)
{
	struct qs_msg	*m;

	if ((m = msg_find(msgid)) != NULL)
		return m;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		fatal("queue_store");
	m->msgid = msgid;
	RB_INSERT(qs_msgs, &msgs, m);
	return m;
}

static void
mark_dirty(struct qs_msg *m)
{
	if (m->dirty)
		return;
	if (ndirty == dirtycap) {
		dirtycap = dirtycap ? dirtycap * 2 : 64;
		if ((dirty = reallocarray(dirty, dirtycap,
		    sizeof(*dirty))) == NULL)
			fatal("queue_store");
	}
	dirty[ndirty++] = m->msgid;
	m->dirty = 1;
}

static void
corrupt_name(uint32_t msgid, const char *file, char *out, size_t outlen)
{
	snprintf(out, outlen, "%08" PRIx32 ".%s.%lld", msgid, file,
	    (long long)time(NULL));
}

/* Move queue/<msgid>/<file> into corrupt/. */
static void
move_corrupt(int mfd, uint32_t msgid, const char *file, const char *why)
{
	char	 dst[128], esc[256];

	corrupt_name(msgid, file, dst, sizeof(dst));
	log_escape(esc, sizeof(esc), why, strlen(why));
	if (renameat(mfd, file, cfd, dst) == -1) {
		log_warn("queue: cannot move %08" PRIx32 "/%s to corrupt",
		    msgid, file);
		return;
	}
	ncorrupt++;
	log_warnx("queue event=corrupt file=%08" PRIx32 "/%s moved=corrupt/%s"
	    " reason=\"%s\"", msgid, file, dst, esc);
	fsync(cfd);
}

unsigned
queue_store_ncorrupt(void)
{
	return ncorrupt;
}

static int
is_hex(const char *s, size_t n)
{
	size_t	 i;

	if (strlen(s) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return 0;
	return 1;
}

static long
recover_msg(const char *name, qs_evp_cb cb, void *arg)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 sb;
	struct buf	 b;
	struct envelope	 e;
	struct qs_msg	*m;
	uint32_t	 msgid;
	uint64_t	 evpid;
	char		 err[128];
	int		 mfd, has_msg;
	long		 n = 0;

	msgid = (uint32_t)strtoul(name, NULL, 16);
	if ((mfd = openat(qfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return -1;
	has_msg = fstatat(mfd, F_MESSAGE, &sb, 0) == 0;
	if ((d = fdopendir(mfd)) == NULL) {
		close(mfd);
		return -1;
	}
	buf_init(&b);
	m = msg_get(msgid);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, F_MESSAGE) == 0)
			continue;
		if (!is_hex(de->d_name, 16) ||
		    evpid_parse(de->d_name, &evpid) == -1) {
			/* an interrupted update */
			unlinkat(mfd, de->d_name, 0);
			continue;
		}
		if (!has_msg) {
			move_corrupt(mfd, msgid, de->d_name,
			    "message file missing");
			continue;
		}
		if (qfs_read_small(mfd, de->d_name, &b,
		    ENVELOPE_FILE_MAX) == -1) {
			move_corrupt(mfd, msgid, de->d_name, strerror(errno));
			continue;
		}
		if (envelope_load(&e, b.data ? b.data : "", b.len, err,
		    sizeof(err)) == -1) {
			move_corrupt(mfd, msgid, de->d_name, err);
			continue;
		}
		if (e.id != evpid || evpid_to_msgid(evpid) != msgid) {
			move_corrupt(mfd, msgid, de->d_name,
			    "envelope id does not match its file name");
			continue;
		}
		m->nevp++;
		if ((uint32_t)evpid > m->seq)
			m->seq = (uint32_t)evpid;
		n++;
		cb(&e, arg);
	}
	buf_free(&b);
	closedir(d);
	if (m->nevp == 0) {
		RB_REMOVE(qs_msgs, &msgs, m);
		free(m);
		qfs_rmtree(qfd, name);
		qdirty = 1;
	}
	return n;
}

long
queue_store_recover(qs_evp_cb cb, void *arg)
{
	DIR		*d;
	struct dirent	*de;
	long		 n = 0, r;
	int		 fd;

	/* Leftovers of messages never committed. */
	if ((fd = dup(incfd)) == -1 || (d = fdopendir(fd)) == NULL)
		return -1;
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		log_info("queue event=recover removed=incoming/%s",
		    de->d_name);
		qfs_rmtree(incfd, de->d_name);
	}
	closedir(d);
	fsync(incfd);

	if ((fd = dup(qfd)) == -1 || (d = fdopendir(fd)) == NULL)
		return -1;
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (!is_hex(de->d_name, 8)) {
			char	 dst[128];

			corrupt_name(0, de->d_name, dst, sizeof(dst));
			log_warnx("queue event=corrupt file=%s moved=corrupt/%s"
			    " reason=\"bad name\"", de->d_name, dst);
			if (renameat(qfd, de->d_name, cfd, dst) == 0)
				ncorrupt++;
			continue;
		}
		if ((r = recover_msg(de->d_name, cb, arg)) == -1) {
			log_warn("queue: recover %s", de->d_name);
			continue;
		}
		n += r;
	}
	closedir(d);
	queue_store_sync();
	return n;
}

static struct qs_incoming *
inc_find(uint32_t msgid, struct qs_incoming ***prevp)
{
	struct qs_incoming **pp, *i;

	for (pp = &incoming; (i = *pp) != NULL; pp = &i->next)
		if (i->msgid == msgid) {
			if (prevp)
				*prevp = pp;
			return i;
		}
	return NULL;
}

int
queue_store_is_incoming(uint32_t msgid)
{
	return inc_find(msgid, NULL) != NULL;
}

int
queue_store_create(uint32_t *msgidp)
{
	struct qs_incoming	*i;
	char			 name[9], path[32];
	uint32_t		 msgid;
	int			 tries, fd, wfd, saved;

	for (tries = 0; tries < 100; tries++) {
		msgid = arc4random();
		if (msgid == 0 || msg_find(msgid) != NULL ||
		    inc_find(msgid, NULL) != NULL)
			continue;
		msgname(msgid, name);
		if (faccessat(qfd, name, F_OK, 0) == 0)
			continue;
		if (qfs_take_dir(incfd, name) == 0)
			break;
		if (mkdirat(incfd, name, 0700) == -1) {
			if (errno == EEXIST)
				continue;
			return -1;
		}
		break;
	}
	if (tries == 100) {
		errno = EEXIST;
		return -1;
	}
	snprintf(path, sizeof(path), "%s/" F_MESSAGE, name);
	if ((fd = qfs_open_new(incfd, path, O_RDWR)) == -1)
		goto fail;
	if ((wfd = dup(fd)) == -1) {
		close(fd);
		goto fail;
	}
	if ((i = calloc(1, sizeof(*i))) == NULL)
		fatal("queue_store");
	i->msgid = msgid;
	i->fd = fd;
	i->next = incoming;
	incoming = i;
	*msgidp = msgid;
	return wfd;
fail:
	saved = errno;
	qfs_rmtree(incfd, name);
	errno = saved;
	return -1;
}

int
queue_store_envelope(uint32_t msgid, struct envelope *e)
{
	struct qs_incoming	*i;

	if ((i = inc_find(msgid, NULL)) == NULL) {
		errno = ENOENT;
		return -1;
	}
	if (i->nevp >= INCOMING_EVP_MAX) {
		queue_store_fail(msgid, "452 4.5.3 Too many recipients");
		errno = E2BIG;
		return -1;
	}
	if (i->nevp == i->cap) {
		i->cap = i->cap ? i->cap * 2 : 4;
		if ((i->evps = reallocarray(i->evps, i->cap,
		    sizeof(*i->evps))) == NULL)
			fatal("queue_store");
	}
	e->id = msgid_to_evpid(msgid) | ++i->seq;
	i->evps[i->nevp++] = *e;
	return 0;
}

void
queue_store_fail(uint32_t msgid, const char *reply)
{
	struct qs_incoming	*i;

	if ((i = inc_find(msgid, NULL)) == NULL || i->failed != NULL)
		return;
	if ((i->failed = strdup(reply)) == NULL)
		fatal("queue_store");
}

static void
inc_free(struct qs_incoming *i, int remove)
{
	char	 name[9];

	if (remove) {
		msgname(i->msgid, name);
		qfs_rmtree(incfd, name);
	}
	if (i->fd != -1)
		close(i->fd);
	free(i->evps);
	free(i->failed);
	free(i);
}

void
queue_store_rollback(uint32_t msgid)
{
	struct qs_incoming	*i, **pp;

	if ((i = inc_find(msgid, &pp)) == NULL)
		return;
	*pp = i->next;
	inc_free(i, 1);
}

/* Write one envelope file and fsync it; with fdp, leave the fsync to
 * the caller and hand it the open fd. */
static int
write_envelope(int dfd, const char *name, const struct envelope *e,
    int flags, int *fdp)
{
	struct buf	 b;
	int		 fd, r = -1, saved;

	buf_init(&b);
	envelope_dump(e, &b);
	(void)flags;
	if ((fd = qfs_open_new(dfd, name, O_WRONLY)) == -1)
		goto done;
	if (io_write_all(fd, b.data, b.len) == -1 || (fdp == NULL &&
	    fsync(fd) == -1)) {
		saved = errno;
		close(fd);
		unlinkat(dfd, name, 0);
		errno = saved;
		goto done;
	}
	if (fdp != NULL) {
		*fdp = fd;
		r = 0;
		goto done;
	}
	if (close(fd) == -1) {
		saved = errno;
		unlinkat(dfd, name, 0);
		errno = saved;
		goto done;
	}
	r = 0;
done:
	buf_free(&b);
	return r;
}

static void
set_fail(struct qs_commit *c, int err)
{
	c->ok = 0;
	if (err == ENOSPC || err == EDQUOT)
		snprintf(c->reply, sizeof(c->reply),
		    "452 4.3.1 Insufficient system storage");
	else
		snprintf(c->reply, sizeof(c->reply),
		    "452 4.3.1 Temporary queue failure (%s)", strerror(err));
}

/* Phase one of a commit: everything written in incoming/<msgid>; the
 * fsyncs it needs are queued in ss.  *dfdp: the message directory. */
static int
commit_prepare(struct qs_commit *c, size_t owner, struct qs_incoming *i,
    struct qfs_syncs *ss, int *dfdp)
{
	struct stat	 sb;
	char		 name[9], ename[17];
	size_t		 k;
	int		 dfd, efd;
	time_t		 now = time(NULL);

	if (i->failed != NULL) {
		c->ok = 0;
		strlcpy(c->reply, i->failed, sizeof(c->reply));
		return -1;
	}
	if (i->nevp == 0) {
		c->ok = 0;
		snprintf(c->reply, sizeof(c->reply),
		    "554 5.5.1 No valid recipients");
		return -1;
	}
	if (fstat(i->fd, &sb) == -1) {
		set_fail(c, errno);
		return -1;
	}
	if (c->size != UINT64_MAX && (uint64_t)sb.st_size != c->size) {
		log_warnx("queue msgid=%08" PRIx32 " event=commit-failed "
		    "reason=\"size mismatch\" announced=%" PRIu64
		    " on-disk=%lld", c->msgid, c->size,
		    (long long)sb.st_size);
		set_fail(c, ENOSPC);
		return -1;
	}
	msgname(i->msgid, name);
	if ((dfd = openat(incfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		set_fail(c, errno);
		return -1;
	}
	*dfdp = dfd;
	qfs_sync_add(ss, owner, i->fd, 0);
	for (k = 0; k < i->nevp; k++) {
		struct envelope *e = &i->evps[k];

		e->size = (uint64_t)sb.st_size;
		if (e->creation == 0)
			e->creation = now;
		if (e->nexttry == 0)
			e->nexttry = e->creation;
		if (write_envelope(dfd, evpid_str(e->id, ename), e,
		    O_EXCL, &efd) == -1) {
			set_fail(c, errno);
			return -1;
		}
		qfs_sync_add(ss, owner, efd, 1);
	}
	qfs_sync_add(ss, owner, dfd, 0);
	return 0;
}

/* A batch of commits between its phases (see queue_store.h). */
struct qs_job {
	struct qs_commit	 *cs;
	size_t			  n;
	struct qs_incoming	**incs;
	int			 *dfds;
	struct qfs_syncs	  ss;
};

/* Phase 1 (event loop): write every envelope of every message. */
struct qs_job *
queue_store_commit_begin(struct qs_commit *cs, size_t n)
{
	struct qs_incoming	**pp, *i;
	struct qs_job		 *j;
	size_t			  k;

	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->incs = calloc(n ? n : 1, sizeof(*j->incs))) == NULL ||
	    (j->dfds = calloc(n ? n : 1, sizeof(*j->dfds))) == NULL)
		fatal("queue_store");
	j->cs = cs;
	j->n = n;
	for (k = 0; k < n; k++) {
		j->dfds[k] = -1;
		cs[k].ok = 1;
		cs[k].reply[0] = '\0';
		if ((i = inc_find(cs[k].msgid, &pp)) == NULL) {
			cs[k].ok = 0;
			snprintf(cs[k].reply, sizeof(cs[k].reply),
			    "451 4.3.0 Unknown message");
			continue;
		}
		*pp = i->next;
		j->incs[k] = i;
		commit_prepare(&cs[k], k, i, &j->ss, &j->dfds[k]);
	}
	return j;
}

/*
 * Phases 2-4, the slow ones: fsyncs, renames, the directory fsync.  Only
 * file descriptors, names and the job's own commits are touched, so this
 * may run on another thread while the event loop goes on.
 */
void
queue_store_commit_io(struct qs_job *job)
{
	struct qs_commit	 *cs = job->cs;
	struct qfs_sync		  dirs[3];
	char			  name[9];
	size_t			  k, j, n = job->n;
	int			  renamed = 0, err;

	/* 2: fsync messages, envelopes and their directories together */
	qfs_sync_run(job->ss.v, job->ss.n);
	for (j = 0; j < job->ss.n; j++) {
		if (job->ss.v[j].err && cs[job->ss.v[j].owner].ok)
			set_fail(&cs[job->ss.v[j].owner], job->ss.v[j].err);
		if (job->ss.v[j].own)
			close(job->ss.v[j].fd);
	}
	free(job->ss.v);
	job->ss.v = NULL;
	job->ss.n = 0;
	/* 3: make them visible */
	for (k = 0; k < n; k++) {
		if (job->dfds[k] != -1)
			close(job->dfds[k]);
		job->dfds[k] = -1;
		if (job->incs[k] == NULL || !cs[k].ok)
			continue;
		msgname(job->incs[k]->msgid, name);
		if (renameat(incfd, name, qfd, name) == -1) {
			set_fail(&cs[k], errno);
			continue;
		}
		renamed++;
	}
	/* 4: one fsync of queue/ makes every rename above durable */
	if (renamed) {
		/* spare/ too: what was taken from it is gone for good */
		memset(dirs, 0, sizeof(dirs));
		dirs[0].fd = qfd;
		dirs[1].fd = incfd;
		dirs[2].fd = qfs_spare_fd();
		qfs_sync_run(dirs, 3);
	}
	if (renamed && (dirs[0].err || dirs[1].err)) {
		err = dirs[0].err ? dirs[0].err : dirs[1].err;
		errno = err;
		log_warn("queue: fsync queue directory");
		for (k = 0; k < n; k++) {
			if (!cs[k].ok || job->incs[k] == NULL)
				continue;
			msgname(job->incs[k]->msgid, name);
			if (renameat(qfd, name, incfd, name) == -1) {
				/* 452 said: it must not stay to be
				 * delivered after a restart */
				log_warn("queue: cannot take back %s", name);
				qfs_rmtree(qfd, name);
			}
			set_fail(&cs[k], err);
		}
	}
}

/* Phase 5 (event loop): bookkeeping, cb per envelope; frees the job. */
void
queue_store_commit_end(struct qs_job *job, qs_evp_cb cb, void *arg)
{
	struct qs_commit	 *cs = job->cs;
	struct qs_incoming	 *i;
	size_t			  k, j;

	for (k = 0; k < job->n; k++) {
		struct qs_msg	*m;

		if ((i = job->incs[k]) == NULL)
			continue;
		if (!cs[k].ok) {
			log_warnx("queue msgid=%08" PRIx32
			    " event=commit-failed reply=\"%s\"", i->msgid,
			    cs[k].reply);
			inc_free(i, 1);
			continue;
		}
		snprintf(cs[k].reply, sizeof(cs[k].reply),
		    "250 2.0.0 Ok: queued as %08" PRIx32, i->msgid);
		m = msg_get(i->msgid);
		m->nevp += (uint32_t)i->nevp;
		m->seq = i->seq;
		for (j = 0; j < i->nevp; j++)
			if (cb)
				cb(&i->evps[j], arg);
		inc_free(i, 0);
	}
	free(job->ss.v);
	free(job->incs);
	free(job->dfds);
	free(job);
}

void
queue_store_commit(struct qs_commit *cs, size_t n, qs_evp_cb cb, void *arg)
{
	struct qs_job	*job;

	job = queue_store_commit_begin(cs, n);
	queue_store_commit_io(job);
	queue_store_commit_end(job, cb, arg);
}

int
queue_store_update(const struct envelope *e)
{
	char	 name[9], ename[17], tmp[24];
	int	 dfd, r = -1, saved;

	msgname(evpid_to_msgid(e->id), name);
	evpid_str(e->id, ename);
	snprintf(tmp, sizeof(tmp), "%s.tmp", ename);
	if ((dfd = openat(qfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return -1;
	if (write_envelope(dfd, tmp, e, O_TRUNC, NULL) == -1)
		goto done;
	if (renameat2(dfd, tmp, dfd, ename, RENAME_EXCHANGE) == 0)
		qfs_put_file(dfd, tmp);	/* the old one */
	else if (renameat(dfd, tmp, dfd, ename) == -1) {
		saved = errno;
		unlinkat(dfd, tmp, 0);
		errno = saved;
		goto done;
	}
	r = 0;
done:
	close(dfd);
	return r;
}

static int
remove_common(uint64_t evpid, const char *why)
{
	struct qs_msg	*m;
	char		 name[9], ename[17], path[32], dst[128];
	uint32_t	 msgid = evpid_to_msgid(evpid);
	int		 dfd;

	if ((m = msg_find(msgid)) == NULL) {
		errno = ENOENT;
		return -1;
	}
	msgname(msgid, name);
	evpid_str(evpid, ename);
	if (why != NULL) {
		if ((dfd = openat(qfd, name, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1)
			return -1;
		move_corrupt(dfd, msgid, ename, why);
		if (m->nevp <= 1) {
			/* keep the message next to its envelope */
			corrupt_name(msgid, F_MESSAGE, dst, sizeof(dst));
			renameat(dfd, F_MESSAGE, cfd, dst);
		}
		close(dfd);
	} else {
		snprintf(path, sizeof(path), "%s/%s", name, ename);
		if (qfs_put_file(qfd, path) == -1)
			return -1;
	}
	if (m->nevp > 0)
		m->nevp--;
	if (m->nevp == 0) {
		snprintf(path, sizeof(path), "%s/" F_MESSAGE, name);
		if (qfs_put_file(qfd, path) == -1 &&
		    errno != ENOENT)
			log_warn("queue: unlink %s", path);
		if (qfs_put_dir(qfd, name) == -1)
			qfs_rmtree(qfd, name);	/* stray files */
		qdirty = 1;
		m->dirty = 0;
		RB_REMOVE(qs_msgs, &msgs, m);
		free(m);
	} else
		mark_dirty(m);
	return 0;
}

int
queue_store_remove(uint64_t evpid)
{
	return remove_common(evpid, NULL);
}

int
queue_store_move_corrupt(uint64_t evpid, const char *why)
{
	return remove_common(evpid, why);
}

int
queue_store_sync(void)
{
	struct qs_msg	*m;
	char		 name[9];
	size_t		 k;
	int		 dfd, r = 0;

	for (k = 0; k < ndirty; k++) {
		if ((m = msg_find(dirty[k])) == NULL || !m->dirty)
			continue;
		m->dirty = 0;
		msgname(m->msgid, name);
		if ((dfd = openat(qfd, name, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1)
			continue;
		if (fsync(dfd) == -1)
			r = -1;
		close(dfd);
	}
	ndirty = 0;
	if (qdirty) {
		qdirty = 0;
		if (fsync(qfd) == -1)
			r = -1;
	}
	return r;
}

int
queue_store_open_message(uint32_t msgid)
{
	char	 path[32];

	snprintf(path, sizeof(path), "%08" PRIx32 "/" F_MESSAGE, msgid);
	return openat(qfd, path, O_RDONLY | O_CLOEXEC);
}

int
queue_store_load(uint64_t evpid, struct envelope *e)
{
	struct buf	 b;
	char		 path[32], ename[17];
	int		 r;

	snprintf(path, sizeof(path), "%08" PRIx32 "/%s",
	    evpid_to_msgid(evpid), evpid_str(evpid, ename));
	buf_init(&b);
	if (qfs_read_small(qfd, path, &b, ENVELOPE_FILE_MAX) == -1) {
		buf_free(&b);
		return -1;
	}
	r = envelope_load(e, b.data ? b.data : "", b.len, NULL, 0);
	buf_free(&b);
	if (r == -1)
		errno = EINVAL;
	return r;
}

int
queue_store_diskcheck(uint64_t minfree)
{
	struct statvfs	 sv;

	if (minfree == 0)
		return 1;
	if (fstatvfs(qfd, &sv) == -1)
		return 0;
	return (uint64_t)sv.f_bavail * sv.f_frsize >= minfree;
}
