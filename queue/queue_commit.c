/*
 * The commit thread of the queue process: runs the slow middle of a
 * group commit (fsyncs, renames, directory fsync) off the event loop, so
 * that creates, envelopes and deliveries go on while a batch is on its
 * way to the disk and the next batch gathers meanwhile.
 */
#include <errno.h>
#include <event.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "log.h"
#include "queue.h"
#include "queue_store.h"

static pthread_mutex_t	 qc_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 qc_cv = PTHREAD_COND_INITIALIZER;
static struct qs_job	*qc_todo;	/* handed to the thread */
static struct qs_job	*qc_busy_job;	/* begun, not yet ended */
static void		(*qc_done)(struct qs_job *);
static int		 qc_pipe[2] = { -1, -1 };
static struct event	 qc_ev;
static int		 qc_started;

static void *
qc_thread(void *arg)
{
	struct qs_job	*j;
	char		 c = 'd';

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&qc_mtx);
		while (qc_todo == NULL)
			pthread_cond_wait(&qc_cv, &qc_mtx);
		j = qc_todo;
		qc_todo = NULL;
		pthread_mutex_unlock(&qc_mtx);
		queue_store_commit_io(j);
		while (write(qc_pipe[1], &c, 1) == -1 && errno == EINTR)
			;
	}
	return NULL;
}

static void
qc_on_done(int fd, short ev, void *arg)
{
	struct qs_job	*j;
	char		 buf[16];

	(void)ev;
	(void)arg;
	if (read(fd, buf, sizeof(buf)) <= 0)
		return;
	j = qc_busy_job;
	qc_busy_job = NULL;
	if (j != NULL)
		qc_done(j);
}

/* Start the thread (after the privilege drop); done runs on the loop. */
void
queue_commit_init(void (*done)(struct qs_job *))
{
	pthread_t	 th;
	sigset_t	 all, old;

	qc_done = done;
	if (pipe(qc_pipe) == -1)
		fatal("queue: pipe");
	event_set(&qc_ev, qc_pipe[0], EV_READ | EV_PERSIST, qc_on_done,
	    NULL);
	event_add(&qc_ev, NULL);
	/* signals stay with the event loop's thread */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&th, NULL, qc_thread, NULL) != 0)
		fatalx("queue: cannot start the commit thread");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_detach(th);
	qc_started = 1;
}

int
queue_commit_busy(void)
{
	return qc_busy_job != NULL;
}

/* Hand a begun job to the thread; without the thread, do it here. */
void
queue_commit_start(struct qs_job *j)
{
	if (!qc_started) {
		queue_store_commit_io(j);
		qc_done(j);
		return;
	}
	qc_busy_job = j;
	pthread_mutex_lock(&qc_mtx);
	qc_todo = j;
	pthread_cond_signal(&qc_cv);
	pthread_mutex_unlock(&qc_mtx);
}
