/*
 * Unit tests of the on-disk queue (queue/queue_store.c) on a temporary
 * directory: commit, group commit, failed commit, rollback, recovery,
 * corrupt envelopes, update and removal.
 */
#include <sys/stat.h>

#include <atf-c.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "queue/queue_store.h"

static int	 ncb;
static uint64_t	 lastid;

static void
count_cb(const struct envelope *e, void *arg)
{
	(void)arg;
	ncb++;
	lastid = e->id;
}

static int
count_entries(const char *path)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
mkenv(struct envelope *e, const char *rcpt)
{
	memset(e, 0, sizeof(*e));
	e->type = ENV_MDA;
	strlcpy(e->action, "local", sizeof(e->action));
	strlcpy(e->sender, "a@example.org", sizeof(e->sender));
	strlcpy(e->rcpt, rcpt, sizeof(e->rcpt));
}

/* A message with nrcpt envelopes in incoming; returns its id. */
static uint32_t
mkmsg(const char *body, int nrcpt)
{
	struct envelope	 e;
	uint32_t	 msgid;
	int		 fd, k;
	char		 r[64];

	ATF_REQUIRE((fd = queue_store_create(&msgid)) != -1);
	ATF_REQUIRE(write(fd, body, strlen(body)) == (ssize_t)strlen(body));
	close(fd);
	for (k = 0; k < nrcpt; k++) {
		snprintf(r, sizeof(r), "user%d@example.net", k);
		mkenv(&e, r);
		ATF_REQUIRE(queue_store_envelope(msgid, &e) == 0);
		ATF_CHECK_EQ(evpid_to_msgid(e.id), msgid);
	}
	return msgid;
}

static void
setup(void)
{
	ATF_REQUIRE(mkdir("spool", 0700) == 0);
	ATF_REQUIRE(queue_store_init("spool") == 0);
	ncb = 0;
}

ATF_TC_WITHOUT_HEAD(commit);
ATF_TC_BODY(commit, tc)
{
	struct qs_commit c;
	char		 path[64], want[64];
	uint32_t	 msgid;

	setup();
	msgid = mkmsg("Subject: x\r\n\r\nhello\r\n", 2);
	snprintf(path, sizeof(path), "spool/incoming/%08" PRIx32, msgid);
	ATF_CHECK_EQ(count_entries(path), 1);	/* message only */
	memset(&c, 0, sizeof(c));
	c.msgid = msgid;
	c.size = 21;
	queue_store_commit(&c, 1, count_cb, NULL);
	ATF_REQUIRE_MSG(c.ok, "%s", c.reply);
	snprintf(want, sizeof(want), "250 2.0.0 Ok: queued as %08" PRIx32,
	    msgid);
	ATF_CHECK_STREQ(c.reply, want);
	ATF_CHECK_EQ(ncb, 2);
	ATF_CHECK_EQ(count_entries("spool/incoming"), 0);
	snprintf(path, sizeof(path), "spool/queue/%08" PRIx32, msgid);
	ATF_CHECK_EQ(count_entries(path), 3);
	snprintf(path, sizeof(path), "spool/queue/%08" PRIx32 "/message",
	    msgid);
	ATF_CHECK(access(path, R_OK) == 0);
	queue_store_close();
}

ATF_TC_WITHOUT_HEAD(group_commit);
ATF_TC_BODY(group_commit, tc)
{
	struct qs_commit c[4];
	int		 k;

	setup();
	memset(c, 0, sizeof(c));
	for (k = 0; k < 4; k++) {
		c[k].msgid = mkmsg("x\r\n", 1);
		c[k].size = 3;
	}
	c[2].size = 999;	/* short message: must fail alone */
	queue_store_commit(c, 4, count_cb, NULL);
	ATF_CHECK(c[0].ok && c[1].ok && c[3].ok);
	ATF_CHECK(!c[2].ok);
	ATF_CHECK(strncmp(c[2].reply, "452 4.3.1", 9) == 0);
	ATF_CHECK_EQ(ncb, 3);
	ATF_CHECK_EQ(count_entries("spool/queue"), 3);
	ATF_CHECK_EQ(count_entries("spool/incoming"), 0);
	queue_store_close();
}

ATF_TC_WITHOUT_HEAD(rollback);
ATF_TC_BODY(rollback, tc)
{
	struct qs_commit c;
	uint32_t	 msgid;

	setup();
	msgid = mkmsg("x\r\n", 1);
	ATF_CHECK(queue_store_is_incoming(msgid));
	queue_store_rollback(msgid);
	ATF_CHECK(!queue_store_is_incoming(msgid));
	ATF_CHECK_EQ(count_entries("spool/incoming"), 0);
	/* commit of an unknown or empty message fails */
	memset(&c, 0, sizeof(c));
	c.msgid = msgid;
	c.size = UINT64_MAX;
	queue_store_commit(&c, 1, count_cb, NULL);
	ATF_CHECK(!c.ok);
	msgid = mkmsg("x\r\n", 0);
	c.msgid = msgid;
	queue_store_commit(&c, 1, count_cb, NULL);
	ATF_CHECK(!c.ok);
	ATF_CHECK_EQ(count_entries("spool/queue"), 0);
	ATF_CHECK_EQ(count_entries("spool/incoming"), 0);
	/* a refused envelope fails the whole commit */
	msgid = mkmsg("x\r\n", 2);
	queue_store_fail(msgid, "451 4.3.0 Bad envelope from smtp");
	c.msgid = msgid;
	queue_store_commit(&c, 1, count_cb, NULL);
	ATF_CHECK(!c.ok);
	ATF_CHECK_STREQ(c.reply, "451 4.3.0 Bad envelope from smtp");
	ATF_CHECK_EQ(count_entries("spool/queue"), 0);
	ATF_CHECK_EQ(count_entries("spool/incoming"), 0);
	queue_store_close();
}

ATF_TC_WITHOUT_HEAD(recovery);
ATF_TC_BODY(recovery, tc)
{
	struct qs_commit c;
	char		 path[80];
	uint32_t	 msgid;
	FILE		*fp;

	setup();
	msgid = mkmsg("hello\r\n", 3);
	memset(&c, 0, sizeof(c));
	c.msgid = msgid;
	c.size = UINT64_MAX;
	queue_store_commit(&c, 1, NULL, NULL);
	ATF_REQUIRE(c.ok);
	(void)mkmsg("never committed\r\n", 2);	/* a crash mid-DATA */
	/* Simulate the crash: forget in-memory state without cleanup. */
	ATF_REQUIRE(system("cp -a spool spool.crash") == 0);
	queue_store_close();
	ATF_REQUIRE(system("rm -rf spool && mv spool.crash spool") == 0);
	ATF_CHECK_EQ(count_entries("spool/incoming"), 1);

	/* Corrupt one envelope, add a stale temp file. */
	snprintf(path, sizeof(path), "spool/queue/%08" PRIx32 "/%08" PRIx32
	    "00000002", msgid, msgid);
	ATF_REQUIRE((fp = fopen(path, "w")) != NULL);
	fputs("version: 1\nid: zz\n", fp);
	fclose(fp);
	snprintf(path, sizeof(path), "spool/queue/%08" PRIx32 "/%08" PRIx32
	    "00000001.tmp", msgid, msgid);
	ATF_REQUIRE((fp = fopen(path, "w")) != NULL);
	fclose(fp);

	ATF_REQUIRE(queue_store_init("spool") == 0);
	ncb = 0;
	ATF_CHECK_EQ(queue_store_recover(count_cb, NULL), 2);
	ATF_CHECK_EQ(ncb, 2);
	ATF_CHECK_EQ(queue_store_ncorrupt(), 1);
	ATF_CHECK_EQ(count_entries("spool/incoming"), 0);
	ATF_CHECK_EQ(count_entries("spool/corrupt"), 1);
	snprintf(path, sizeof(path), "spool/queue/%08" PRIx32, msgid);
	ATF_CHECK_EQ(count_entries(path), 3);	/* message + 2 */

	/* The remaining envelopes still work: remove both, all gone. */
	ATF_CHECK_EQ(queue_store_remove(msgid_to_evpid(msgid) | 1), 0);
	ATF_CHECK_EQ(queue_store_remove(msgid_to_evpid(msgid) | 3), 0);
	ATF_CHECK_EQ(queue_store_sync(), 0);
	ATF_CHECK_EQ(count_entries("spool/queue"), 0);
	queue_store_close();
}

ATF_TC_WITHOUT_HEAD(message_missing);
ATF_TC_BODY(message_missing, tc)
{
	struct qs_commit c;
	char		 path[80];

	setup();
	memset(&c, 0, sizeof(c));
	c.msgid = mkmsg("hello\r\n", 1);
	c.size = UINT64_MAX;
	queue_store_commit(&c, 1, NULL, NULL);
	ATF_REQUIRE(c.ok);
	queue_store_close();
	snprintf(path, sizeof(path), "spool/queue/%08" PRIx32 "/message",
	    c.msgid);
	ATF_REQUIRE(unlink(path) == 0);
	ATF_REQUIRE(queue_store_init("spool") == 0);
	ncb = 0;
	ATF_CHECK_EQ(queue_store_recover(count_cb, NULL), 0);
	ATF_CHECK_EQ(ncb, 0);
	ATF_CHECK_EQ(count_entries("spool/corrupt"), 1);
	ATF_CHECK_EQ(count_entries("spool/queue"), 0);
	queue_store_close();
}

ATF_TC_WITHOUT_HEAD(update_load);
ATF_TC_BODY(update_load, tc)
{
	struct qs_commit c;
	struct envelope	 e;
	char		 buf[32];
	int		 fd;
	ssize_t		 n;

	setup();
	memset(&c, 0, sizeof(c));
	c.msgid = mkmsg("body\r\n", 1);
	c.size = 6;
	queue_store_commit(&c, 1, count_cb, NULL);
	ATF_REQUIRE(c.ok);
	ATF_REQUIRE(queue_store_load(lastid, &e) == 0);
	ATF_CHECK_EQ(e.retries, 0);
	ATF_CHECK_EQ(e.size, 6);
	ATF_CHECK(e.creation != 0);
	e.retries = 4;
	strlcpy(e.errorline, "421 busy\r\nnow", sizeof(e.errorline));
	ATF_REQUIRE(queue_store_update(&e) == 0);
	memset(&e, 0, sizeof(e));
	ATF_REQUIRE(queue_store_load(lastid, &e) == 0);
	ATF_CHECK_EQ(e.retries, 4);
	ATF_CHECK_STREQ(e.errorline, "421 busy\r\nnow");
	ATF_REQUIRE((fd = queue_store_open_message(c.msgid)) != -1);
	n = read(fd, buf, sizeof(buf));
	ATF_CHECK_EQ(n, 6);
	close(fd);
	ATF_CHECK_EQ(queue_store_move_corrupt(lastid, "test"), 0);
	ATF_CHECK_EQ(count_entries("spool/corrupt"), 2);
	ATF_CHECK_EQ(count_entries("spool/queue"), 0);
	ATF_CHECK_EQ(queue_store_diskcheck(0), 1);
	ATF_CHECK_EQ(queue_store_diskcheck(1), 1);
	ATF_CHECK_EQ(queue_store_diskcheck(UINT64_MAX / 2), 0);
	queue_store_close();
}

ATF_TC_WITHOUT_HEAD(spare_reuse);
ATF_TC_BODY(spare_reuse, tc)
{
	struct qs_commit c;
	char		 buf[64];
	int		 fd;
	ssize_t		 n;

	setup();
	memset(&c, 0, sizeof(c));
	c.msgid = mkmsg("a long first message body\r\n", 1);
	c.size = UINT64_MAX;
	queue_store_commit(&c, 1, count_cb, NULL);
	ATF_REQUIRE(c.ok);
	ATF_REQUIRE(queue_store_remove(lastid) == 0);
	/* message, envelope and directory kept for reuse */
	ATF_CHECK_EQ(count_entries("spool/spare"), 3);
	ATF_CHECK_EQ(count_entries("spool/queue"), 0);
	c.msgid = mkmsg("short\r\n", 1);
	ATF_CHECK_EQ(count_entries("spool/spare"), 1);	/* dir, message */
	queue_store_commit(&c, 1, count_cb, NULL);
	ATF_REQUIRE(c.ok);
	ATF_CHECK_EQ(count_entries("spool/spare"), 0);	/* envelope */
	/* no stale bytes of the first message */
	ATF_REQUIRE((fd = queue_store_open_message(c.msgid)) != -1);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	ATF_CHECK_EQ(n, 7);
	ATF_REQUIRE(queue_store_load(lastid, &(struct envelope){ 0 }) == 0);
	/* a restart starts with an empty spare/ */
	ATF_REQUIRE(queue_store_remove(lastid) == 0);
	queue_store_close();
	ATF_REQUIRE(queue_store_init("spool") == 0);
	ATF_CHECK_EQ(count_entries("spool/spare"), 0);
	queue_store_close();
}

/* Every file in spool/spare is empty and holds no block. */
static void
check_spare_empty(void)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 sb;
	char		 path[300];

	ATF_REQUIRE((d = opendir("spool/spare")) != NULL);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != 'f')
			continue;
		snprintf(path, sizeof(path), "spool/spare/%s", de->d_name);
		ATF_REQUIRE(stat(path, &sb) == 0);
		ATF_CHECK_MSG(sb.st_size == 0 && sb.st_blocks == 0,
		    "%s: size %lld blocks %lld", path, (long long)sb.st_size,
		    (long long)sb.st_blocks);
	}
	closedir(d);
}

/* Read a whole file (at most len - 1 bytes) as a string. */
static ssize_t
slurp(const char *path, char *buf, size_t len)
{
	ssize_t	 n;
	int	 fd;

	ATF_REQUIRE((fd = open(path, O_RDONLY)) != -1);
	n = read(fd, buf, len - 1);
	close(fd);
	ATF_REQUIRE(n >= 0);
	buf[n] = '\0';
	return n;
}

/*
 * A reused spare file never shows a byte of what it held: a spare is
 * emptied (its blocks freed) as it goes in, and the message, envelope
 * and envelope update written into it later are exactly their own.
 */
ATF_TC_WITHOUT_HEAD(spare_no_stale);
ATF_TC_BODY(spare_no_stale, tc)
{
	struct qs_commit c;
	struct envelope	 e;
	char		*big, buf[8192], path[64], ename[17];
	size_t		 k;
	uint64_t	 evpa, evpb, evpc;
	uint32_t	 msga, msgb, msgc;

	setup();
	/* A: a big message ('~') whose envelope has a long error line */
	ATF_REQUIRE((big = malloc(20001)) != NULL);
	for (k = 0; k < 20000; k++)
		big[k] = k % 78 == 77 ? '\n' : '~';
	big[20000] = '\0';
	memset(&c, 0, sizeof(c));
	c.msgid = msga = mkmsg(big, 1);
	c.size = 20000;
	queue_store_commit(&c, 1, count_cb, NULL);
	ATF_REQUIRE_MSG(c.ok, "%s", c.reply);
	evpa = lastid;
	ATF_REQUIRE(queue_store_load(evpa, &e) == 0);
	memset(e.errorline, 'X', sizeof(e.errorline) - 1);
	e.errorline[sizeof(e.errorline) - 1] = '\0';
	ATF_REQUIRE(queue_store_update(&e) == 0);
	ATF_REQUIRE(queue_store_load(evpa, &e) == 0);
	ATF_REQUIRE(e.errorline[0] == 'X');
	check_spare_empty();	/* the envelope the update replaced */

	/* B: its message reuses that envelope's file */
	memset(&c, 0, sizeof(c));
	c.msgid = msgb = mkmsg("short\r\n", 1);
	c.size = 7;
	queue_store_commit(&c, 1, count_cb, NULL);
	ATF_REQUIRE_MSG(c.ok, "%s", c.reply);
	evpb = lastid;
	snprintf(path, sizeof(path), "spool/queue/%08" PRIx32 "/message",
	    msgb);
	ATF_CHECK_EQ(slurp(path, buf, sizeof(buf)), 7);
	ATF_CHECK_STREQ(buf, "short\r\n");

	/* A delivered: its files wait in spare/, emptied */
	ATF_REQUIRE(queue_store_remove(evpa) == 0);
	ATF_CHECK_EQ(count_entries("spool/spare"), 3);
	check_spare_empty();

	/* an update of B is written into A's message file */
	ATF_REQUIRE(queue_store_load(evpb, &e) == 0);
	strlcpy(e.errorline, "421 short", sizeof(e.errorline));
	ATF_REQUIRE(queue_store_update(&e) == 0);
	snprintf(path, sizeof(path), "spool/queue/%08" PRIx32 "/%s", msgb,
	    evpid_str(evpb, ename));
	slurp(path, buf, sizeof(buf));
	ATF_CHECK_MSG(strchr(buf, '~') == NULL && strchr(buf, 'X') == NULL,
	    "stale bytes after update: %s", buf);
	memset(&e, 0, sizeof(e));
	ATF_REQUIRE(queue_store_load(evpb, &e) == 0);
	ATF_CHECK_STREQ(e.errorline, "421 short");
	check_spare_empty();

	/* C: A's directory, B's old envelope file, A's envelope file */
	memset(&c, 0, sizeof(c));
	c.msgid = msgc = mkmsg("tiny\r\n", 1);
	c.size = 6;
	queue_store_commit(&c, 1, count_cb, NULL);
	ATF_REQUIRE_MSG(c.ok, "%s", c.reply);
	evpc = lastid;
	ATF_CHECK_EQ(count_entries("spool/spare"), 0);
	snprintf(path, sizeof(path), "spool/queue/%08" PRIx32, msgc);
	ATF_CHECK_EQ(count_entries(path), 2);	/* nothing of A's */
	snprintf(path, sizeof(path), "spool/queue/%08" PRIx32 "/message",
	    msgc);
	ATF_CHECK_EQ(slurp(path, buf, sizeof(buf)), 6);
	ATF_CHECK_STREQ(buf, "tiny\r\n");
	snprintf(path, sizeof(path), "spool/queue/%08" PRIx32 "/%s", msgc,
	    evpid_str(evpc, ename));
	slurp(path, buf, sizeof(buf));
	ATF_CHECK_MSG(strchr(buf, 'X') == NULL && strchr(buf, '~') == NULL,
	    "stale envelope bytes: %s", buf);
	ATF_REQUIRE(queue_store_load(evpc, &e) == 0);
	ATF_CHECK_STREQ(e.errorline, "");
	ATF_CHECK_EQ(e.size, 6);
	free(big);
	queue_store_close();
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, commit);
	ATF_TP_ADD_TC(tp, group_commit);
	ATF_TP_ADD_TC(tp, rollback);
	ATF_TP_ADD_TC(tp, recovery);
	ATF_TP_ADD_TC(tp, message_missing);
	ATF_TP_ADD_TC(tp, update_load);
	ATF_TP_ADD_TC(tp, spare_reuse);
	ATF_TP_ADD_TC(tp, spare_no_stale);
	return atf_no_error();
}
