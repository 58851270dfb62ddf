/*
 * Unit tests of mda_expand: the variables, `~`, and hostile addresses
 * that try to escape the delivery directory.
 */
#include <string.h>

#include <atf-c.h>

#include "smtpd/mda_deliver.h"

static const struct mda_vars vars = {
	"alice", "/home/alice", "Bob.Smith@Example.ORG", "carol@example.net"
};

static void
expands_to(const struct mda_vars *v, const char *fmt, const char *want)
{
	char	 out[1024], err[128];

	ATF_REQUIRE_MSG(mda_expand(out, sizeof out, fmt, v, 1, err,
	    sizeof err) == 0, "%s: %s", fmt, err);
	ATF_CHECK_STREQ_MSG(out, want, "fmt %s", fmt);
}

static void
fails(const struct mda_vars *v, const char *fmt, int path)
{
	char	 out[1024], err[128];

	err[0] = '\0';
	ATF_CHECK_EQ_MSG(mda_expand(out, sizeof out, fmt, v, path, err,
	    sizeof err), -1, "%s expanded to %s", fmt, out);
	ATF_CHECK_MSG(err[0] != '\0', "%s: no error text", fmt);
}

ATF_TC_WITHOUT_HEAD(variables);
ATF_TC_BODY(variables, tc)
{
	expands_to(&vars, "~/Maildir", "/home/alice/Maildir");
	expands_to(&vars, "~", "/home/alice");
	expands_to(&vars, "/var/vmail/%{rcpt.domain}/%{rcpt.user}",
	    "/var/vmail/Example.ORG/Bob.Smith");
	expands_to(&vars, "/m/%{user}/%{rcpt}", "/m/alice/Bob.Smith@Example.ORG");
	expands_to(&vars, "/m/%{sender}", "/m/carol@example.net");
	expands_to(&vars, "/m/%u/%d", "/m/alice/Example.ORG");
	expands_to(&vars, "/m/100%%/x", "/m/100%/x");
	expands_to(&vars, "/no/vars/here", "/no/vars/here");
	expands_to(&vars, "/a/b~c", "/a/b~c");
}

ATF_TC_WITHOUT_HEAD(bad_formats);
ATF_TC_BODY(bad_formats, tc)
{
	struct mda_vars	 nohome = vars;
	char		 out[16], err[128];

	fails(&vars, "/m/%{nosuch}", 1);
	fails(&vars, "/m/%{user", 1);
	fails(&vars, "/m/%x", 1);
	fails(&vars, "/m/%", 1);
	fails(&vars, "~bob/Maildir", 1);
	nohome.home = "";
	fails(&nohome, "~/Maildir", 1);
	/* Too long for the output buffer. */
	ATF_CHECK_EQ(mda_expand(out, sizeof out, "/a/very/long/path/indeed",
	    &vars, 1, err, sizeof err), -1);
	/* A literal ".." component written by the admin is refused too. */
	fails(&vars, "/var/../etc", 1);
}

ATF_TC_WITHOUT_HEAD(hostile_addresses);
ATF_TC_BODY(hostile_addresses, tc)
{
	struct mda_vars	 v = vars;

	v.rcpt = "../../etc/passwd@example.org";
	expands_to(&v, "/var/vmail/%{rcpt.domain}/%{rcpt.user}",
	    "/var/vmail/example.org/_._.._etc_passwd");
	v.rcpt = "..@..";
	expands_to(&v, "/var/vmail/%{rcpt.domain}/%{rcpt.user}",
	    "/var/vmail/_./_.");
	v.rcpt = ".@.";
	expands_to(&v, "/v/%{rcpt.domain}/%{rcpt.user}", "/v/_/_");
	/* A literal dot next to a value cannot make "..". */
	expands_to(&v, "/v/.%{rcpt.user}", "/v/._");
	expands_to(&v, "/v/%{rcpt.user}.", "/v/_.");
	v.rcpt = "a/b@x/y";
	expands_to(&v, "/v/%{rcpt}", "/v/a_b@x_y");
	v.rcpt = "a\nb\x01@x";
	expands_to(&v, "/v/%{rcpt.user}", "/v/a_b_");
	v.sender = "/../../root";
	expands_to(&v, "/v/%{sender}", "/v/_.._.._root");
	/* Empty values do not collapse path components. */
	v.rcpt = "@example.org";
	fails(&v, "/v/%{rcpt.user}/x", 1);
	v.rcpt = "user@";
	fails(&v, "/v/%{rcpt.domain}/x", 1);
	v.rcpt = "nodomain";
	fails(&v, "/v/%{rcpt.domain}/x", 1);
	/* No path check for command words, but values are still safe. */
	v.sender = "";
	{
		char	 out[64], err[64];

		ATF_CHECK_EQ(mda_expand(out, sizeof out, "-f%{sender}", &v, 0,
		    err, sizeof err), 0);
		ATF_CHECK_STREQ(out, "-f");
	}
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, variables);
	ATF_TP_ADD_TC(tp, bad_formats);
	ATF_TP_ADD_TC(tp, hostile_addresses);
	return atf_no_error();
}
