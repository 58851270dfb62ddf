/*
 * Macros, continuation lines, quoting and comments, through config files
 * parsed with config_parse(): `name = value`, $name anywhere a value is
 * expected (whole word, inside a word, or holding a { list }), -D
 * (config_define) winning over the file, and undefined macros refused.
 */
#include <atf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static void
write_file(const char *path, const char *content)
{
	FILE	*fp;

	ATF_REQUIRE((fp = fopen(path, "w")) != NULL);
	ATF_REQUIRE(fputs(content, fp) >= 0);
	ATF_REQUIRE(fclose(fp) == 0);
}

/* Parse content; stderr goes to "stderr.txt", copied into err. */
static struct smtpd_config *
parse(const char *content, char *err, size_t errlen)
{
	struct smtpd_config	*c;
	FILE			*fp;
	size_t			 n;
	int			 saved;

	write_file("smtpd.conf", content);
	fflush(stderr);
	saved = dup(2);
	ATF_REQUIRE(freopen("stderr.txt", "w", stderr) != NULL);
	c = config_parse("smtpd.conf");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	err[0] = '\0';
	if ((fp = fopen("stderr.txt", "r")) != NULL) {
		n = fread(err, 1, errlen - 1, fp);
		err[n] = '\0';
		/* One line, for kyua's report. */
		for (char *p = err; *p != '\0'; p++)
			if (*p == '\n')
				*p = '|';
		fclose(fp);
	}
	return c;
}

static struct smtpd_config *
parse_ok(const char *content)
{
	struct smtpd_config	*c;
	char			 err[4096];

	if ((c = parse(content, err, sizeof(err))) == NULL)
		atf_tc_fail("refused: %s", err);
	return c;
}

static void
parse_bad(const char *content, const char *want)
{
	struct smtpd_config	*c;
	char			 err[4096];

	c = parse(content, err, sizeof(err));
	ATF_CHECK_MSG(c == NULL, "accepted: %s", content);
	config_free(c);
	ATF_CHECK_MSG(strstr(err, want) != NULL, "\"%s\" lacks \"%s\"", err,
	    want);
}

ATF_TC_WITHOUT_HEAD(simple);
ATF_TC_BODY(simple, tc)
{
	struct smtpd_config	*c;
	struct action		*a;

	c = parse_ok("lan = \"192.168.10.1\"\n"
	    "name=mx.example.org\n"
	    "action \"gw\" relay host $name src $lan helo $name\n");
	a = config_action(c, "gw");
	ATF_REQUIRE(a != NULL);
	ATF_CHECK_STREQ(a->src, "192.168.10.1");
	ATF_CHECK_STREQ(a->helo, "mx.example.org");
	ATF_REQUIRE_EQ(a->hosts.nhops, 1);
	ATF_CHECK_STREQ(a->hosts.hops[0].host, "mx.example.org");
	config_free(c);
}

ATF_TC_WITHOUT_HEAD(inside_word);
ATF_TC_BODY(inside_word, tc)
{
	struct smtpd_config	*c;
	struct action		*a;

	c = parse_ok("gw = 10.1.1.1\np = 2525\n"
	    "action \"gw\" relay host smtp+tls://$gw:$p\n");
	a = config_action(c, "gw");
	ATF_REQUIRE(a != NULL && a->hosts.nhops == 1);
	ATF_CHECK_STREQ(a->hosts.hops[0].host, "10.1.1.1");
	ATF_CHECK_EQ(a->hosts.hops[0].port, 2525);
	ATF_CHECK_EQ(a->hosts.hops[0].tls, RELAY_TLS_REQUIRE);
	config_free(c);
}

ATF_TC_WITHOUT_HEAD(list_macro);
ATF_TC_BODY(list_macro, tc)
{
	struct smtpd_config	*c;
	struct action		*a;
	struct rule		*r;

	c = parse_ok("hops = \"{ a.example, b.example:26 }\"\n"
	    "nets = \"{ 10.0.0.0/8, ::1 }\"\n"
	    "action \"gw\" relay host $hops\n"
	    "match from src $nets for any action \"gw\"\n");
	a = config_action(c, "gw");
	ATF_REQUIRE(a != NULL);
	ATF_REQUIRE_EQ(a->hosts.nhops, 2);
	ATF_CHECK_STREQ(a->hosts.hops[1].host, "b.example");
	ATF_CHECK_EQ(a->hosts.hops[1].port, 26);
	r = TAILQ_FIRST(&c->rules);
	ATF_REQUIRE(r != NULL && r->from_table != NULL);
	ATF_CHECK(table_match_addr(r->from_table, "10.2.3.4"));
	ATF_CHECK(table_match_addr(r->from_table, "::1"));
	config_free(c);
}

ATF_TC_WITHOUT_HEAD(spaces_in_value);
ATF_TC_BODY(spaces_in_value, tc)
{
	struct smtpd_config *c;

	c = parse_ok("msg = \"Access denied, go away\"\n"
	    "smtp ban { 192.0.2.1 } message $msg\n");
	ATF_REQUIRE(c->ban_message != NULL);
	ATF_CHECK_STREQ(c->ban_message, "Access denied, go away");
	config_free(c);
}

ATF_TC_WITHOUT_HEAD(define_wins);
ATF_TC_BODY(define_wins, tc)
{
	struct smtpd_config *c;

	ATF_REQUIRE(config_define("host=cli.example") == 0);
	c = parse_ok("host = file.example\nhostname $host\n");
	ATF_CHECK_STREQ(c->hostname, "cli.example");
	config_free(c);
	/* -D macros stay for the next parse (reload). */
	c = parse_ok("hostname $host\n");
	ATF_CHECK_STREQ(c->hostname, "cli.example");
	config_free(c);
	ATF_CHECK(config_define("noequals") == -1);
	ATF_CHECK(config_define("=value") == -1);
	ATF_CHECK(config_define("bad-name=1") == -1);
}

ATF_TC_WITHOUT_HEAD(no_leak);
ATF_TC_BODY(no_leak, tc)
{
	struct smtpd_config *c;

	c = parse_ok("h = one.example\nhostname $h\n");
	ATF_CHECK_STREQ(c->hostname, "one.example");
	config_free(c);
	/* A file's macros do not survive into the next parse. */
	parse_bad("hostname $h\n", "smtpd.conf:1: macro \"h\" not defined");
}

ATF_TC_WITHOUT_HEAD(undefined);
ATF_TC_BODY(undefined, tc)
{
	parse_bad("\n\nhostname $nope\n",
	    "smtpd.conf:3: macro \"nope\" not defined");
	parse_bad("hostname $\n", "smtpd.conf:1: '$' without a macro name");
	parse_bad("1x = foo\n", "smtpd.conf:1: invalid macro name");
	/* Inside quotes, $ is literal. */
	{
		struct smtpd_config *c = parse_ok("hostname \"$literal\"\n");

		ATF_CHECK_STREQ(c->hostname, "$literal");
		config_free(c);
	}
}

ATF_TC_WITHOUT_HEAD(redefine);
ATF_TC_BODY(redefine, tc)
{
	struct smtpd_config *c;

	c = parse_ok("h = a.example\nh = b.example\nhostname $h\n");
	ATF_CHECK_STREQ(c->hostname, "b.example");
	config_free(c);
}

ATF_TC_WITHOUT_HEAD(continuation);
ATF_TC_BODY(continuation, tc)
{
	struct smtpd_config	*c;
	struct action		*a;
	struct rule		*r;

	c = parse_ok("# comment line\n"
	    "action \"gw\" relay \\\n"
	    "    host { a.example, # first\n"
	    "           b.example } \\\n"
	    "    tls require   # trailing comment\n"
	    "match from any \\\n"
	    "    for any action \"gw\"\n");
	a = config_action(c, "gw");
	ATF_REQUIRE(a != NULL);
	ATF_CHECK_EQ(a->hosts.nhops, 2);
	ATF_CHECK_EQ(a->tls, RELAY_TLS_REQUIRE);
	ATF_CHECK_EQ(a->line, 2);
	r = TAILQ_FIRST(&c->rules);
	ATF_REQUIRE(r != NULL);
	ATF_CHECK_EQ(r->line, 6);
	config_free(c);
	/* An error after a continuation names its own line. */
	parse_bad("action \"gw\" relay \\\n  src nowhere\n",
	    "smtpd.conf:2: src \"nowhere\" is not an address");
}

ATF_TC_WITHOUT_HEAD(quoting);
ATF_TC_BODY(quoting, tc)
{
	struct smtpd_config	*c;
	struct action		*a;

	c = parse_ok("action 'm' mda \"/usr/bin/procmail -f \\\"x\\\" -\"\n"
	    "action \"relay\" maildir \"/var/mail/%{rcpt.user}\"\n");
	a = config_action(c, "m");
	ATF_REQUIRE(a != NULL);
	ATF_CHECK_STREQ(a->path, "/usr/bin/procmail -f \"x\" -");
	/* A keyword quoted is a plain string. */
	a = config_action(c, "relay");
	ATF_REQUIRE(a != NULL);
	ATF_CHECK_EQ(a->method, A_MAILDIR);
	config_free(c);
	parse_bad("hostname \"open\n", "smtpd.conf:1: unterminated quoted");
}

ATF_TC_WITHOUT_HEAD(crlf);
ATF_TC_BODY(crlf, tc)
{
	struct smtpd_config	*c;
	struct action		*a;

	/* A file saved with CRLF line ends reads the same. */
	c = parse_ok("gw = 10.0.0.1\r\n"
	    "action \"gw\" relay host $gw \\\r\n"
	    "    tls no\r\n"
	    "match from local for any action \"gw\"\r\n");
	a = config_action(c, "gw");
	ATF_REQUIRE(a != NULL && a->hosts.nhops == 1);
	ATF_CHECK_STREQ(a->hosts.hops[0].host, "10.0.0.1");
	ATF_CHECK_EQ(a->tls, RELAY_TLS_NO);
	ATF_CHECK_EQ(TAILQ_FIRST(&c->rules)->line, 4);
	config_free(c);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, simple);
	ATF_TP_ADD_TC(tp, inside_word);
	ATF_TP_ADD_TC(tp, list_macro);
	ATF_TP_ADD_TC(tp, spaces_in_value);
	ATF_TP_ADD_TC(tp, define_wins);
	ATF_TP_ADD_TC(tp, no_leak);
	ATF_TP_ADD_TC(tp, undefined);
	ATF_TP_ADD_TC(tp, redefine);
	ATF_TP_ADD_TC(tp, continuation);
	ATF_TP_ADD_TC(tp, quoting);
	ATF_TP_ADD_TC(tp, crlf);
	return atf_no_error();
}
