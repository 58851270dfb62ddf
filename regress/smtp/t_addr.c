/*
 * Unit tests of the RFC 5321 address parser and xtext decoder
 * (common/addr.c).
 */
#include <string.h>

#include <atf-c.h>

#include "addr.h"

static int
mb(const char *s, int flags, struct mailaddr *ma)
{
	return addr_parse_mailbox(s, strlen(s), flags, ma);
}

static int
path(const char *s, int flags, struct mailaddr *ma)
{
	return addr_parse_path(s, strlen(s), flags, 1, 1, ma);
}

ATF_TC_WITHOUT_HEAD(dot_atom);
ATF_TC_BODY(dot_atom, tc)
{
	struct mailaddr	 ma;

	ATF_CHECK_EQ(mb("user@example.com", 0, &ma), ADDR_OK);
	ATF_CHECK_STREQ(ma.local, "user");
	ATF_CHECK_STREQ(ma.domain, "example.com");
	ATF_CHECK_EQ(mb("a.b+c_d!#$%&'*/=?^`{|}~-@x-y.z", 0, &ma), ADDR_OK);
	ATF_CHECK_EQ(mb("a..b@x", 0, &ma), ADDR_ESYNTAX);
	ATF_CHECK_EQ(mb(".a@x", 0, &ma), ADDR_ESYNTAX);
	ATF_CHECK_EQ(mb("a.@x", 0, &ma), ADDR_ESYNTAX);
	ATF_CHECK_EQ(mb("@x", 0, &ma), ADDR_ESYNTAX);
	ATF_CHECK_EQ(mb("a@", 0, &ma), ADDR_ESYNTAX);
	ATF_CHECK_EQ(mb("a", 0, &ma), ADDR_ESYNTAX);
	ATF_CHECK_EQ(mb("a b@x", 0, &ma), ADDR_ESYNTAX);
	ATF_CHECK_EQ(mb("a(b)@x", 0, &ma), ADDR_ESYNTAX);
}

ATF_TC_WITHOUT_HEAD(domains);
ATF_TC_BODY(domains, tc)
{
	struct mailaddr	 ma;

	ATF_CHECK_EQ(mb("u@example.com.", 0, &ma), ADDR_ESYNTAX);
	ATF_CHECK_EQ(mb("u@-example.com", 0, &ma), ADDR_ESYNTAX);
	ATF_CHECK_EQ(mb("u@example-.com", 0, &ma), ADDR_ESYNTAX);
	ATF_CHECK_EQ(mb("u@ex..com", 0, &ma), ADDR_ESYNTAX);
	ATF_CHECK_EQ(mb("u@ex_ample.com", 0, &ma), ADDR_ESYNTAX);
	ATF_CHECK_EQ(mb("u@localhost", 0, &ma), ADDR_OK);
	ATF_CHECK_EQ(mb("u@1.2.3.4", 0, &ma), ADDR_OK);	/* a name */
	ATF_CHECK_EQ(mb("u@other.example@us.example", 0, &ma), ADDR_ESYNTAX);
	ATF_CHECK_EQ(mb("u@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
	    0, &ma), ADDR_ELENGTH);
}

ATF_TC_WITHOUT_HEAD(literals);
ATF_TC_BODY(literals, tc)
{
	struct mailaddr	 ma;

	ATF_CHECK_EQ(mb("u@[192.0.2.1]", 0, &ma), ADDR_OK);
	ATF_CHECK_STREQ(ma.domain, "[192.0.2.1]");
	ATF_CHECK_EQ(ma.domain_literal, 1);
	ATF_CHECK_EQ(mb("u@[IPv6:::1]", 0, &ma), ADDR_OK);
	ATF_CHECK_EQ(mb("u@[ipv6:2001:db8::1]", 0, &ma), ADDR_OK);
	ATF_CHECK_EQ(mb("u@[192.0.2.256]", 0, &ma), ADDR_ESYNTAX);
	ATF_CHECK_EQ(mb("u@[::1]", 0, &ma), ADDR_ESYNTAX);
	ATF_CHECK_EQ(mb("u@[x:y]", 0, &ma), ADDR_ESYNTAX);
	ATF_CHECK_EQ(mb("u@[1.2.3.4", 0, &ma), ADDR_ESYNTAX);
	ATF_CHECK_EQ(mb("u@[1.2.3.4]x", 0, &ma), ADDR_ESYNTAX);
}

ATF_TC_WITHOUT_HEAD(quoted);
ATF_TC_BODY(quoted, tc)
{
	struct mailaddr	 ma;

	ATF_CHECK_EQ(mb("\"john doe\"@x", 0, &ma), ADDR_OK);
	ATF_CHECK_STREQ(ma.local, "\"john doe\"");
	ATF_CHECK_EQ(mb("\"a\\\"b\"@x", 0, &ma), ADDR_OK);
	ATF_CHECK_EQ(mb("\"user@other.example\"@x", 0, &ma), ADDR_OK);
	ATF_CHECK_EQ(mb("\"unterminated@x", 0, &ma), ADDR_ESYNTAX);
	ATF_CHECK_EQ(mb("\"a\rb\"@x", 0, &ma), ADDR_ESYNTAX);
	ATF_CHECK_EQ(mb("\"a\"b@x", 0, &ma), ADDR_ESYNTAX);
}

ATF_TC_WITHOUT_HEAD(utf8);
ATF_TC_BODY(utf8, tc)
{
	struct mailaddr	 ma;

	ATF_CHECK_EQ(mb("j\xc3\xb6rg@example.com", 0, &ma), ADDR_E8BIT);
	ATF_CHECK_EQ(mb("j\xc3\xb6rg@example.com", ADDR_UTF8, &ma), ADDR_OK);
	ATF_CHECK_EQ(ma.utf8, 1);
	ATF_CHECK_EQ(mb("u@b\xc3\xbc" "cher.example", ADDR_UTF8, &ma),
	    ADDR_OK);
	ATF_CHECK_EQ(mb("j\xc3rg@example.com", ADDR_UTF8, &ma), ADDR_ESYNTAX);
	ATF_CHECK_EQ(mb("j\xc0\xafrg@example.com", ADDR_UTF8, &ma),
	    ADDR_ESYNTAX);	/* overlong */
	ATF_CHECK_EQ(mb("j\xed\xa0\x80@example.com", ADDR_UTF8, &ma),
	    ADDR_ESYNTAX);	/* surrogate */
	ATF_CHECK_EQ(addr_utf8_valid("\xf0\x9f\x98\x80", 4), 1);
	ATF_CHECK_EQ(addr_utf8_valid("\xf0\x9f\x98", 3), 0);
}

ATF_TC_WITHOUT_HEAD(lengths);
ATF_TC_BODY(lengths, tc)
{
	struct mailaddr	 ma;
	char		 buf[600];

	memset(buf, 'a', 64);
	strcpy(buf + 64, "@x");
	ATF_CHECK_EQ(mb(buf, 0, &ma), ADDR_OK);
	memset(buf, 'a', 65);
	strcpy(buf + 65, "@x");
	ATF_CHECK_EQ(mb(buf, 0, &ma), ADDR_ELENGTH);
	buf[0] = '<';
	memset(buf + 1, 'a', 300);
	strcpy(buf + 301, "@x>");
	ATF_CHECK(path(buf, 0, &ma) != ADDR_OK);
}

ATF_TC_WITHOUT_HEAD(paths);
ATF_TC_BODY(paths, tc)
{
	struct mailaddr	 ma;
	char		 out[600];

	ATF_CHECK_EQ(path("<>", 0, &ma), ADDR_OK);
	ATF_CHECK_STREQ(ma.local, "");
	ATF_CHECK_EQ(addr_format(&ma, out, sizeof(out)), 0);
	ATF_CHECK_STREQ(out, "");
	ATF_CHECK_EQ(addr_parse_path("<>", 2, 0, 0, 0, &ma), ADDR_ESYNTAX);
	ATF_CHECK_EQ(path("<Postmaster>", 0, &ma), ADDR_OK);
	ATF_CHECK_STREQ(ma.local, "Postmaster");
	ATF_CHECK_EQ(addr_parse_path("<postmaster>", 12, 0, 0, 0, &ma),
	    ADDR_ESYNTAX);
	ATF_CHECK_EQ(path("<a@b.c>", 0, &ma), ADDR_OK);
	ATF_CHECK_EQ(addr_format(&ma, out, sizeof(out)), 0);
	ATF_CHECK_STREQ(out, "a@b.c");
	ATF_CHECK_EQ(addr_format(&ma, out, 3), -1);
	/* source routes are accepted and dropped */
	ATF_CHECK_EQ(path("<@us.example:user@other.example>", 0, &ma),
	    ADDR_OK);
	ATF_CHECK_STREQ(ma.local, "user");
	ATF_CHECK_STREQ(ma.domain, "other.example");
	ATF_CHECK_EQ(path("<@a,@b:u@c>", 0, &ma), ADDR_OK);
	ATF_CHECK_EQ(path("<@a,b:u@c>", 0, &ma), ADDR_ESYNTAX);
	ATF_CHECK_EQ(path("<@a:>", 0, &ma), ADDR_ESYNTAX);
	ATF_CHECK_EQ(path("a@b", 0, &ma), ADDR_ESYNTAX);
	ATF_CHECK_EQ(path("<a@b", 0, &ma), ADDR_ESYNTAX);
	ATF_CHECK_EQ(path("<a@b>>", 0, &ma), ADDR_ESYNTAX);
	ATF_CHECK_EQ(path("<\"a>b\"@c>", 0, &ma), ADDR_OK);
	ATF_CHECK_EQ(path("<u\xc3\xa9@c>", 0, &ma), ADDR_E8BIT);
	ATF_CHECK_EQ(path("<u\xc3\xa9@c>", ADDR_UTF8, &ma), ADDR_OK);
	/* open-relay tricks parse as local parts or fail */
	ATF_CHECK_EQ(path("<user%other.example@us>", 0, &ma), ADDR_OK);
	ATF_CHECK_STREQ(ma.domain, "us");
	ATF_CHECK_EQ(path("<other.example!user@us>", 0, &ma), ADDR_OK);
	ATF_CHECK_STREQ(ma.domain, "us");
	ATF_CHECK_EQ(path("<user@us.>", 0, &ma), ADDR_ESYNTAX);
}

ATF_TC_WITHOUT_HEAD(xtext);
ATF_TC_BODY(xtext, tc)
{
	char	 out[64];

	ATF_CHECK_EQ(addr_xtext_decode("abc", 3, out, sizeof(out)), 3);
	ATF_CHECK_STREQ(out, "abc");
	ATF_CHECK_EQ(addr_xtext_decode("a+2Bb", 5, out, sizeof(out)), 3);
	ATF_CHECK_STREQ(out, "a+b");
	ATF_CHECK_EQ(addr_xtext_decode("rfc822;a+40b", 12, out, sizeof(out)),
	    10);
	ATF_CHECK_STREQ(out, "rfc822;a@b");
	ATF_CHECK_EQ(addr_xtext_decode("a+0Db", 5, out, sizeof(out)), -2);
	ATF_CHECK_EQ(addr_xtext_decode("a+0A", 4, out, sizeof(out)), -2);
	ATF_CHECK_EQ(addr_xtext_decode("a+00", 4, out, sizeof(out)), -2);
	ATF_CHECK_EQ(addr_xtext_decode("a+0", 3, out, sizeof(out)), -1);
	ATF_CHECK_EQ(addr_xtext_decode("a+", 2, out, sizeof(out)), -1);
	ATF_CHECK_EQ(addr_xtext_decode("a+zz", 4, out, sizeof(out)), -1);
	ATF_CHECK_EQ(addr_xtext_decode("a=b", 3, out, sizeof(out)), -1);
	ATF_CHECK_EQ(addr_xtext_decode("abcdef", 6, out, 4), -1);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, dot_atom);
	ATF_TP_ADD_TC(tp, domains);
	ATF_TP_ADD_TC(tp, literals);
	ATF_TP_ADD_TC(tp, quoted);
	ATF_TP_ADD_TC(tp, utf8);
	ATF_TP_ADD_TC(tp, lengths);
	ATF_TP_ADD_TC(tp, paths);
	ATF_TP_ADD_TC(tp, xtext);
	return atf_no_error();
}
