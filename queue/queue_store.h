/*
 * The on-disk queue (queue_store.c): messages being received in
 * incoming/, committed messages in queue/<msgid>/ (a "message" file and
 * one file per envelope), unparsable envelopes in corrupt/.  Every call
 * is synchronous and uses only the directory given to queue_store_init,
 * so unit tests drive it on a temporary directory without an event loop.
 */
#ifndef SMTPD_QUEUE_STORE_H
#define SMTPD_QUEUE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"

#define QS_REPLY_MAX	128

/* One commit of a batch (group commit). */
struct qs_commit {
	uint32_t	 msgid;
	uint64_t	 size;		/* announced by smtp; UINT64_MAX: any */
	uint32_t	 peerid;	/* caller's cookie, untouched */
	int		 ok;		/* out */
	char		 reply[QS_REPLY_MAX];	/* out: "250 ..." / "452 ..." */
};

typedef void	(*qs_evp_cb)(const struct envelope *, void *);

/* Open (and create) the spool layout under root.  0, or -1 with errno. */
int	 queue_store_init(const char *root);
void	 queue_store_close(void);

/* Start-up recovery: remove incoming leftovers, move unparsable
 * envelopes to corrupt/, call cb for every committed envelope.  Returns
 * the number of envelopes loaded, -1 on a fatal I/O error. */
long	 queue_store_recover(qs_evp_cb, void *);
/* How many envelopes recovery moved to corrupt/. */
unsigned queue_store_ncorrupt(void);

/* A new message in incoming/: returns an fd open for writing (the
 * caller owns it) and sets *msgid; -1 with errno on failure. */
int	 queue_store_create(uint32_t *msgid);
/* Attach an envelope to an incoming message; assigns e->id. */
int	 queue_store_envelope(uint32_t msgid, struct envelope *e);
void	 queue_store_rollback(uint32_t msgid);
/* Make the commit of an incoming message fail with reply (an envelope
 * was refused: never commit a message with recipients missing). */
void	 queue_store_fail(uint32_t msgid, const char *reply);
/* 1 if msgid is an incoming message. */
int	 queue_store_is_incoming(uint32_t msgid);
/* Commit n messages together: one directory fsync for the batch.  cb is
 * called for every envelope of every message committed. */
void	 queue_store_commit(struct qs_commit *, size_t n, qs_evp_cb, void *);
/* The same in three steps, so that the slow middle one (fsyncs, renames,
 * directory fsync) can run on a thread while the event loop goes on:
 * begin and end run on the loop; between them the commits array stays
 * untouched and the messages are no longer incoming. */
struct qs_job;
struct qs_job	*queue_store_commit_begin(struct qs_commit *, size_t n);
void	 queue_store_commit_io(struct qs_job *);
void	 queue_store_commit_end(struct qs_job *, qs_evp_cb, void *);

/* Replace an envelope atomically (write, fsync, rename). */
int	 queue_store_update(const struct envelope *);
/* Remove an envelope; the message goes with its last envelope.  The
 * removal is durable after the next queue_store_sync(). */
int	 queue_store_remove(uint64_t evpid);
/* Move a committed envelope aside into corrupt/. */
int	 queue_store_move_corrupt(uint64_t evpid, const char *why);
/* fsync the directories changed by removals since the last call. */
int	 queue_store_sync(void);
/* Read-only fd on a committed message, -1 with errno. */
int	 queue_store_open_message(uint32_t msgid);
/* Load an envelope from disk (for control). */
int	 queue_store_load(uint64_t evpid, struct envelope *);
/* 1 if the spool file system has at least minfree bytes available. */
int	 queue_store_diskcheck(uint64_t minfree);

#endif
