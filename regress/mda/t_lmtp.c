/*
 * Unit tests of LMTP delivery against a scripted server forked by the
 * test (unix socket and TCP on 127.0.0.1): the dialogue, dot-stuffed
 * CRLF data byte for byte, and the per-recipient reply deciding the
 * result.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include "mda_test.h"

#define TCP_PORT	24017

static const char msg[] = "Subject: x\r\n\r\n.leading dot\r\n..two\r\nend\n";
static const char want_data[] =
    "Return-Path: <s@example.org>\r\n"
    "Delivered-To: r@example.net\r\n"
    "Subject: x\r\n\r\n..leading dot\r\n...two\r\nend\r\n.\r\n";

/* Read one line (with CRLF) from fd into buf. */
static int
getline_fd(int fd, char *buf, size_t len)
{
	size_t	 n = 0;
	char	 c;

	while (n + 1 < len && read(fd, &c, 1) == 1) {
		buf[n++] = c;
		if (c == '\n')
			break;
	}
	buf[n] = '\0';
	return n > 0 ? 0 : -1;
}

static void
say(int fd, const char *s)
{
	(void)!write(fd, s, strlen(s));
}

/*
 * Serve one session on listening socket lfd: replies rcpt_reply to
 * RCPT and data_reply after the data, logs the dialogue and the data
 * into "dialogue" and "data".
 */
static void
server(int lfd, const char *rcpt_reply, const char *data_reply)
{
	char	 line[2048];
	int	 fd, log, data;

	if ((fd = accept(lfd, NULL, NULL)) == -1)
		_exit(1);
	log = open("dialogue", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	data = open("data", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	say(fd, "220 test LMTP\r\n");
	while (getline_fd(fd, line, sizeof line) == 0) {
		say(log, line);
		if (strncmp(line, "LHLO ", 5) == 0)
			say(fd, "250-test\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
		else if (strncmp(line, "MAIL FROM:", 10) == 0)
			say(fd, "250 2.1.0 ok\r\n");
		else if (strncmp(line, "RCPT TO:", 8) == 0)
			say(fd, rcpt_reply);
		else if (strcmp(line, "DATA\r\n") == 0) {
			say(fd, "354 go\r\n");
			while (getline_fd(fd, line, sizeof line) == 0) {
				say(data, line);
				if (strcmp(line, ".\r\n") == 0)
					break;
			}
			say(fd, data_reply);
		} else if (strcmp(line, "QUIT\r\n") == 0) {
			say(fd, "221 bye\r\n");
			break;
		} else
			say(fd, "500 what\r\n");
	}
	_exit(0);
}

static pid_t
start_unix(char *path, size_t len, const char *rcpt_reply,
    const char *data_reply)
{
	struct sockaddr_un	 sun;
	pid_t			 pid;
	int			 lfd;
	char			 dir[] = "/tmp/t_lmtp.XXXXXX";

	/* The kyua work dir may be too deep for sun_path. */
	ATF_REQUIRE(mkdtemp(dir) != NULL);
	snprintf(path, len, "%s/s", dir);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, path, sizeof sun.sun_path);
	ATF_REQUIRE((lfd = socket(AF_UNIX, SOCK_STREAM, 0)) != -1);
	ATF_REQUIRE(bind(lfd, (struct sockaddr *)&sun, sizeof sun) == 0);
	ATF_REQUIRE(listen(lfd, 5) == 0);
	ATF_REQUIRE((pid = fork()) != -1);
	if (pid == 0)
		server(lfd, rcpt_reply, data_reply);
	close(lfd);
	return pid;
}

static void
stop(pid_t pid, const char *path)
{
	int	 status;
	char	 dir[1024], *s;

	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	if (path) {
		unlink(path);
		strlcpy(dir, path, sizeof dir);
		if ((s = strrchr(dir, '/')) != NULL) {
			*s = '\0';
			rmdir(dir);
		}
	}
}

static enum mda_result
deliver(const char *dest, char *err, size_t errlen)
{
	struct envelope	 e;
	enum mda_result	 r;
	int		 fd;

	test_envelope(&e, "s@example.org", "r@example.net");
	fd = msg_fd(msg, sizeof msg - 1);
	r = mda_lmtp_deliver(fd, dest, "mx.example.org", &e, 10, err,
	    errlen);
	close(fd);
	return r;
}

ATF_TC_WITHOUT_HEAD(unix_ok);
ATF_TC_BODY(unix_ok, tc)
{
	char	 path[256], err[MDA_ERR_MAX], *got;
	pid_t	 pid;

	pid = start_unix(path, sizeof path, "250 2.1.5 ok\r\n",
	    "250 2.0.0 <r@example.net> saved\r\n");
	ATF_CHECK_EQ_MSG(deliver(path, err, sizeof err), MDA_OK, "%s", err);
	ATF_CHECK_MSG(strstr(err, "saved") != NULL, "%s", err);
	stop(pid, path);
	got = slurp("data", NULL);
	ATF_CHECK_STREQ(got, want_data);
	free(got);
	got = slurp("dialogue", NULL);
	ATF_CHECK_STREQ(got, "LHLO mx.example.org\r\n"
	    "MAIL FROM:<s@example.org>\r\nRCPT TO:<r@example.net>\r\n"
	    "DATA\r\nQUIT\r\n");
	free(got);
}

ATF_TC_WITHOUT_HEAD(per_recipient_results);
ATF_TC_BODY(per_recipient_results, tc)
{
	char	 path[256], err[MDA_ERR_MAX];
	pid_t	 pid;

	pid = start_unix(path, sizeof path, "550 5.1.1 no such user\r\n",
	    "250 ok\r\n");
	ATF_CHECK_EQ(deliver(path, err, sizeof err), MDA_PERMFAIL);
	ATF_CHECK_MSG(strncmp(err, "550 5.1.1 no such user", 22) == 0, "%s",
	    err);
	stop(pid, path);

	pid = start_unix(path, sizeof path, "250 2.1.5 ok\r\n",
	    "452 4.2.2 mailbox full\r\n");
	ATF_CHECK_EQ(deliver(path, err, sizeof err), MDA_TEMPFAIL);
	ATF_CHECK_MSG(strncmp(err, "452 4.2.2 mailbox full", 22) == 0, "%s",
	    err);
	stop(pid, path);

	pid = start_unix(path, sizeof path, "250 2.1.5 ok\r\n",
	    "554 rejected\r\n");
	ATF_CHECK_EQ(deliver(path, err, sizeof err), MDA_PERMFAIL);
	ATF_CHECK_MSG(strncmp(err, "550 5.0.0 ", 10) == 0, "%s", err);
	ATF_CHECK_MSG(strstr(err, "554 rejected") != NULL, "%s", err);
	stop(pid, path);

	/* Nobody listening: temporary. */
	ATF_CHECK_EQ(deliver(path, err, sizeof err), MDA_TEMPFAIL);
	ATF_CHECK_MSG(strncmp(err, "451 4.4.1", 9) == 0, "%s", err);
}

ATF_TC_WITHOUT_HEAD(tcp_ok);
ATF_TC_BODY(tcp_ok, tc)
{
	struct sockaddr_in	 sin;
	char			 err[MDA_ERR_MAX], dest[64], *got;
	pid_t			 pid;
	int			 lfd, one = 1;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(TCP_PORT);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ATF_REQUIRE((lfd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	ATF_REQUIRE(bind(lfd, (struct sockaddr *)&sin, sizeof sin) == 0);
	ATF_REQUIRE(listen(lfd, 5) == 0);
	ATF_REQUIRE((pid = fork()) != -1);
	if (pid == 0)
		server(lfd, "250 2.1.5 ok\r\n", "250 2.0.0 stored\r\n");
	close(lfd);
	snprintf(dest, sizeof dest, "127.0.0.1:%d", TCP_PORT);
	ATF_CHECK_EQ_MSG(deliver(dest, err, sizeof err), MDA_OK, "%s", err);
	stop(pid, NULL);
	got = slurp("data", NULL);
	ATF_CHECK_STREQ(got, want_data);
	free(got);

	ATF_CHECK_EQ(deliver("127.0.0.1", err, sizeof err), MDA_TEMPFAIL);
	ATF_CHECK_EQ(deliver("[::1:24000", err, sizeof err), MDA_TEMPFAIL);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, unix_ok);
	ATF_TP_ADD_TC(tp, per_recipient_results);
	ATF_TP_ADD_TC(tp, tcp_ok);
	return atf_no_error();
}
