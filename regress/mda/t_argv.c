/*
 * Unit tests of mda_argv_split: quoting, and shell metacharacters that
 * must reach the command literally.
 */
#include <stdlib.h>
#include <string.h>

#include <atf-c.h>

#include "smtpd/mda_deliver.h"

static void
splits_to(const char *cmd, const char **want)
{
	char	**argv, err[128];
	size_t	 i;

	argv = mda_argv_split(cmd, err, sizeof err);
	ATF_REQUIRE_MSG(argv != NULL, "%s: %s", cmd, err);
	for (i = 0; want[i]; i++) {
		ATF_REQUIRE_MSG(argv[i] != NULL, "%s: word %zu missing", cmd,
		    i);
		ATF_CHECK_STREQ_MSG(argv[i], want[i], "%s: word %zu", cmd, i);
	}
	ATF_CHECK_MSG(argv[i] == NULL, "%s: extra word %s", cmd, argv[i]);
	free(argv);
}

ATF_TC_WITHOUT_HEAD(words);
ATF_TC_BODY(words, tc)
{
	splits_to("/usr/bin/procmail -f -",
	    (const char *[]){ "/usr/bin/procmail", "-f", "-", NULL });
	splits_to("  cat\t\t-u  ", (const char *[]){ "cat", "-u", NULL });
	splits_to("a 'b c' \"d e\" f\\ g",
	    (const char *[]){ "a", "b c", "d e", "f g", NULL });
	splits_to("x 'it''s' \"q\\\"uote\\\\\"",
	    (const char *[]){ "x", "its", "q\"uote\\", NULL });
	splits_to("x '' y", (const char *[]){ "x", "", "y", NULL });
	splits_to("a'b'\"c\"d", (const char *[]){ "abcd", NULL });
	splits_to("'a \\n b'", (const char *[]){ "a \\n b", NULL });
}

ATF_TC_WITHOUT_HEAD(metacharacters);
ATF_TC_BODY(metacharacters, tc)
{
	splits_to("/bin/echo a;rm -rf /",
	    (const char *[]){ "/bin/echo", "a;rm", "-rf", "/", NULL });
	splits_to("cmd $(id) `id` $HOME | tee > /tmp/x && y || z & *",
	    (const char *[]){ "cmd", "$(id)", "`id`", "$HOME", "|", "tee",
	    ">", "/tmp/x", "&&", "y", "||", "z", "&", "*", NULL });
	splits_to("cmd ~ ~/x #comment",
	    (const char *[]){ "cmd", "~", "~/x", "#comment", NULL });
}

ATF_TC_WITHOUT_HEAD(errors);
ATF_TC_BODY(errors, tc)
{
	char	 err[128];

	ATF_CHECK(mda_argv_split("", err, sizeof err) == NULL);
	ATF_CHECK(mda_argv_split("   \t ", err, sizeof err) == NULL);
	ATF_CHECK(mda_argv_split("a 'b", err, sizeof err) == NULL);
	ATF_CHECK(mda_argv_split("a \"b\\\"", err, sizeof err) == NULL);
	ATF_CHECK(strstr(err, "unterminated") != NULL);
}

ATF_TC_WITHOUT_HEAD(diag_escape);
ATF_TC_BODY(diag_escape, tc)
{
	char	 out[64];

	mda_diag_escape(out, sizeof out, "bad\nthing\x01\n\n", 12, 100);
	ATF_CHECK_STREQ(out, "bad thing\\x01");
	mda_diag_escape(out, sizeof out, "0123456789", 10, 4);
	ATF_CHECK_STREQ(out, "0123");
	mda_diag_escape(out, 8, "0123456789", 10, 100);
	ATF_CHECK_STREQ(out, "0123456");
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, words);
	ATF_TP_ADD_TC(tp, metacharacters);
	ATF_TP_ADD_TC(tp, errors);
	ATF_TP_ADD_TC(tp, diag_escape);
	return atf_no_error();
}
