/* Unit tests of smtpctl's pure helpers: commands, ids, the config
 * scan and encrypt. */
#include <atf-c.h>
#include <crypt.h>
#include <string.h>

#include "control/smtpctl.h"
#include "proto.h"

static int
parse(const char *line, struct ctl_cmd *cmd)
{
	static char	 copy[512];
	char		*argv[32], *p;
	char		 err[256];
	int		 argc = 0;

	strlcpy(copy, line, sizeof(copy));
	for (p = strtok(copy, " "); p && argc < 32; p = strtok(NULL, " "))
		argv[argc++] = p;
	return ctl_cmd_parse(argc, argv, cmd, err, sizeof(err));
}

ATF_TC_WITHOUT_HEAD(commands);
ATF_TC_BODY(commands, tc)
{
	struct ctl_cmd	 c;

	ATF_REQUIRE_EQ(parse("show queue --json", &c), 0);
	ATF_CHECK_EQ(c.type, IMSG_CTL_SHOW_QUEUE);
	ATF_CHECK_EQ(c.json, 1);
	ATF_REQUIRE_EQ(parse("--json show stats", &c), 0);
	ATF_CHECK_EQ(c.type, IMSG_CTL_SHOW_STATS);
	ATF_CHECK_EQ(c.json, 1);
	ATF_REQUIRE_EQ(parse("show envelope 0123456789abcdef", &c), 0);
	ATF_CHECK_EQ(c.type, IMSG_CTL_SHOW_ENVELOPE);
	ATF_CHECK(c.evpid == 0x0123456789abcdefULL);
	ATF_CHECK_EQ(parse("show envelope 01234567", &c), -1);
	ATF_REQUIRE_EQ(parse("show message 0123456789abcdef", &c), 0);
	ATF_CHECK_EQ(c.msgid, 0x01234567U);
	ATF_REQUIRE_EQ(parse("show route a@b.org from s@t.org source "
	    "10.0.0.1 auth joe --json", &c), 0);
	ATF_CHECK_EQ(c.type, IMSG_CTL_SHOW_ROUTE);
	ATF_CHECK_EQ(c.narg, 4);
	ATF_CHECK_STREQ(c.arg[0], "a@b.org");
	ATF_CHECK_STREQ(c.arg[1], "s@t.org");
	ATF_CHECK_STREQ(c.arg[2], "10.0.0.1");
	ATF_CHECK_STREQ(c.arg[3], "joe");
	ATF_REQUIRE_EQ(parse("show route a@b.org", &c), 0);
	ATF_CHECK_STREQ(c.arg[1], "");
	ATF_CHECK_EQ(parse("show route a@b.org via x", &c), -1);
	ATF_REQUIRE_EQ(parse("schedule all", &c), 0);
	ATF_CHECK_EQ(c.type, IMSG_CTL_SCHEDULE);
	ATF_CHECK(c.evpid == 0);
	ATF_REQUIRE_EQ(parse("remove 0123456789abcdef", &c), 0);
	ATF_CHECK_EQ(c.type, IMSG_CTL_REMOVE);
	ATF_REQUIRE_EQ(parse("pause envelope all", &c), 0);
	ATF_CHECK_EQ(c.type, IMSG_CTL_PAUSE_ENVELOPE);
	ATF_REQUIRE_EQ(parse("resume mta", &c), 0);
	ATF_CHECK_EQ(c.type, IMSG_CTL_RESUME);
	ATF_CHECK_STREQ(c.arg[0], "mta");
	ATF_CHECK_EQ(parse("pause lka", &c), -1);
	ATF_REQUIRE_EQ(parse("log verbose", &c), 0);
	ATF_CHECK_EQ(c.level, 1);
	ATF_REQUIRE_EQ(parse("trace smtp", &c), 0);
	ATF_CHECK_EQ(c.type, IMSG_CTL_LOG_VERBOSE);
	ATF_CHECK_EQ(parse("trace nonsense", &c), -1);
	ATF_REQUIRE_EQ(parse("update table aliases", &c), 0);
	ATF_CHECK_STREQ(c.arg[0], "aliases");
	ATF_REQUIRE_EQ(parse("reload", &c), 0);
	ATF_CHECK_EQ(c.type, IMSG_CTL_RELOAD);
	ATF_REQUIRE_EQ(parse("monitor --json", &c), 0);
	ATF_CHECK_EQ(c.kind, CTL_MONITOR);
	ATF_REQUIRE_EQ(parse("encrypt secret", &c), 0);
	ATF_CHECK_EQ(c.kind, CTL_ENCRYPT);
	ATF_CHECK_EQ(parse("frobnicate", &c), -1);
	ATF_CHECK_EQ(parse("show", &c), -1);
}

ATF_TC_WITHOUT_HEAD(ids);
ATF_TC_BODY(ids, tc)
{
	uint64_t	 id;

	ATF_CHECK_EQ(ctl_parse_id("all", &id), 0);
	ATF_CHECK(id == 0);
	ATF_CHECK_EQ(ctl_parse_id("DEADBEEF", &id), 0);
	ATF_CHECK(id == 0xdeadbeef00000000ULL);
	ATF_CHECK_EQ(ctl_parse_id("00000000", &id), -1);
	ATF_CHECK_EQ(ctl_parse_id("xyz", &id), -1);
	ATF_CHECK_EQ(ctl_parse_id("0123456789abcdeg", &id), -1);
}

ATF_TC_WITHOUT_HEAD(conf_scan);
ATF_TC_BODY(conf_scan, tc)
{
	const char	 conf[] =
	    "# control socket \"/wrong\"\n"
	    "top = \"/tmp/t\"\n"
	    "listen on localhost port 2525\n"
	    "spool $top\n"
	    "control \\\n  socket \"/tmp/t/ctl.sock\" # comment\n"
	    "table x { a, b }\n";
	char		 sock[64] = "none", spool[64] = "none";

	ctl_conf_scan(conf, sizeof(conf) - 1, sock, sizeof(sock), spool,
	    sizeof(spool));
	ATF_CHECK_STREQ(sock, "/tmp/t/ctl.sock");
	ATF_CHECK_STREQ(spool, "/tmp/t");

	strlcpy(sock, "none", sizeof(sock));
	ctl_conf_scan("listen on localhost\n", 20, sock, sizeof(sock), spool,
	    sizeof(spool));
	ATF_CHECK_STREQ(sock, "none");
}

ATF_TC_WITHOUT_HEAD(encrypt);
ATF_TC_BODY(encrypt, tc)
{
	char		 h[256];
	const char	*p;

	ATF_REQUIRE((p = ctl_encrypt("s3cret")) != NULL);
	strlcpy(h, p, sizeof(h));
	ATF_CHECK(strncmp(h, "$6$", 3) == 0);
	ATF_CHECK(strlen(h) > 3 + 16 + 1 + 80);
	ATF_CHECK_STREQ(crypt("s3cret", h), h);
	ATF_CHECK(strcmp(crypt("wrong", h), h) != 0);
	/* a fresh salt each time */
	ATF_CHECK(strcmp(ctl_encrypt("s3cret"), h) != 0);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, commands);
	ATF_TP_ADD_TC(tp, ids);
	ATF_TP_ADD_TC(tp, conf_scan);
	ATF_TP_ADD_TC(tp, encrypt);
	return atf_no_error();
}
