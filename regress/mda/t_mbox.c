/*
 * Unit tests of mbox delivery: appended to a pre-existing mbox after a
 * "From " line, mboxrd escaping, locks released, and a failed write
 * leaves the mbox exactly as it was.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <regex.h>
#include <signal.h>

#include "mda_test.h"

static const char before[] =
    "From old@example.org Thu Jan  1 00:00:00 2026\n"
    "Subject: old\n"
    "\n"
    "old body\n"
    "\n";

static const char msg[] =
    "Subject: new\r\n"
    "\r\n"
    "From the start\r\n"
    ">From quoted once\r\n"
    ">>From quoted twice\r\n"
    " From not at the start\r\n"
    "Fromage is not From_\r\n"
    ">>>Fro short\r\n"
    "last\r\n";

static const char body[] =
    "Return-Path: <s@example.org>\n"
    "Delivered-To: r@example.net\n"
    "Subject: new\n"
    "\n"
    ">From the start\n"
    ">>From quoted once\n"
    ">>>From quoted twice\n"
    " From not at the start\n"
    "Fromage is not From_\n"
    ">>>Fro short\n"
    "last\n"
    "\n";

static void
mbox_path(char *buf, size_t len)
{
	ATF_REQUIRE(getcwd(buf, len - 16) != NULL);
	strcat(buf, "/mbox");
}

static void
write_file(const char *path, const char *s, size_t n)
{
	int	 fd;

	ATF_REQUIRE((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) !=
	    -1);
	ATF_REQUIRE(write(fd, s, n) == (ssize_t)n);
	close(fd);
}

/* got = prefix, a From_ line for sender, then rest. */
static void
check_mbox(const char *got, const char *prefix, const char *sender,
    const char *rest)
{
	regex_t		 re;
	regmatch_t	 m;
	char		 pat[256];
	const char	*p;

	ATF_REQUIRE_MSG(strncmp(got, prefix, strlen(prefix)) == 0,
	    "old content changed: [%s]", got);
	p = got + strlen(prefix);
	snprintf(pat, sizeof pat, "^From %s (Mon|Tue|Wed|Thu|Fri|Sat|Sun) "
	    "[A-Z][a-z][a-z] [ 1-3][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9] "
	    "[0-9]{4}\n", sender);
	ATF_REQUIRE(regcomp(&re, pat, REG_EXTENDED) == 0);
	ATF_REQUIRE_MSG(regexec(&re, p, 1, &m, 0) == 0 && m.rm_so == 0,
	    "bad From_ line: [%s]", p);
	regfree(&re);
	ATF_CHECK_STREQ(p + m.rm_eo, rest);
}

ATF_TC_WITHOUT_HEAD(append_escaped);
ATF_TC_BODY(append_escaped, tc)
{
	struct envelope	 e;
	char		 path[1024], lock[1100], err[MDA_ERR_MAX], *got;
	struct stat	 st;
	int		 fd;

	mbox_path(path, sizeof path);
	write_file(path, before, sizeof before - 1);
	test_envelope(&e, "s@example.org", "r@example.net");
	fd = msg_fd(msg, sizeof msg - 1);
	ATF_CHECK_EQ_MSG(mda_mbox_deliver(fd, path, &e, err, sizeof err),
	    MDA_OK, "%s", err);
	ATF_CHECK_MSG(strncmp(err, "250 2.0.0 ", 10) == 0, "%s", err);
	got = slurp(path, NULL);
	check_mbox(got, before, "s@example.org", body);
	free(got);
	snprintf(lock, sizeof lock, "%s.lock", path);
	ATF_CHECK_MSG(lstat(lock, &st) == -1, "dotlock left behind");
	close(fd);
}

ATF_TC_WITHOUT_HEAD(new_mbox_null_sender);
ATF_TC_BODY(new_mbox_null_sender, tc)
{
	struct envelope	 e;
	char		 path[1024], err[MDA_ERR_MAX], *got;
	struct stat	 st;
	int		 fd;

	mbox_path(path, sizeof path);
	test_envelope(&e, "", "r@example.net");
	fd = msg_fd("A: b\n\nx", 7);
	ATF_CHECK_EQ_MSG(mda_mbox_deliver(fd, path, &e, err, sizeof err),
	    MDA_OK, "%s", err);
	ATF_REQUIRE(stat(path, &st) == 0);
	ATF_CHECK_EQ(st.st_mode & 0777, 0600);
	got = slurp(path, NULL);
	check_mbox(got, "", "MAILER-DAEMON", "Return-Path: <>\n"
	    "Delivered-To: r@example.net\nA: b\n\nx\n\n");
	free(got);
	close(fd);
}

/* A dotlock older than 5 minutes is stale and taken over. */
ATF_TC_WITHOUT_HEAD(stale_dotlock);
ATF_TC_BODY(stale_dotlock, tc)
{
	struct envelope	 e;
	struct timeval	 tv[2];
	char		 path[1024], lock[1100], err[MDA_ERR_MAX];
	struct stat	 st;
	int		 fd;

	mbox_path(path, sizeof path);
	snprintf(lock, sizeof lock, "%s.lock", path);
	write_file(lock, "", 0);
	tv[0].tv_sec = tv[1].tv_sec = time(NULL) - 3600;
	tv[0].tv_usec = tv[1].tv_usec = 0;
	ATF_REQUIRE(utimes(lock, tv) == 0);
	test_envelope(&e, "s@x", "r@y");
	fd = msg_fd("A: b\n\nx\n", 8);
	ATF_CHECK_EQ_MSG(mda_mbox_deliver(fd, path, &e, err, sizeof err),
	    MDA_OK, "%s", err);
	ATF_CHECK(lstat(lock, &st) == -1);
	close(fd);
}

/* The write fails half way (file size limit): the mbox is truncated
 * back to what it was. */
ATF_TC_WITHOUT_HEAD(failed_write_truncates);
ATF_TC_BODY(failed_write_truncates, tc)
{
	struct envelope	 e;
	struct rlimit	 rl;
	char		 path[1024], err[MDA_ERR_MAX], *big, *got;
	size_t		 len;
	int		 fd;

	mbox_path(path, sizeof path);
	write_file(path, before, sizeof before - 1);
	big = malloc(300000);
	ATF_REQUIRE(big != NULL);
	memset(big, 'z', 300000);
	fd = msg_fd(big, 300000);
	test_envelope(&e, "s@x", "r@y");
	signal(SIGXFSZ, SIG_IGN);
	ATF_REQUIRE(getrlimit(RLIMIT_FSIZE, &rl) == 0);
	rl.rlim_cur = 100000;
	ATF_REQUIRE(setrlimit(RLIMIT_FSIZE, &rl) == 0);
	ATF_CHECK_EQ(mda_mbox_deliver(fd, path, &e, err, sizeof err),
	    MDA_TEMPFAIL);
	ATF_CHECK_MSG(strncmp(err, "451 4.", 6) == 0, "%s", err);
	got = slurp(path, &len);
	ATF_CHECK_EQ(len, sizeof before - 1);
	ATF_CHECK_STREQ(got, before);
	free(got);
	free(big);
	close(fd);
}

ATF_TC_WITHOUT_HEAD(refusals);
ATF_TC_BODY(refusals, tc)
{
	struct envelope	 e;
	char		 path[1024], link2[1100], err[MDA_ERR_MAX];
	int		 fd;

	test_envelope(&e, "s@x", "r@y");
	fd = msg_fd("A: b\n\nx\n", 8);
	ATF_CHECK_EQ(mda_mbox_deliver(fd, "rel/mbox", &e, err, sizeof err),
	    MDA_PERMFAIL);
	/* A symlink is not followed. */
	mbox_path(path, sizeof path);
	ATF_REQUIRE(symlink("/etc/passwd", path) == 0);
	ATF_CHECK(mda_mbox_deliver(fd, path, &e, err, sizeof err) != MDA_OK);
	unlink(path);
	/* A hard-linked mbox is refused. */
	write_file(path, "", 0);
	snprintf(link2, sizeof link2, "%s.2", path);
	ATF_REQUIRE(link(path, link2) == 0);
	ATF_CHECK_EQ(mda_mbox_deliver(fd, path, &e, err, sizeof err),
	    MDA_PERMFAIL);
	close(fd);
}

/* A FIFO (an alias /file its owner swapped) is refused at once, not
 * waited on until the delivery times out. */
ATF_TC(fifo);
ATF_TC_HEAD(fifo, tc)
{
	atf_tc_set_md_var(tc, "timeout", "10");
}
ATF_TC_BODY(fifo, tc)
{
	struct envelope	 e;
	char		 path[1024], err[MDA_ERR_MAX];
	int		 fd;

	test_envelope(&e, "s@x", "r@y");
	fd = msg_fd("A: b\n\nx\n", 8);
	mbox_path(path, sizeof path);
	ATF_REQUIRE(mkfifo(path, 0600) == 0);
	ATF_CHECK_EQ(mda_mbox_deliver(fd, path, &e, err, sizeof err),
	    MDA_PERMFAIL);
	close(fd);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, append_escaped);
	ATF_TP_ADD_TC(tp, new_mbox_null_sender);
	ATF_TP_ADD_TC(tp, stale_dotlock);
	ATF_TP_ADD_TC(tp, failed_write_truncates);
	ATF_TP_ADD_TC(tp, refusals);
	ATF_TP_ADD_TC(tp, fifo);
	return atf_no_error();
}
