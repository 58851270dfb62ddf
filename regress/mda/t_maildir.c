/*
 * Unit tests of maildir delivery: the file in new/ is byte for byte the
 * message with Return-Path and Delivered-To on top and LF line ends;
 * directories are created; failures leave nothing behind.
 */
#include <sys/resource.h>

#include <signal.h>

#include "mda_test.h"

static const char msg[] =
    "Subject: hi\r\n"
    "From: a@example.org\r\n"
    "\r\n"
    "body line\r\n"
    ".dot line\r\n"
    "From the start\r\n"
    "bare\rcr\r\n"
    "\r\n";
static const char want[] =
    "Return-Path: <s@example.org>\n"
    "Delivered-To: r@example.net\n"
    "Subject: hi\n"
    "From: a@example.org\n"
    "\n"
    "body line\n"
    ".dot line\n"
    "From the start\n"
    "bare\rcr\n"
    "\n";

static void
check_one(const char *dir, const char *expect, size_t expectlen)
{
	char	 path[1024], sub[1024];
	char	*got;
	size_t	 len;

	ATF_REQUIRE(snprintf(sub, sizeof sub, "%s/new", dir) <
	    (int)sizeof sub);
	only_entry(sub, path, sizeof path);
	got = slurp(path, &len);
	ATF_CHECK_EQ_MSG(len, expectlen, "size %zu, want %zu", len,
	    expectlen);
	ATF_CHECK_MSG(len == expectlen && memcmp(got, expect, len) == 0,
	    "content differs: [%s]", got);
	free(got);
	snprintf(sub, sizeof sub, "%s/tmp", dir);
	ATF_CHECK_EQ(count_entries(sub), 0);
	snprintf(sub, sizeof sub, "%s/cur", dir);
	ATF_CHECK_EQ(count_entries(sub), 0);
}

ATF_TC_WITHOUT_HEAD(byte_for_byte);
ATF_TC_BODY(byte_for_byte, tc)
{
	struct envelope	 e;
	char		 dir[1024], err[MDA_ERR_MAX];
	int		 fd;

	test_envelope(&e, "s@example.org", "r@example.net");
	ATF_REQUIRE(getcwd(dir, sizeof dir - 32) != NULL);
	strcat(dir, "/deep/er/Maildir");
	fd = msg_fd(msg, sizeof msg - 1);
	ATF_CHECK_EQ_MSG(mda_maildir_deliver(fd, dir, &e, err, sizeof err),
	    MDA_OK, "%s", err);
	ATF_CHECK_MSG(strncmp(err, "250 2.0.0 ", 10) == 0, "%s", err);
	check_one(dir, want, sizeof want - 1);

	/* A second delivery gets its own unique name. */
	ATF_CHECK_EQ(mda_maildir_deliver(fd, dir, &e, err, sizeof err),
	    MDA_OK);
	strcat(dir, "/new");
	ATF_CHECK_EQ(count_entries(dir), 2);
	close(fd);
}

/* LF lines, no final newline, a null sender. */
ATF_TC_WITHOUT_HEAD(lf_and_null_sender);
ATF_TC_BODY(lf_and_null_sender, tc)
{
	struct envelope	 e;
	char		 dir[1024], err[MDA_ERR_MAX];
	const char	 in[] = "A: b\n\nline\nlast";
	const char	 out[] = "Return-Path: <>\nDelivered-To: u@h\n"
			     "A: b\n\nline\nlast\n";
	int		 fd;

	test_envelope(&e, "", "u@h");
	ATF_REQUIRE(getcwd(dir, sizeof dir - 32) != NULL);
	strcat(dir, "/Maildir");
	fd = msg_fd(in, sizeof in - 1);
	ATF_CHECK_EQ_MSG(mda_maildir_deliver(fd, dir, &e, err, sizeof err),
	    MDA_OK, "%s", err);
	check_one(dir, out, sizeof out - 1);
	close(fd);
}

/* Bigger than the stream buffers, with a 100 KB line and CRLF split
 * across buffer boundaries. */
ATF_TC_WITHOUT_HEAD(large);
ATF_TC_BODY(large, tc)
{
	struct envelope	 e;
	char		 dir[1024], err[MDA_ERR_MAX];
	char		*in, *out;
	size_t		 inlen = 0, outlen = 0, i, j;
	int		 fd;

	test_envelope(&e, "s@x", "r@y");
	in = malloc(1 << 20);
	out = malloc(1 << 20);
	ATF_REQUIRE(in && out);
	outlen = snprintf(out, 1 << 20,
	    "Return-Path: <s@x>\nDelivered-To: r@y\n");
	for (i = 0; i < 100000; i++)
		in[inlen++] = out[outlen++] = 'a' + i % 26;
	memcpy(in + inlen, "\r\n", 2);
	inlen += 2;
	out[outlen++] = '\n';
	for (i = 0; i < 5000; i++) {
		for (j = 0; j < i % 97; j++)
			in[inlen++] = out[outlen++] = 'x';
		memcpy(in + inlen, "\r\n", 2);
		inlen += 2;
		out[outlen++] = '\n';
	}
	ATF_REQUIRE(getcwd(dir, sizeof dir - 32) != NULL);
	strcat(dir, "/Maildir");
	fd = msg_fd(in, inlen);
	ATF_CHECK_EQ_MSG(mda_maildir_deliver(fd, dir, &e, err, sizeof err),
	    MDA_OK, "%s", err);
	check_one(dir, out, outlen);
	close(fd);
	free(in);
	free(out);
}

/* A maildir with only tmp/: new/ and cur/ are made at rename time. */
ATF_TC_WITHOUT_HEAD(partial_maildir);
ATF_TC_BODY(partial_maildir, tc)
{
	struct envelope	 e;
	char		 dir[1024], sub[1100], err[MDA_ERR_MAX];
	int		 fd;

	test_envelope(&e, "s@example.org", "r@example.net");
	ATF_REQUIRE(getcwd(dir, sizeof dir - 32) != NULL);
	strcat(dir, "/Maildir");
	ATF_REQUIRE(mkdir(dir, 0700) == 0);
	snprintf(sub, sizeof sub, "%s/tmp", dir);
	ATF_REQUIRE(mkdir(sub, 0700) == 0);
	fd = msg_fd(msg, sizeof msg - 1);
	ATF_CHECK_EQ_MSG(mda_maildir_deliver(fd, dir, &e, err, sizeof err),
	    MDA_OK, "%s", err);
	check_one(dir, want, sizeof want - 1);
	close(fd);
}

ATF_TC_WITHOUT_HEAD(failures);
ATF_TC_BODY(failures, tc)
{
	struct envelope	 e;
	struct rlimit	 rl;
	char		 dir[1024], sub[1100], err[MDA_ERR_MAX], *big;
	int		 fd;

	test_envelope(&e, "s@x", "r@y");
	fd = msg_fd(msg, sizeof msg - 1);
	ATF_CHECK_EQ(mda_maildir_deliver(fd, "relative/Maildir", &e, err,
	    sizeof err), MDA_PERMFAIL);
	ATF_CHECK_MSG(strncmp(err, "550 5.", 6) == 0, "%s", err);

	/* A path through a regular file: ENOTDIR, temporary. */
	ATF_REQUIRE(getcwd(dir, sizeof dir - 32) != NULL);
	strcat(dir, "/file");
	close(open(dir, O_CREAT | O_WRONLY, 0600));
	strcat(dir, "/Maildir");
	ATF_CHECK_EQ(mda_maildir_deliver(fd, dir, &e, err, sizeof err),
	    MDA_TEMPFAIL);
	ATF_CHECK_MSG(strncmp(err, "451 4.", 6) == 0, "%s", err);
	close(fd);

	/* A write that fails half way (file size limit): nothing stays in
	 * tmp/ or new/. */
	big = malloc(300000);
	ATF_REQUIRE(big != NULL);
	memset(big, 'z', 300000);
	fd = msg_fd(big, 300000);
	ATF_REQUIRE(getcwd(dir, sizeof dir - 32) != NULL);
	strcat(dir, "/Limited");
	signal(SIGXFSZ, SIG_IGN);
	rl.rlim_cur = 100000;
	ATF_REQUIRE(getrlimit(RLIMIT_FSIZE, &rl) == 0);
	rl.rlim_cur = 100000;
	ATF_REQUIRE(setrlimit(RLIMIT_FSIZE, &rl) == 0);
	ATF_CHECK_EQ(mda_maildir_deliver(fd, dir, &e, err, sizeof err),
	    MDA_TEMPFAIL);
	ATF_CHECK_MSG(strstr(err, "write") != NULL, "%s", err);
	snprintf(sub, sizeof sub, "%s/tmp", dir);
	ATF_CHECK_EQ(count_entries(sub), 0);
	snprintf(sub, sizeof sub, "%s/new", dir);
	ATF_CHECK_EQ(count_entries(sub), 0);
	close(fd);
	free(big);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, byte_for_byte);
	ATF_TP_ADD_TC(tp, lf_and_null_sender);
	ATF_TP_ADD_TC(tp, large);
	ATF_TP_ADD_TC(tp, partial_maildir);
	ATF_TP_ADD_TC(tp, failures);
	return atf_no_error();
}
