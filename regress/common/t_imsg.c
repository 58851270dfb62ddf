/*
 * Unit tests of the imsg channel (common/imsg.c): typed round trips, fd
 * passing, framing errors on the wire, size limits and reader checks.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <atf-c.h>
#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

#define MAXMSG	256

/* What the receiving side saw. */
struct seen {
	int		 nmsg;
	uint32_t	 type[MAXMSG];
	uint32_t	 peerid[MAXMSG];
	int		 fd[MAXMSG];
	uint8_t		*data[MAXMSG];
	size_t		 len[MAXMSG];
	int		 closed;
	char		 why[64];
};

static void
on_msg(struct imsgchan *c, struct imsg *imsg, void *arg)
{
	struct seen	*s = arg;
	int		 i = s->nmsg;

	(void)c;
	ATF_REQUIRE(i < MAXMSG);
	s->type[i] = imsg->type;
	s->peerid[i] = imsg->peerid;
	s->fd[i] = imsg->fd;
	imsg->fd = -1;		/* keep it */
	s->len[i] = imsg->len;
	s->data[i] = malloc(imsg->len + 1);
	ATF_REQUIRE(s->data[i] != NULL);
	memcpy(s->data[i], imsg->data, imsg->len);
	s->nmsg++;
}

static void
on_close(struct imsgchan *c, const char *why, void *arg)
{
	struct seen	*s = arg;

	(void)c;
	s->closed++;
	strncpy(s->why, why, sizeof s->why - 1);
}

/* Run the loop until cond is true; bounded (about 5 s). */
static void
run_until(const int *counter, int want)
{
	struct timeval	 tv = { 0, 10000 };
	int		 i;

	for (i = 0; i < 500 && *counter < want; i++) {
		event_loopexit(&tv);
		event_loop(EVLOOP_ONCE);
	}
}

static void
mkpair(int sv[2])
{
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
}

/* A reader over a copy of a received message. */
static void
reader(struct mreader *r, struct seen *s, int i)
{
	struct imsg	 imsg;

	memset(&imsg, 0, sizeof imsg);
	imsg.data = s->data[i];
	imsg.len = s->len[i];
	imsg.fd = -1;
	m_msg(r, &imsg);
}

ATF_TC_WITHOUT_HEAD(roundtrip);
ATF_TC_BODY(roundtrip, tc)
{
	struct imsgchan	*a, *b;
	struct mbuild	*m;
	struct mreader	 r;
	struct seen	 sa, sb;
	const char	*str;
	const void	*data;
	size_t		 dlen;
	uint32_t	 u32;
	uint64_t	 u64;
	int64_t		 i64;
	int		 sv[2];

	memset(&sa, 0, sizeof sa);
	memset(&sb, 0, sizeof sb);
	event_init();
	mkpair(sv);
	a = imsgchan_new(sv[0], "b", on_msg, on_close, &sa);
	b = imsgchan_new(sv[1], "a", on_msg, on_close, &sb);
	ATF_CHECK_STREQ(imsgchan_name(a), "b");

	m = m_create(a, 42, 7, -1);
	m_add_u32(m, 0xdeadbeef);
	m_add_u64(m, UINT64_C(0x0123456789abcdef));
	m_add_int(m, -5);
	m_add_str(m, "hello world");
	m_add_str(m, NULL);
	m_add_data(m, "\0\1\2\3", 4);
	m_add_data(m, "", 0);
	m_close(m);
	m_compose(a, 43, 8, -1);
	ATF_CHECK(imsgchan_pending(a) > 0);
	run_until(&sb.nmsg, 2);
	ATF_CHECK_EQ(imsgchan_pending(a), 0);

	ATF_REQUIRE_EQ(sb.nmsg, 2);
	ATF_CHECK_EQ(sb.type[0], 42);
	ATF_CHECK_EQ(sb.peerid[0], 7);
	ATF_CHECK_EQ(sb.fd[0], -1);
	reader(&r, &sb, 0);
	ATF_CHECK_EQ(m_get_u32(&r, &u32), 0);
	ATF_CHECK_EQ(u32, 0xdeadbeef);
	ATF_CHECK_EQ(m_get_u64(&r, &u64), 0);
	ATF_CHECK(u64 == UINT64_C(0x0123456789abcdef));
	ATF_CHECK_EQ(m_get_int(&r, &i64), 0);
	ATF_CHECK(i64 == -5);
	ATF_CHECK_EQ(m_get_str(&r, &str), 0);
	ATF_CHECK_STREQ(str, "hello world");
	ATF_CHECK_EQ(m_get_str(&r, &str), 0);
	ATF_CHECK_STREQ(str, "");
	ATF_CHECK_EQ(m_get_data(&r, &data, &dlen), 0);
	ATF_CHECK_EQ(dlen, 4);
	ATF_CHECK(memcmp(data, "\0\1\2\3", 4) == 0);
	ATF_CHECK_EQ(m_get_data(&r, &data, &dlen), 0);
	ATF_CHECK_EQ(dlen, 0);
	ATF_CHECK_EQ(m_end(&r), 0);

	ATF_CHECK_EQ(sb.type[1], 43);
	ATF_CHECK_EQ(sb.peerid[1], 8);
	ATF_CHECK_EQ(sb.len[1], 0);
	reader(&r, &sb, 1);
	ATF_CHECK_EQ(m_end(&r), 0);

	/* And the other way. */
	m = m_create(b, 44, 9, -1);
	m_add_str(m, "back");
	m_close(m);
	run_until(&sa.nmsg, 1);
	ATF_REQUIRE_EQ(sa.nmsg, 1);
	reader(&r, &sa, 0);
	ATF_CHECK_EQ(m_get_str(&r, &str), 0);
	ATF_CHECK_STREQ(str, "back");
	ATF_CHECK_EQ(m_end(&r), 0);
	ATF_CHECK_EQ(sa.closed + sb.closed, 0);
	imsgchan_free(a);
	imsgchan_free(b);
}

ATF_TC_WITHOUT_HEAD(many_in_order);
ATF_TC_BODY(many_in_order, tc)
{
	struct imsgchan	*a, *b;
	struct mbuild	*m;
	struct mreader	 r;
	struct seen	 sb;
	const void	*data;
	size_t		 dlen;
	uint32_t	 u32;
	char		*big;
	int		 sv[2], i, n = 64;

	/* Large messages overflow the socket buffer: the queue must hold. */
	memset(&sb, 0, sizeof sb);
	event_init();
	mkpair(sv);
	big = malloc(100000);
	ATF_REQUIRE(big != NULL);
	a = imsgchan_new(sv[0], "b", on_msg, on_close, NULL);
	b = imsgchan_new(sv[1], "a", on_msg, on_close, &sb);
	for (i = 0; i < n; i++) {
		memset(big, 'a' + i % 26, 100000);
		m = m_create(a, 1, (uint32_t)i, -1);
		m_add_u32(m, (uint32_t)i);
		m_add_data(m, big, 100000);
		m_close(m);
	}
	ATF_CHECK(imsgchan_pending(a) > (size_t)n * 100000);
	run_until(&sb.nmsg, n);
	ATF_REQUIRE_EQ(sb.nmsg, n);
	for (i = 0; i < n; i++) {
		reader(&r, &sb, i);
		ATF_CHECK_EQ(sb.peerid[i], (uint32_t)i);
		ATF_CHECK_EQ(m_get_u32(&r, &u32), 0);
		ATF_CHECK_EQ(u32, (uint32_t)i);
		ATF_CHECK_EQ(m_get_data(&r, &data, &dlen), 0);
		ATF_CHECK_EQ(dlen, 100000);
		ATF_CHECK(((const char *)data)[0] == 'a' + i % 26);
		ATF_CHECK(((const char *)data)[99999] == 'a' + i % 26);
		ATF_CHECK_EQ(m_end(&r), 0);
	}
	free(big);
	imsgchan_free(a);
	imsgchan_free(b);
}

ATF_TC_WITHOUT_HEAD(fd_passing);
ATF_TC_BODY(fd_passing, tc)
{
	struct imsgchan	*a, *b;
	struct mbuild	*m;
	struct mreader	 r;
	struct seen	 sb;
	const char	*str;
	char		 got[16];
	int		 sv[2], p[2], q[2], i;

	memset(&sb, 0, sizeof sb);
	event_init();
	mkpair(sv);
	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE(pipe(q) == 0);
	a = imsgchan_new(sv[0], "b", on_msg, on_close, NULL);
	b = imsgchan_new(sv[1], "a", on_msg, on_close, &sb);
	/* fd, no fd, fd: each fd must land on its own message. */
	m = m_create(a, 10, 1, p[1]);
	m_add_str(m, "first");
	m_close(m);
	m_compose(a, 11, 2, -1);
	m_compose(a, 12, 3, q[1]);
	run_until(&sb.nmsg, 3);
	ATF_REQUIRE_EQ(sb.nmsg, 3);
	ATF_CHECK(sb.fd[0] >= 0);
	ATF_CHECK_EQ(sb.fd[1], -1);
	ATF_CHECK(sb.fd[2] >= 0);
	reader(&r, &sb, 0);
	ATF_CHECK_EQ(m_get_str(&r, &str), 0);
	ATF_CHECK_STREQ(str, "first");
	ATF_CHECK_EQ(m_end(&r), 0);

	ATF_REQUIRE_EQ(write(sb.fd[0], "one", 3), 3);
	ATF_REQUIRE_EQ(write(sb.fd[2], "two", 3), 3);
	close(sb.fd[0]);
	close(sb.fd[2]);
	memset(got, 0, sizeof got);
	ATF_REQUIRE_EQ(read(p[0], got, sizeof got - 1), 3);
	ATF_CHECK_STREQ(got, "one");
	memset(got, 0, sizeof got);
	ATF_REQUIRE_EQ(read(q[0], got, sizeof got - 1), 3);
	ATF_CHECK_STREQ(got, "two");
	/* Every write end is closed now (the sender's copies too): EOF. */
	ATF_CHECK_EQ(read(p[0], got, 1), 0);
	ATF_CHECK_EQ(read(q[0], got, 1), 0);
	for (i = 0; i < 3; i++)
		free(sb.data[i]);
	imsgchan_free(a);
	imsgchan_free(b);
}

/* An fd not taken by on_msg is closed by the channel. */
static void
on_msg_ignore(struct imsgchan *c, struct imsg *imsg, void *arg)
{
	(void)c;
	(void)imsg;
	(*(int *)arg)++;
}

ATF_TC_WITHOUT_HEAD(fd_untaken_closed);
ATF_TC_BODY(fd_untaken_closed, tc)
{
	struct imsgchan	*a, *b;
	char		 c;
	int		 sv[2], p[2], n = 0;

	event_init();
	mkpair(sv);
	ATF_REQUIRE(pipe(p) == 0);
	a = imsgchan_new(sv[0], "b", on_msg_ignore, NULL, NULL);
	b = imsgchan_new(sv[1], "a", on_msg_ignore, NULL, &n);
	m_compose(a, 1, 0, p[1]);
	run_until(&n, 1);
	ATF_REQUIRE_EQ(n, 1);
	/* No write end left anywhere: the reader sees EOF, not a hang. */
	ATF_CHECK_EQ(read(p[0], &c, 1), 0);
	imsgchan_free(a);
	imsgchan_free(b);
}

/* Raw header helper for crafting frames. */
static void
rawhdr(uint8_t *p, uint32_t len, uint32_t type, uint32_t flags)
{
	uint32_t	 h[4] = { len, type, 0, flags };

	memcpy(p, h, sizeof h);
}

ATF_TC_WITHOUT_HEAD(peer_closes_mid_message);
ATF_TC_BODY(peer_closes_mid_message, tc)
{
	struct imsgchan	*b;
	struct seen	 sb;
	uint8_t		 raw[64];
	int		 sv[2];

	memset(&sb, 0, sizeof sb);
	event_init();
	mkpair(sv);
	b = imsgchan_new(sv[1], "a", on_msg, on_close, &sb);
	memset(raw, 0, sizeof raw);
	rawhdr(raw, 100, 5, 0);		/* says 100, only 40 come */
	ATF_REQUIRE_EQ(write(sv[0], raw, 40), 40);
	close(sv[0]);
	run_until(&sb.closed, 1);
	ATF_CHECK_EQ(sb.closed, 1);
	ATF_CHECK_EQ(sb.nmsg, 0);
	ATF_CHECK_STREQ(sb.why, "eof mid-message");
	imsgchan_free(b);
}

ATF_TC_WITHOUT_HEAD(peer_eof);
ATF_TC_BODY(peer_eof, tc)
{
	struct imsgchan	*a, *b;
	struct seen	 sb;
	int		 sv[2];

	memset(&sb, 0, sizeof sb);
	event_init();
	mkpair(sv);
	a = imsgchan_new(sv[0], "b", on_msg, on_close, NULL);
	b = imsgchan_new(sv[1], "a", on_msg, on_close, &sb);
	m_compose(a, 1, 0, -1);
	run_until(&sb.nmsg, 1);
	imsgchan_free(a);
	run_until(&sb.closed, 1);
	ATF_CHECK_EQ(sb.nmsg, 1);
	ATF_CHECK_EQ(sb.closed, 1);
	ATF_CHECK_STREQ(sb.why, "eof");
	/* A message to a closed channel is dropped, not a crash. */
	m_compose(b, 2, 0, -1);
	ATF_CHECK_EQ(imsgchan_pending(b), 0);
	imsgchan_free(b);
}

ATF_TC_WITHOUT_HEAD(write_to_dead_peer);
ATF_TC_BODY(write_to_dead_peer, tc)
{
	struct imsgchan	*a;
	struct seen	 sa;
	int		 sv[2];

	memset(&sa, 0, sizeof sa);
	event_init();
	mkpair(sv);
	a = imsgchan_new(sv[0], "b", on_msg, on_close, &sa);
	close(sv[1]);
	m_compose(a, 1, 0, -1);
	run_until(&sa.closed, 1);
	ATF_CHECK_EQ(sa.closed, 1);
	/* EOF on read or EPIPE on write: either reports the loss. */
	ATF_CHECK(strcmp(sa.why, "eof") == 0 || strcmp(sa.why, "epipe") == 0);
	imsgchan_free(a);
}

ATF_TC_WITHOUT_HEAD(oversized_at_read);
ATF_TC_BODY(oversized_at_read, tc)
{
	struct imsgchan	*b;
	struct seen	 sb;
	uint8_t		 raw[IMSG_HDR_SIZE];
	int		 sv[2];

	memset(&sb, 0, sizeof sb);
	event_init();
	mkpair(sv);
	b = imsgchan_new(sv[1], "a", on_msg, on_close, &sb);
	rawhdr(raw, IMSG_MAX_SIZE + 1, 5, 0);
	ATF_REQUIRE_EQ(write(sv[0], raw, sizeof raw), (ssize_t)sizeof raw);
	run_until(&sb.closed, 1);
	ATF_CHECK_EQ(sb.closed, 1);
	ATF_CHECK_EQ(sb.nmsg, 0);
	ATF_CHECK_STREQ(sb.why, "bad frame");
	close(sv[0]);
	imsgchan_free(b);
}

ATF_TC_WITHOUT_HEAD(bad_frames_at_read);
ATF_TC_BODY(bad_frames_at_read, tc)
{
	struct imsgchan	*b;
	struct seen	 sb;
	uint8_t		 raw[IMSG_HDR_SIZE];
	int		 sv[2], k;
	/* len below the header; unknown flag bit; fd flag without an fd */
	uint32_t	 lens[3] = { IMSG_HDR_SIZE - 1, IMSG_HDR_SIZE,
			    IMSG_HDR_SIZE };
	uint32_t	 flags[3] = { 0, 0x80, 0x01 };

	for (k = 0; k < 3; k++) {
		memset(&sb, 0, sizeof sb);
		event_init();
		mkpair(sv);
		b = imsgchan_new(sv[1], "a", on_msg, on_close, &sb);
		rawhdr(raw, lens[k], 5, flags[k]);
		ATF_REQUIRE_EQ(write(sv[0], raw, sizeof raw),
		    (ssize_t)sizeof raw);
		run_until(&sb.closed, 1);
		ATF_CHECK_EQ_MSG(sb.closed, 1, "case %d", k);
		ATF_CHECK_EQ_MSG(sb.nmsg, 0, "case %d", k);
		ATF_CHECK_STREQ_MSG(sb.why, "bad frame", "case %d", k);
		close(sv[0]);
		imsgchan_free(b);
	}
}

/* Build a message past IMSG_MAX_SIZE in a child: it must die (fatalx). */
static int
build_oversized(size_t n, int asdata)
{
	struct imsgchan	*a;
	struct mbuild	*m;
	char		*p;
	pid_t		 pid;
	int		 sv[2], status;

	pid = fork();
	ATF_REQUIRE(pid != -1);
	if (pid == 0) {
		close(2);
		event_init();
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
			_exit(2);
		a = imsgchan_new(sv[0], "b", on_msg_ignore, NULL, NULL);
		if ((p = malloc(n + 1)) == NULL)
			_exit(2);
		memset(p, 'x', n);
		p[n] = '\0';
		m = m_create(a, 1, 0, -1);
		if (asdata)
			m_add_data(m, p, n);
		else
			m_add_str(m, p);
		m_close(m);
		_exit(0);
	}
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

ATF_TC_WITHOUT_HEAD(oversized_at_build);
ATF_TC_BODY(oversized_at_build, tc)
{
	/* header 16 + tag 1 + length 4 + n (+ NUL for a string) */
	ATF_CHECK_EQ(build_oversized(IMSG_MAX_SIZE - 21, 1), 0);
	ATF_CHECK_EQ(build_oversized(IMSG_MAX_SIZE - 20, 1), 1);
	ATF_CHECK_EQ(build_oversized(IMSG_MAX_SIZE - 22, 0), 0);
	ATF_CHECK_EQ(build_oversized(IMSG_MAX_SIZE - 21, 0), 1);
	ATF_CHECK_EQ(build_oversized(IMSG_MAX_SIZE * 2, 1), 1);
}

ATF_TC_WITHOUT_HEAD(max_size_delivered);
ATF_TC_BODY(max_size_delivered, tc)
{
	struct imsgchan	*a, *b;
	struct mbuild	*m;
	struct mreader	 r;
	struct seen	 sb;
	const void	*data;
	size_t		 dlen, n = IMSG_MAX_SIZE - 21;
	char		*p;
	int		 sv[2];

	memset(&sb, 0, sizeof sb);
	event_init();
	mkpair(sv);
	ATF_REQUIRE((p = malloc(n)) != NULL);
	memset(p, 'z', n);
	a = imsgchan_new(sv[0], "b", on_msg, on_close, NULL);
	b = imsgchan_new(sv[1], "a", on_msg, on_close, &sb);
	m = m_create(a, 1, 0, -1);
	m_add_data(m, p, n);
	m_close(m);
	run_until(&sb.nmsg, 1);
	ATF_REQUIRE_EQ(sb.nmsg, 1);
	ATF_CHECK_EQ(sb.len[0], IMSG_MAX_SIZE - IMSG_HDR_SIZE);
	reader(&r, &sb, 0);
	ATF_CHECK_EQ(m_get_data(&r, &data, &dlen), 0);
	ATF_CHECK_EQ(dlen, n);
	ATF_CHECK_EQ(m_end(&r), 0);
	ATF_CHECK_EQ(sb.closed, 0);
	free(p);
	imsgchan_free(a);
	imsgchan_free(b);
}

/* Send one message through a real pair and keep its field bytes. */
static void
capture(struct seen *sb, void (*fill)(struct mbuild *))
{
	struct imsgchan	*a, *b;
	struct mbuild	*m;
	int		 sv[2];

	memset(sb, 0, sizeof *sb);
	event_init();
	mkpair(sv);
	a = imsgchan_new(sv[0], "b", on_msg, on_close, NULL);
	b = imsgchan_new(sv[1], "a", on_msg, on_close, sb);
	m = m_create(a, 1, 0, -1);
	fill(m);
	m_close(m);
	run_until(&sb->nmsg, 1);
	ATF_REQUIRE_EQ(sb->nmsg, 1);
	imsgchan_free(a);
	imsgchan_free(b);
}

static void
fill_u32_str(struct mbuild *m)
{
	m_add_u32(m, 1);
	m_add_str(m, "abc");
}

ATF_TC_WITHOUT_HEAD(mistyped_read);
ATF_TC_BODY(mistyped_read, tc)
{
	struct mreader	 r;
	struct seen	 sb;
	const char	*str;
	const void	*data;
	size_t		 dlen;
	uint32_t	 u32;
	uint64_t	 u64;
	int64_t		 i64;

	capture(&sb, fill_u32_str);
	/* A u32 read as a string, a u64, an int, data: each refused. */
	reader(&r, &sb, 0);
	ATF_CHECK_EQ(m_get_str(&r, &str), -1);
	reader(&r, &sb, 0);
	ATF_CHECK_EQ(m_get_u64(&r, &u64), -1);
	reader(&r, &sb, 0);
	ATF_CHECK_EQ(m_get_int(&r, &i64), -1);
	reader(&r, &sb, 0);
	ATF_CHECK_EQ(m_get_data(&r, &data, &dlen), -1);
	/* The error sticks: later getters and m_end fail too. */
	ATF_CHECK_EQ(m_get_u32(&r, &u32), -1);
	ATF_CHECK_EQ(m_end(&r), -1);
	/* A string read as data is refused too. */
	reader(&r, &sb, 0);
	ATF_CHECK_EQ(m_get_u32(&r, &u32), 0);
	ATF_CHECK_EQ(m_get_data(&r, &data, &dlen), -1);
	/* The right order reads fine. */
	reader(&r, &sb, 0);
	ATF_CHECK_EQ(m_get_u32(&r, &u32), 0);
	ATF_CHECK_EQ(m_get_str(&r, &str), 0);
	ATF_CHECK_STREQ(str, "abc");
	ATF_CHECK_EQ(m_end(&r), 0);
	free(sb.data[0]);
}

ATF_TC_WITHOUT_HEAD(leftover_detected);
ATF_TC_BODY(leftover_detected, tc)
{
	struct mreader	 r;
	struct seen	 sb;
	uint32_t	 u32;

	capture(&sb, fill_u32_str);
	reader(&r, &sb, 0);
	ATF_CHECK_EQ(m_get_u32(&r, &u32), 0);
	ATF_CHECK_EQ(m_end(&r), -1);
	free(sb.data[0]);
}

ATF_TC_WITHOUT_HEAD(truncated_fields);
ATF_TC_BODY(truncated_fields, tc)
{
	struct mreader	 r;
	struct seen	 sb;
	const char	*str;
	uint32_t	 u32;
	size_t		 full, cut;

	capture(&sb, fill_u32_str);
	full = sb.len[0];
	/* u32: 1 + 4; str "abc": 1 + 4 + 3 + 1 */
	ATF_REQUIRE_EQ(full, 5 + 9);
	for (cut = 0; cut < full; cut++) {
		sb.len[0] = cut;
		reader(&r, &sb, 0);
		if (cut < 5) {
			ATF_CHECK_EQ_MSG(m_get_u32(&r, &u32), -1, "cut %zu",
			    cut);
			continue;
		}
		ATF_CHECK_EQ(m_get_u32(&r, &u32), 0);
		ATF_CHECK_EQ_MSG(m_get_str(&r, &str), -1, "cut %zu", cut);
		ATF_CHECK_EQ(m_end(&r), -1);
	}
	free(sb.data[0]);
}

ATF_TC_WITHOUT_HEAD(string_checks);
ATF_TC_BODY(string_checks, tc)
{
	struct mreader	 r;
	struct seen	 sb;
	const char	*str;
	uint32_t	 u32, n;

	capture(&sb, fill_u32_str);
	/* A NUL inside the string. */
	sb.data[0][5 + 1 + 4 + 1] = '\0';
	reader(&r, &sb, 0);
	ATF_CHECK_EQ(m_get_u32(&r, &u32), 0);
	ATF_CHECK_EQ(m_get_str(&r, &str), -1);
	sb.data[0][5 + 1 + 4 + 1] = 'b';
	/* No terminating NUL. */
	sb.data[0][5 + 1 + 4 + 3] = 'x';
	reader(&r, &sb, 0);
	ATF_CHECK_EQ(m_get_u32(&r, &u32), 0);
	ATF_CHECK_EQ(m_get_str(&r, &str), -1);
	sb.data[0][5 + 1 + 4 + 3] = '\0';
	/* A length past the end, and a huge one (no wrap-around). */
	n = 4;
	memcpy(sb.data[0] + 5 + 1, &n, sizeof n);
	reader(&r, &sb, 0);
	ATF_CHECK_EQ(m_get_u32(&r, &u32), 0);
	ATF_CHECK_EQ(m_get_str(&r, &str), -1);
	n = UINT32_MAX;
	memcpy(sb.data[0] + 5 + 1, &n, sizeof n);
	reader(&r, &sb, 0);
	ATF_CHECK_EQ(m_get_u32(&r, &u32), 0);
	ATF_CHECK_EQ(m_get_str(&r, &str), -1);
	free(sb.data[0]);
}

ATF_TC_WITHOUT_HEAD(frame_len);
ATF_TC_BODY(frame_len, tc)
{
	uint8_t		 raw[64];

	memset(raw, 0, sizeof raw);
	ATF_CHECK_EQ(imsg_frame_len(raw, 0), 0);
	rawhdr(raw, 20, 1, 0);
	ATF_CHECK_EQ(imsg_frame_len(raw, IMSG_HDR_SIZE - 1), 0);
	ATF_CHECK_EQ(imsg_frame_len(raw, IMSG_HDR_SIZE), 0);
	ATF_CHECK_EQ(imsg_frame_len(raw, 19), 0);
	ATF_CHECK_EQ(imsg_frame_len(raw, 20), 20);
	ATF_CHECK_EQ(imsg_frame_len(raw, 64), 20);
	rawhdr(raw, IMSG_HDR_SIZE, 1, 0);
	ATF_CHECK_EQ(imsg_frame_len(raw, IMSG_HDR_SIZE), IMSG_HDR_SIZE);
	rawhdr(raw, IMSG_HDR_SIZE - 1, 1, 0);
	ATF_CHECK_EQ(imsg_frame_len(raw, IMSG_HDR_SIZE), -1);
	rawhdr(raw, 0, 1, 0);
	ATF_CHECK_EQ(imsg_frame_len(raw, IMSG_HDR_SIZE), -1);
	rawhdr(raw, IMSG_MAX_SIZE, 1, 0);
	ATF_CHECK_EQ(imsg_frame_len(raw, IMSG_HDR_SIZE), 0);
	rawhdr(raw, IMSG_MAX_SIZE + 1, 1, 0);
	ATF_CHECK_EQ(imsg_frame_len(raw, IMSG_HDR_SIZE), -1);
	rawhdr(raw, UINT32_MAX, 1, 0);
	ATF_CHECK_EQ(imsg_frame_len(raw, IMSG_HDR_SIZE), -1);
}

/* Freeing the channel from inside on_msg stops delivery safely. */
static void
on_msg_free(struct imsgchan *c, struct imsg *imsg, void *arg)
{
	(void)imsg;
	(*(int *)arg)++;
	imsgchan_free(c);
}

ATF_TC_WITHOUT_HEAD(free_in_callback);
ATF_TC_BODY(free_in_callback, tc)
{
	struct imsgchan	*a;
	int		 sv[2], n = 0, i;

	event_init();
	mkpair(sv);
	a = imsgchan_new(sv[0], "b", on_msg_ignore, NULL, NULL);
	imsgchan_new(sv[1], "a", on_msg_free, NULL, &n);
	for (i = 0; i < 3; i++)
		m_compose(a, 1, 0, -1);
	imsgchan_flush(a);
	ATF_CHECK_EQ(imsgchan_pending(a), 0);
	run_until(&n, 1);
	for (i = 0; i < 20; i++)
		event_loop(EVLOOP_NONBLOCK);
	ATF_CHECK_EQ(n, 1);
	imsgchan_free(a);
}

ATF_TP_ADD_TCS(tp)
{
	signal(SIGPIPE, SIG_IGN);
	ATF_TP_ADD_TC(tp, roundtrip);
	ATF_TP_ADD_TC(tp, many_in_order);
	ATF_TP_ADD_TC(tp, fd_passing);
	ATF_TP_ADD_TC(tp, fd_untaken_closed);
	ATF_TP_ADD_TC(tp, peer_closes_mid_message);
	ATF_TP_ADD_TC(tp, peer_eof);
	ATF_TP_ADD_TC(tp, write_to_dead_peer);
	ATF_TP_ADD_TC(tp, oversized_at_read);
	ATF_TP_ADD_TC(tp, bad_frames_at_read);
	ATF_TP_ADD_TC(tp, oversized_at_build);
	ATF_TP_ADD_TC(tp, max_size_delivered);
	ATF_TP_ADD_TC(tp, mistyped_read);
	ATF_TP_ADD_TC(tp, leftover_detected);
	ATF_TP_ADD_TC(tp, truncated_fields);
	ATF_TP_ADD_TC(tp, string_checks);
	ATF_TP_ADD_TC(tp, frame_len);
	ATF_TP_ADD_TC(tp, free_in_callback);
	return atf_no_error();
}
