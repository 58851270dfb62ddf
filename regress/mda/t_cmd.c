/*
 * Unit tests of mda command delivery: argv without a shell (shell
 * metacharacters reach the command literally), the message on stdin byte
 * for byte, EX_TEMPFAIL versus other exit codes with stderr as the
 * diagnostic, and the time limit.
 */
#include <time.h>

#include "mda_test.h"

static const char msg[] = "Subject: x\r\n\r\nline 1\r\n.line 2\r\n";
static const char want[] = "Return-Path: <s@example.org>\n"
    "Delivered-To: r@example.net\nSubject: x\n\nline 1\n.line 2\n";

static struct mda_vars	 vars;

static enum mda_result
run(const char *cmd, time_t timeout, char *err, size_t errlen)
{
	struct envelope	 e;
	enum mda_result	 r;
	char		 cwd[1024];
	int		 fd;

	ATF_REQUIRE(getcwd(cwd, sizeof cwd) != NULL);
	vars.user = "tester";
	vars.home = cwd;
	vars.rcpt = "r@example.net";
	vars.sender = "s@example.org";
	test_envelope(&e, "s@example.org", "r@example.net");
	fd = msg_fd(msg, sizeof msg - 1);
	r = mda_cmd_deliver(fd, cmd, &vars, &e, timeout, err, errlen);
	close(fd);
	return r;
}

static void
check_file(const char *path, const char *expect)
{
	char	*got;

	got = slurp(path, NULL);
	ATF_CHECK_STREQ_MSG(got, expect, "file %s", path);
	free(got);
}

ATF_TC_WITHOUT_HEAD(stdin_byte_for_byte);
ATF_TC_BODY(stdin_byte_for_byte, tc)
{
	char	 err[MDA_ERR_MAX];

	ATF_CHECK_EQ_MSG(run("/usr/bin/tee out", 30, err, sizeof err),
	    MDA_OK, "%s", err);
	ATF_CHECK_MSG(strncmp(err, "250 2.0.0 ", 10) == 0, "%s", err);
	check_file("out", want);
	/* Found through PATH, ~ expanded. */
	ATF_CHECK_EQ_MSG(run("tee ~/out2", 30, err, sizeof err), MDA_OK,
	    "%s", err);
	check_file("out2", want);
}

ATF_TC_WITHOUT_HEAD(metacharacters_literal);
ATF_TC_BODY(metacharacters_literal, tc)
{
	char		 err[MDA_ERR_MAX];
	struct stat	 st;

	ATF_CHECK_EQ_MSG(run("/usr/bin/tee 'a;touch pwned' b$(touch pwned2)"
	    " `touch pwned3` 'c|d' \"e > f\" *", 30, err, sizeof err), MDA_OK,
	    "%s", err);
	check_file("a;touch pwned", want);
	check_file("b$(touch", want);
	check_file("pwned2)", want);
	check_file("`touch", want);
	check_file("pwned3`", want);
	check_file("c|d", want);
	check_file("e > f", want);
	check_file("*", want);
	ATF_CHECK(stat("pwned", &st) == -1);
	ATF_CHECK(stat("f", &st) == -1);
	/* Address parts in words cannot add a path component. */
	vars.rcpt = "../x@y";
	{
		struct envelope	 e;
		int		 fd;

		test_envelope(&e, "s@example.org", "../x@y");
		fd = msg_fd(msg, sizeof msg - 1);
		ATF_CHECK_EQ_MSG(mda_cmd_deliver(fd, "tee o-%{rcpt.user}",
		    &vars, &e, 30, err, sizeof err), MDA_OK, "%s", err);
		close(fd);
	}
	ATF_CHECK(stat("o-_._x", &st) == 0);
}

ATF_TC_WITHOUT_HEAD(environment);
ATF_TC_BODY(environment, tc)
{
	char	 err[MDA_ERR_MAX];

	ATF_CHECK_EQ_MSG(run("/bin/sh -c 'echo \"$SENDER|$RECIPIENT|$USER|"
	    "$PATH\" > envout'", 30, err, sizeof err), MDA_OK, "%s", err);
	check_file("envout", "s@example.org|r@example.net|tester|"
	    "/usr/local/bin:/usr/bin:/bin\n");
}

ATF_TC_WITHOUT_HEAD(exit_status);
ATF_TC_BODY(exit_status, tc)
{
	char	 err[MDA_ERR_MAX];

	ATF_CHECK_EQ(run("/bin/sh -c 'cat >/dev/null; echo try later >&2; "
	    "exit 75'", 30, err, sizeof err), MDA_TEMPFAIL);
	ATF_CHECK_MSG(strncmp(err, "451 4.", 6) == 0, "%s", err);
	ATF_CHECK_MSG(strstr(err, "try later") != NULL, "%s", err);

	ATF_CHECK_EQ(run("/bin/sh -c 'echo \"no such\nmailbox\" >&2; exit 67'",
	    30, err, sizeof err), MDA_PERMFAIL);
	ATF_CHECK_MSG(strncmp(err, "550 5.", 6) == 0, "%s", err);
	ATF_CHECK_MSG(strstr(err, "status 67: no such mailbox") != NULL, "%s",
	    err);

	ATF_CHECK_EQ(run("/bin/false", 30, err, sizeof err), MDA_PERMFAIL);
	/* Not reading stdin at all is fine when the status says so. */
	ATF_CHECK_EQ_MSG(run("/bin/true", 30, err, sizeof err), MDA_OK, "%s",
	    err);
	/* Killed by a signal: temporary. */
	ATF_CHECK_EQ(run("/bin/sh -c 'kill -9 $$'", 30, err, sizeof err),
	    MDA_TEMPFAIL);
	/* A missing program: temporary (the admin can fix it). */
	ATF_CHECK_EQ(run("/nonexistent/mda -x", 30, err, sizeof err),
	    MDA_TEMPFAIL);
	ATF_CHECK_MSG(strstr(err, "/nonexistent/mda") != NULL, "%s", err);
	/* A bad command line is permanent. */
	ATF_CHECK_EQ(run("cat 'unterminated", 30, err, sizeof err),
	    MDA_PERMFAIL);
}

ATF_TC_WITHOUT_HEAD(stderr_bounded);
ATF_TC_BODY(stderr_bounded, tc)
{
	char	 err[MDA_ERR_MAX];

	ATF_CHECK_EQ(run("/bin/sh -c 'head -c 200000 /dev/zero | tr \"\\\\0\" "
	    "\"\\\\1\" >&2; exit 1'", 30, err, sizeof err), MDA_PERMFAIL);
	ATF_CHECK_MSG(strlen(err) < 100 + 4 * MDA_STDERR_MAX, "%zu",
	    strlen(err));
	ATF_CHECK_MSG(strstr(err, "\\x01\\x01") != NULL, "%s", err);
}

ATF_TC_WITHOUT_HEAD(time_limit);
ATF_TC_BODY(time_limit, tc)
{
	char	 err[MDA_ERR_MAX];
	time_t	 t0 = time(NULL);
	struct stat st;

	ATF_CHECK_EQ(run("/bin/sh -c 'sleep 20; touch late'", 1, err,
	    sizeof err), MDA_TEMPFAIL);
	ATF_CHECK_MSG(strncmp(err, "451 4.4.7", 9) == 0, "%s", err);
	ATF_CHECK_MSG(time(NULL) - t0 < 10, "took %lld s",
	    (long long)(time(NULL) - t0));
	/* The whole process group was killed. */
	sleep(1);
	ATF_CHECK(stat("late", &st) == -1);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, stdin_byte_for_byte);
	ATF_TP_ADD_TC(tp, metacharacters_literal);
	ATF_TP_ADD_TC(tp, environment);
	ATF_TP_ADD_TC(tp, exit_status);
	ATF_TP_ADD_TC(tp, stderr_bounded);
	ATF_TP_ADD_TC(tp, time_limit);
	return atf_no_error();
}
