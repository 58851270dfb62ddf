/*
 * Unit tests of lka's pure policy helpers: the aliases(5) value splitter
 * and DNSBL query names.
 */
#include <string.h>

#include <atf-c.h>

#include "lka/lka_policy.h"

ATF_TC_WITHOUT_HEAD(alias_split);
ATF_TC_BODY(alias_split, tc)
{
	char	 v[256], *items[8];
	size_t	 n;

	strlcpy(v, "root, bob@example.com,  \"|/usr/bin/cmd a, b\" ,"
	    "/var/mail/x,:include:/etc/list", sizeof(v));
	n = lka_alias_split(v, items, 8);
	ATF_REQUIRE_EQ(n, 5);
	ATF_CHECK_STREQ(items[0], "root");
	ATF_CHECK_STREQ(items[1], "bob@example.com");
	ATF_CHECK_STREQ(items[2], "|/usr/bin/cmd a, b");
	ATF_CHECK_STREQ(items[3], "/var/mail/x");
	ATF_CHECK_STREQ(items[4], ":include:/etc/list");
	strlcpy(v, " , ,, ", sizeof(v));
	ATF_CHECK_EQ(lka_alias_split(v, items, 8), 0);
	strlcpy(v, "a,b,c,d", sizeof(v));
	ATF_CHECK_EQ(lka_alias_split(v, items, 2), 2);
	strlcpy(v, "error:550 5.1.1 gone", sizeof(v));
	ATF_REQUIRE_EQ(lka_alias_split(v, items, 8), 1);
	ATF_CHECK_STREQ(items[0], "error:550 5.1.1 gone");
}

ATF_TC_WITHOUT_HEAD(dnsbl_name);
ATF_TC_BODY(dnsbl_name, tc)
{
	char	 out[256];

	ATF_CHECK_EQ(lka_dnsbl_name("192.0.2.1", "zen.example", out,
	    sizeof(out)), 0);
	ATF_CHECK_STREQ(out, "1.2.0.192.zen.example");
	ATF_CHECK_EQ(lka_dnsbl_name("2001:db8::1", "bl.test", out,
	    sizeof(out)), 0);
	ATF_CHECK_STREQ(out, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "8.b.d.0.1.0.0.2.bl.test");
	ATF_CHECK_EQ(lka_dnsbl_name("local", "bl.test", out, sizeof(out)),
	    -1);
	ATF_CHECK_EQ(lka_dnsbl_name("192.0.2.1", "zen.example", out, 10),
	    -1);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, alias_split);
	ATF_TP_ADD_TC(tp, dnsbl_name);
	return atf_no_error();
}
