/*
 * Unit tests of the delivery child without the event loop: who a
 * delivery runs as (never root), the privilege drop (files owned by the
 * user, only the user's group), and the result read back.
 */
#include <sys/wait.h>

#include <pwd.h>
#include <signal.h>

#include "config.h"
#include "smtpd/mda_child.h"
#include "mda_test.h"

#define TEST_USER	"_smtptest"

static void
action_init(struct action *a, enum action_method m, const char *path,
    const char *user)
{
	memset(a, 0, sizeof *a);
	strlcpy(a->name, "test", sizeof a->name);
	a->method = m;
	a->path = path ? strdup(path) : NULL;
	a->user = user ? strdup(user) : NULL;
}

ATF_TC_WITHOUT_HEAD(resolve_user);
ATF_TC_BODY(resolve_user, tc)
{
	struct action	 a;
	struct envelope	 e;
	struct mda_user	 u;
	struct passwd	*pw;
	enum mda_result	 r;
	char		 line[MDA_ERR_MAX];

	test_envelope(&e, "s@x", "root@x");
	action_init(&a, A_MAILDIR, NULL, NULL);
	if (geteuid() != 0) {
		/* Without root: always the invoking user. */
		strlcpy(e.user, "root", sizeof e.user);
		ATF_REQUIRE(mda_user_resolve(&a, &e, &u, &r, line,
		    sizeof line) == 0);
		ATF_CHECK_EQ(u.uid, getuid());
		return;
	}
	strlcpy(e.user, "root", sizeof e.user);
	ATF_CHECK_EQ(mda_user_resolve(&a, &e, &u, &r, line, sizeof line), -1);
	ATF_CHECK_EQ(r, MDA_PERMFAIL);
	ATF_CHECK_STREQ(line, "550 5.2.0 delivery as root refused: add an "
	    "alias");

	e.user[0] = '\0';
	ATF_CHECK_EQ(mda_user_resolve(&a, &e, &u, &r, line, sizeof line), -1);
	ATF_CHECK_EQ(r, MDA_PERMFAIL);

	strlcpy(e.user, "no-such-user-here", sizeof e.user);
	ATF_CHECK_EQ(mda_user_resolve(&a, &e, &u, &r, line, sizeof line), -1);
	ATF_CHECK_EQ(r, MDA_PERMFAIL);
	ATF_CHECK_MSG(strncmp(line, "550 5.1.1", 9) == 0, "%s", line);

	if ((pw = getpwnam(TEST_USER)) == NULL)
		atf_tc_skip("no user " TEST_USER ": run tools/setup.sh --users");
	strlcpy(e.user, TEST_USER, sizeof e.user);
	ATF_REQUIRE(mda_user_resolve(&a, &e, &u, &r, line, sizeof line) == 0);
	ATF_CHECK_EQ(u.uid, pw->pw_uid);
	ATF_CHECK_STREQ(u.name, TEST_USER);

	/* Without a local user in the envelope, the action's user; it
	 * cannot be root either. */
	e.user[0] = '\0';
	action_init(&a, A_MAILDIR, NULL, TEST_USER);
	ATF_REQUIRE(mda_user_resolve(&a, &e, &u, &r, line, sizeof line) == 0);
	ATF_CHECK_EQ(u.uid, pw->pw_uid);
	action_init(&a, A_MAILDIR, NULL, "root");
	ATF_CHECK_EQ(mda_user_resolve(&a, &e, &u, &r, line, sizeof line), -1);
	ATF_CHECK_EQ(r, MDA_PERMFAIL);
}

/* Spawn a delivery for action a and wait for its result. */
static enum mda_result
spawn_wait(const struct action *a, const char *msg, char *line, size_t len,
    uid_t *uid)
{
	struct envelope	 e;
	struct mda_user	 u;
	enum mda_result	 r;
	pid_t		 pid;
	int		 fd, resfd, status;

	test_envelope(&e, "s@example.org", "rcpt@example.net");
	strlcpy(e.user, TEST_USER, sizeof e.user);
	ATF_REQUIRE_MSG(mda_user_resolve(a, &e, &u, &r, line, len) == 0, "%s",
	    line);
	*uid = u.uid;
	fd = msg_fd(msg, strlen(msg));
	pid = mda_child_spawn(fd, a, &e, &u, 20, "test.example", &resfd, line,
	    len);
	ATF_REQUIRE_MSG(pid > 0, "%s", line);
	close(fd);
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	r = mda_child_result(resfd, status, 0, 20, line, len);
	close(resfd);
	return r;
}

/* A world-traversable scratch directory the delivery user may write. */
static void
scratch(char *dir, size_t len, uid_t uid)
{
	strlcpy(dir, "/tmp/t_child.XXXXXX", len);
	ATF_REQUIRE(mkdtemp(dir) != NULL);
	ATF_REQUIRE(chmod(dir, 0755) == 0);
	if (geteuid() == 0)
		ATF_REQUIRE(chown(dir, uid, (gid_t)-1) == 0);
}

static void
scratch_remove(const char *dir)
{
	char	 cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ATF_CHECK(system(cmd) == 0);
}

static uid_t
target_uid(void)
{
	struct passwd	*pw;

	if (geteuid() != 0)
		return getuid();
	if ((pw = getpwnam(TEST_USER)) == NULL)
		atf_tc_skip("no user " TEST_USER ": run tools/setup.sh --users");
	return pw->pw_uid;
}

ATF_TC_WITHOUT_HEAD(maildir_as_user);
ATF_TC_BODY(maildir_as_user, tc)
{
	struct action	 a;
	struct stat	 st;
	char		 dir[64], path[256], file[512], line[MDA_ERR_MAX];
	char		*got;
	uid_t		 uid, tuid = target_uid();

	scratch(dir, sizeof dir, tuid);
	snprintf(path, sizeof path, "%s/%%{rcpt.domain}/%%{rcpt.user}", dir);
	action_init(&a, A_MAILDIR, path, NULL);
	ATF_CHECK_EQ_MSG(spawn_wait(&a, "A: b\r\n\r\nhello\r\n", line,
	    sizeof line, &uid), MDA_OK, "%s", line);
	ATF_CHECK_EQ(uid, tuid);
	snprintf(path, sizeof path, "%s/example.net/rcpt/new", dir);
	only_entry(path, file, sizeof file);
	ATF_REQUIRE(stat(file, &st) == 0);
	ATF_CHECK_EQ(st.st_uid, tuid);
	got = slurp(file, NULL);
	ATF_CHECK_STREQ(got, "Return-Path: <s@example.org>\n"
	    "Delivered-To: rcpt@example.net\nA: b\n\nhello\n");
	free(got);
	scratch_remove(dir);
}

ATF_TC_WITHOUT_HEAD(command_credentials);
ATF_TC_BODY(command_credentials, tc)
{
	struct action	 a;
	struct passwd	*pw;
	char		 dir[64], cmd[256], path[128], want[64];
	char		 line[MDA_ERR_MAX], *got;
	uid_t		 uid, tuid = target_uid();

	scratch(dir, sizeof dir, tuid);
	snprintf(cmd, sizeof cmd, "/bin/sh -c \"(id -u; id -G; pwd) > %s/id\"",
	    dir);
	action_init(&a, A_MDA, cmd, NULL);
	ATF_CHECK_EQ_MSG(spawn_wait(&a, "A: b\n\nx\n", line, sizeof line,
	    &uid), MDA_OK, "%s", line);
	snprintf(path, sizeof path, "%s/id", dir);
	got = slurp(path, NULL);
	ATF_REQUIRE((pw = getpwuid(tuid)) != NULL);
	if (geteuid() == 0) {
		/* Only the user's own group, and its home as cwd. */
		snprintf(want, sizeof want, "%u\n%u\n", (unsigned)tuid,
		    (unsigned)pw->pw_gid);
		ATF_CHECK_MSG(strncmp(got, want, strlen(want)) == 0,
		    "got [%s] want [%s...]", got, want);
	} else {
		snprintf(want, sizeof want, "%u\n", (unsigned)tuid);
		ATF_CHECK_MSG(strncmp(got, want, strlen(want)) == 0,
		    "got [%s] want [%s...]", got, want);
	}
	free(got);

	/* Exit codes map through the child. */
	action_init(&a, A_MDA, "/bin/sh -c 'echo busy >&2; exit 75'", NULL);
	ATF_CHECK_EQ(spawn_wait(&a, "A: b\n\nx\n", line, sizeof line, &uid),
	    MDA_TEMPFAIL);
	ATF_CHECK_MSG(strstr(line, "busy") != NULL, "%s", line);
	action_init(&a, A_MDA, "/bin/sh -c 'echo nope >&2; exit 1'", NULL);
	ATF_CHECK_EQ(spawn_wait(&a, "A: b\n\nx\n", line, sizeof line, &uid),
	    MDA_PERMFAIL);
	ATF_CHECK_MSG(strncmp(line, "550 5.3.0", 9) == 0, "%s", line);
	scratch_remove(dir);
}

/* Spawn for envelope e (user TEST_USER) and wait. */
static enum mda_result
spawn_env(const struct action *a, struct envelope *e, char *line,
    size_t len)
{
	struct mda_user	 u;
	enum mda_result	 r;
	pid_t		 pid;
	int		 fd, resfd, status;

	strlcpy(e->user, TEST_USER, sizeof e->user);
	ATF_REQUIRE_MSG(mda_user_resolve(a, e, &u, &r, line, len) == 0, "%s",
	    line);
	fd = msg_fd("A: b\n\nx\n", 8);
	pid = mda_child_spawn(fd, a, e, &u, 20, "x", &resfd, line, len);
	ATF_REQUIRE_MSG(pid > 0, "%s", line);
	close(fd);
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	r = mda_child_result(resfd, status, 0, 20, line, len);
	close(resfd);
	return r;
}

/* Aliases to |command and /file, and a sender's look-alike address. */
ATF_TC_WITHOUT_HEAD(alias_targets);
ATF_TC_BODY(alias_targets, tc)
{
	struct action	 a;
	struct envelope	 e;
	struct stat	 st;
	char		 dir[64], path[256], line[MDA_ERR_MAX], *got;
	uid_t		 tuid = target_uid();
	const char	*want = "Return-Path: <s@x>\nDelivered-To: a@example.net"
			    "\nA: b\n\nx\n";

	scratch(dir, sizeof dir, tuid);
	snprintf(path, sizeof path, "%s/md/%%{rcpt.user}", dir);
	action_init(&a, A_MAILDIR, path, NULL);

	test_envelope(&e, "s@x", "a@example.net");
	snprintf(e.rcpt, sizeof e.rcpt, "|/usr/bin/tee %s/piped", dir);
	ATF_CHECK_EQ(mda_alias_target(&e), '|');
	ATF_CHECK_STREQ(mda_method(&a, &e), "pipe");
	ATF_CHECK_EQ_MSG(spawn_env(&a, &e, line, sizeof line), MDA_OK, "%s",
	    line);
	snprintf(path, sizeof path, "%s/piped", dir);
	got = slurp(path, NULL);
	ATF_CHECK_STREQ(got, want);
	free(got);

	test_envelope(&e, "s@x", "a@example.net");
	snprintf(e.rcpt, sizeof e.rcpt, "%s/filed", dir);
	ATF_CHECK_EQ(mda_alias_target(&e), '/');
	ATF_CHECK_STREQ(mda_method(&a, &e), "file");
	ATF_CHECK_EQ_MSG(spawn_env(&a, &e, line, sizeof line), MDA_OK, "%s",
	    line);
	snprintf(path, sizeof path, "%s/filed", dir);
	got = slurp(path, NULL);
	ATF_CHECK_MSG(strncmp(got, "From s@x ", 9) == 0, "%s", got);
	ATF_CHECK_MSG(strstr(got, want) != NULL, "%s", got);
	free(got);

	/* A /file in a directory the user cannot write: no dotlock, the
	 * fcntl lock is enough. */
	snprintf(path, sizeof path, "%s/ro", dir);
	ATF_REQUIRE(mkdir(path, 0755) == 0);
	snprintf(path, sizeof path, "%s/ro/file", dir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	if (geteuid() == 0)
		ATF_REQUIRE(chown(path, tuid, (gid_t)-1) == 0);
	snprintf(path, sizeof path, "%s/ro", dir);
	ATF_REQUIRE(chmod(path, 0555) == 0);
	test_envelope(&e, "s@x", "a@example.net");
	snprintf(e.rcpt, sizeof e.rcpt, "%s/ro/file", dir);
	ATF_CHECK_EQ_MSG(spawn_env(&a, &e, line, sizeof line), MDA_OK, "%s",
	    line);
	snprintf(path, sizeof path, "%s/ro/file", dir);
	got = slurp(path, NULL);
	ATF_CHECK_MSG(strstr(got, want) != NULL, "%s", got);
	free(got);
	snprintf(path, sizeof path, "%s/ro", dir);
	chmod(path, 0755);

	/* <|/usr/bin/touch DIR/pwned@example.net> as given at RCPT is an
	 * address: it goes to the maildir, nothing is run. */
	test_envelope(&e, "s@x", "");
	snprintf(e.rcpt, sizeof e.rcpt, "|/usr/bin/touch %s/pwned@example.net",
	    dir);
	strlcpy(e.orig_rcpt, e.rcpt, sizeof e.orig_rcpt);
	ATF_CHECK_EQ(mda_alias_target(&e), 0);
	ATF_CHECK_STREQ(mda_method(&a, &e), "maildir");
	ATF_CHECK_EQ_MSG(spawn_env(&a, &e, line, sizeof line), MDA_OK, "%s",
	    line);
	snprintf(path, sizeof path, "%s/pwned", dir);
	ATF_CHECK_MSG(stat(path, &st) == -1, "the command ran");
	snprintf(path, sizeof path, "%s/md", dir);
	ATF_CHECK_EQ(count_entries(path), 1);
	scratch_remove(dir);
}

/* Is pid gone (or a zombie)? */
static int
gone(pid_t pid)
{
	char	 path[64], *st, *p;
	int	 fd, z;
	ssize_t	 n;
	char	 buf[512];

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if ((fd = open(path, O_RDONLY)) == -1)
		return 1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	st = strstr(buf, "State:");
	if (st == NULL)
		return 1;
	for (p = st + 6; *p == ' ' || *p == '\t'; p++)
		;
	z = *p == 'Z' || *p == 'X';
	return z;
}

ATF_TC_WITHOUT_HEAD(parent_death);
ATF_TC_BODY(parent_death, tc)
{
	struct action	 a;
	struct envelope	 e;
	struct mda_user	 u;
	enum mda_result	 r;
	struct stat	 st;
	char		 dir[64], cmd[256], path[128], line[MDA_ERR_MAX];
	char		*got;
	pid_t		 mid, cmdpid;
	int		 fd, resfd, i, status;
	uid_t		 tuid = target_uid();

	scratch(dir, sizeof dir, tuid);
	snprintf(cmd, sizeof cmd, "/bin/sh -c \"echo $$ > %s/pid; "
	    "exec sleep 30\"", dir);
	action_init(&a, A_MDA, cmd, NULL);
	test_envelope(&e, "s@x", "r@y");
	strlcpy(e.user, TEST_USER, sizeof e.user);
	ATF_REQUIRE(mda_user_resolve(&a, &e, &u, &r, line, sizeof line) == 0);
	fd = msg_fd("A: b\n\nx\n", 8);
	/* A stand-in daemon that dies while the delivery runs. */
	ATF_REQUIRE((mid = fork()) != -1);
	if (mid == 0) {
		if (mda_child_spawn(fd, &a, &e, &u, 60, "x", &resfd, line,
		    sizeof line) == -1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(fd);
	snprintf(path, sizeof path, "%s/pid", dir);
	for (i = 0; i < 100 && (stat(path, &st) == -1 || st.st_size == 0);
	    i++)
		usleep(50000);
	ATF_REQUIRE_MSG(i < 100, "the command did not start");
	got = slurp(path, NULL);
	cmdpid = atoi(got);
	free(got);
	ATF_REQUIRE(cmdpid > 0);
	ATF_CHECK(!gone(cmdpid));
	kill(mid, SIGKILL);
	waitpid(mid, &status, 0);
	for (i = 0; i < 100 && !gone(cmdpid); i++)
		usleep(50000);
	ATF_CHECK_MSG(gone(cmdpid), "command %ld survived the daemon",
	    (long)cmdpid);
	if (!gone(cmdpid))
		kill(cmdpid, SIGKILL);
	scratch_remove(dir);
}

ATF_TC_WITHOUT_HEAD(result_without_report);
ATF_TC_BODY(result_without_report, tc)
{
	char	 line[MDA_ERR_MAX];
	int	 p[2], status;
	pid_t	 pid;

	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE((pid = fork()) != -1);
	if (pid == 0)
		pause();
	close(p[1]);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ATF_CHECK_EQ(mda_child_result(p[0], status, 1, 7, line, sizeof line),
	    MDA_TEMPFAIL);
	ATF_CHECK_STREQ(line, "451 4.4.7 delivery timed out after 7s");
	ATF_CHECK_EQ(mda_child_result(p[0], status, 0, 7, line, sizeof line),
	    MDA_TEMPFAIL);
	ATF_CHECK_STREQ(line, "451 4.3.0 delivery process killed by signal 9");
	close(p[0]);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, resolve_user);
	ATF_TP_ADD_TC(tp, maildir_as_user);
	ATF_TP_ADD_TC(tp, command_credentials);
	ATF_TP_ADD_TC(tp, alias_targets);
	ATF_TP_ADD_TC(tp, parent_death);
	ATF_TP_ADD_TC(tp, result_without_report);
	return atf_no_error();
}
