/*
 * Unit tests of common/proc.c: process names, the socketpair mesh and a
 * round trip between two processes over it, a child's exit when its
 * parent goes away, and the clean-up of a forked job child.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <atf-c.h>
#include <event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

ATF_TC_WITHOUT_HEAD(names);
ATF_TC_BODY(names, tc)
{
	ATF_CHECK_STREQ(proc_name(PROC_PARENT), "parent");
	ATF_CHECK_STREQ(proc_name(PROC_SMTP), "smtp");
	ATF_CHECK_STREQ(proc_name(PROC_LKA), "lka");
	ATF_CHECK_STREQ(proc_name(PROC_QUEUE), "queue");
	ATF_CHECK_STREQ(proc_name(PROC_MTA), "mta");
	ATF_CHECK_STREQ(proc_name(PROC_CONTROL), "control");
	ATF_CHECK_STREQ(proc_name(PROC_COUNT), "unknown");
	ATF_CHECK(proc_chan(PROC_COUNT) == NULL);
}

static void
run_until(const int *flag)
{
	struct timeval	 tv = { 0, 10000 };
	int		 i;

	for (i = 0; i < 500 && !*flag; i++) {
		event_loopexit(&tv);
		event_loop(EVLOOP_ONCE);
	}
}

/* The lka side: echo every message back as type + 1. */
static void
echo_dispatch(enum proc_id from, struct imsg *imsg)
{
	struct mreader	 r;
	struct mbuild	*m;
	const char	*s;

	m_msg(&r, imsg);
	if (m_get_str(&r, &s) == -1 || m_end(&r) == -1)
		_exit(10);
	m = proc_create(from, imsg->type + 1, imsg->peerid, -1);
	m_add_str(m, s);
	m_add_str(m, proc_name(smtpd_process));
	m_close(m);
}

/* Only the parent matters to the echo child. */
static void
child_on_close(enum proc_id peer, const char *why)
{
	(void)why;
	if (peer == PROC_PARENT)
		_exit(0);
}

static int	 got_reply;
static char	 reply_text[64], reply_from[64];
static uint32_t	 reply_type, reply_peerid;
static enum proc_id reply_sender;

static void
parent_dispatch(enum proc_id from, struct imsg *imsg)
{
	struct mreader	 r;
	const char	*a, *b;

	m_msg(&r, imsg);
	if (m_get_str(&r, &a) == 0 && m_get_str(&r, &b) == 0 &&
	    m_end(&r) == 0) {
		strncpy(reply_text, a, sizeof reply_text - 1);
		strncpy(reply_from, b, sizeof reply_from - 1);
	}
	reply_type = imsg->type;
	reply_peerid = imsg->peerid;
	reply_sender = from;
	got_reply = 1;
}

static int	 closed_mask;

static void
parent_on_close(enum proc_id peer, const char *why)
{
	(void)why;
	closed_mask |= 1 << peer;
}

static pid_t
fork_echo_lka(void)
{
	pid_t	 pid;

	proc_mesh_init();
	pid = fork();
	ATF_REQUIRE(pid != -1);
	if (pid == 0) {
		event_init();
		proc_setup(PROC_LKA, echo_dispatch);
		proc_set_close_cb(child_on_close);
		event_dispatch();
		_exit(11);
	}
	event_init();
	proc_setup(PROC_PARENT, parent_dispatch);
	proc_set_close_cb(parent_on_close);
	return pid;
}

ATF_TC_WITHOUT_HEAD(mesh_roundtrip);
ATF_TC_BODY(mesh_roundtrip, tc)
{
	struct mbuild	*m;
	pid_t		 pid;
	int		 status;

	pid = fork_echo_lka();
	ATF_CHECK(proc_chan(PROC_PARENT) == NULL);
	ATF_REQUIRE(proc_chan(PROC_LKA) != NULL);
	ATF_CHECK_STREQ(imsgchan_name(proc_chan(PROC_LKA)), "lka");
	m = proc_create(PROC_LKA, 100, 77, -1);
	m_add_str(m, "ping");
	m_close(m);
	run_until(&got_reply);
	ATF_REQUIRE(got_reply);
	ATF_CHECK_EQ(reply_type, 101);
	ATF_CHECK_EQ(reply_peerid, 77);
	ATF_CHECK_EQ(reply_sender, PROC_LKA);
	ATF_CHECK_STREQ(reply_text, "ping");
	ATF_CHECK_STREQ(reply_from, "lka");
	/* Nobody runs smtp here: its channel reports closed, lka's not. */
	run_until(&closed_mask);
	ATF_CHECK(closed_mask & (1 << PROC_SMTP));
	ATF_CHECK(!(closed_mask & (1 << PROC_LKA)));
	/* Closing our side makes the child leave (its close callback). */
	imsgchan_free(proc_chan(PROC_LKA));
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	ATF_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

ATF_TC_WITHOUT_HEAD(child_exits_on_peer_loss);
ATF_TC_BODY(child_exits_on_peer_loss, tc)
{
	pid_t	 pid;
	int	 status;

	proc_mesh_init();
	pid = fork();
	ATF_REQUIRE(pid != -1);
	if (pid == 0) {
		close(2);
		event_init();
		proc_setup(PROC_QUEUE, echo_dispatch);	/* default close */
		event_dispatch();
		_exit(11);
	}
	/* This process plays no part: its ends close, the child sees EOF. */
	event_init();
	proc_setup(PROC_PARENT, parent_dispatch);
	imsgchan_free(proc_chan(PROC_QUEUE));
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	ATF_CHECK(WIFEXITED(status));
	ATF_CHECK_EQ(WEXITSTATUS(status), PROC_EXIT_PEER);
}

static int	 got_term;

static void
on_sigterm(int sig, short ev, void *arg)
{
	(void)sig;
	(void)ev;
	(void)arg;
	got_term = 1;
}

ATF_TC_WITHOUT_HEAD(job_child);
ATF_TC_BODY(job_child, tc)
{
	struct event	 ev;
	struct timeval	 tv;
	struct mbuild	*m;
	pid_t		 lka, job;
	int		 status, i;

	lka = fork_echo_lka();
	signal_set(&ev, SIGTERM, on_sigterm, NULL);
	signal_add(&ev, NULL);
	job = fork();
	ATF_REQUIRE(job != -1);
	if (job == 0) {
		proc_job_child();
		if (proc_chan(PROC_LKA) != NULL)
			_exit(12);
		kill(getpid(), SIGTERM);
		_exit(13);	/* survived: the handler was still there */
	}
	ATF_REQUIRE(waitpid(job, &status, 0) == job);
	ATF_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
	for (i = 0; i < 20; i++) {
		tv.tv_sec = 0;
		tv.tv_usec = 10000;
		event_loopexit(&tv);
		event_loop(EVLOOP_ONCE);
	}
	ATF_CHECK_EQ_MSG(got_term, 0, "the job's SIGTERM reached our loop");
	/* Our channel still works: the child only closed its copies. */
	got_reply = 0;
	m = proc_create(PROC_LKA, 300, 2, -1);
	m_add_str(m, "still");
	m_close(m);
	run_until(&got_reply);
	ATF_CHECK(got_reply);
	ATF_CHECK_STREQ(reply_text, "still");
	kill(lka, SIGKILL);
	waitpid(lka, &status, 0);
}

ATF_TP_ADD_TCS(tp)
{
	signal(SIGPIPE, SIG_IGN);
	ATF_TP_ADD_TC(tp, names);
	ATF_TP_ADD_TC(tp, mesh_roundtrip);
	ATF_TP_ADD_TC(tp, child_exits_on_peer_loss);
	ATF_TP_ADD_TC(tp, job_child);
	return atf_no_error();
}
