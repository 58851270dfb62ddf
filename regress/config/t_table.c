/*
 * Unit tests of tables (common/table.c): file: and xmail: parsing, bad
 * lines reported as FILE:LINE with the old content kept, lookups, glob
 * semantics of routes, and CIDR matching for v4 and v6.
 */
#include <atf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

static void
write_file(const char *path, const char *content)
{
	FILE	*fp;

	ATF_REQUIRE((fp = fopen(path, "w")) != NULL);
	ATF_REQUIRE(fputs(content, fp) >= 0);
	ATF_REQUIRE(fclose(fp) == 0);
}

static struct table *
load(enum table_backend b, const char *content)
{
	struct table	*t;
	char		 err[512] = "";

	write_file("tbl", content);
	t = table_new("t", b, "tbl");
	if (table_load(t, err, sizeof(err)) == -1)
		atf_tc_fail("load failed: %s", err);
	return t;
}

static void
load_fails(enum table_backend b, const char *content, const char *want)
{
	struct table	*t;
	char		 err[512] = "";

	write_file("tbl", content);
	t = table_new("t", b, "tbl");
	table_add(t, "old", "value", NULL, 1);
	ATF_CHECK_MSG(table_load(t, err, sizeof(err)) == -1,
	    "accepted: %s", content);
	ATF_CHECK_MSG(strstr(err, want) != NULL, "\"%s\" lacks \"%s\"", err,
	    want);
	/* All or nothing: the old content stays. */
	ATF_CHECK_EQ(t->nentries, 1);
	ATF_CHECK(table_has(t, "old"));
	table_free(t);
}

static const char *
value(const struct table *t, const char *key)
{
	const struct table_entry *e = table_lookup(t, key);

	return e ? (e->value ? e->value : "(list)") : "(none)";
}

ATF_TC_WITHOUT_HEAD(file_map);
ATF_TC_BODY(file_map, tc)
{
	struct table *t;

	t = load(TABLE_FILE,
	    "# aliases(5) style and plain\n"
	    "\n"
	    "root: postmaster\n"
	    "postmaster:   alice, bob\n"
	    "abuse : alice\n"
	    "   indented\tvalue with spaces   # comment\n"
	    "domain2.com           #192.168.1.100;192.168.1.101\n"
	    "support@mail.com.cn   192.168.1.100:8025;192.168.1.101     # per-user\n");
	ATF_CHECK_EQ(t->nentries, 6);
	ATF_CHECK_STREQ(value(t, "root"), "postmaster");
	ATF_CHECK_STREQ(value(t, "POSTMASTER"), "alice, bob");
	ATF_CHECK_STREQ(value(t, "abuse"), "alice");
	ATF_CHECK_STREQ(value(t, "indented"), "value with spaces");
	ATF_CHECK_STREQ(value(t, "domain2.com"),
	    "#192.168.1.100;192.168.1.101");
	ATF_CHECK_STREQ(value(t, "support@mail.com.cn"),
	    "192.168.1.100:8025;192.168.1.101");
	ATF_CHECK_EQ(table_lookup(t, "root")->line, 3);
	ATF_CHECK_EQ(table_lookup(t, "support@mail.com.cn")->line, 8);
	ATF_CHECK_STREQ(value(t, "nobody"), "(none)");
	table_free(t);
}

ATF_TC_WITHOUT_HEAD(file_list);
ATF_TC_BODY(file_list, tc)
{
	struct table *t;

	t = load(TABLE_FILE, "example.com\nexample.net  # second\n\n");
	ATF_CHECK_EQ(t->nentries, 2);
	ATF_CHECK(table_has(t, "EXAMPLE.com"));
	ATF_CHECK(table_has(t, "example.net"));
	ATF_CHECK(!table_has(t, "example.org"));
	ATF_CHECK(table_lookup(t, "example.net")->value == NULL);
	table_free(t);
	t = load(TABLE_FILE, "");
	ATF_CHECK_EQ(t->nentries, 0);
	table_free(t);
}

ATF_TC_WITHOUT_HEAD(file_bad);
ATF_TC_BODY(file_bad, tc)
{
	load_fails(TABLE_FILE, "a b\nc\n", "tbl:2: key without a value");
	load_fails(TABLE_FILE, "a\nb c\n", "tbl:2: key with a value");
	load_fails(TABLE_FILE, "# x\nroot:\n", "tbl:2: missing value");
	load_fails(TABLE_FILE, "a b\n\na c\n", "tbl:3: duplicate key");
	load_fails(TABLE_FILE, "a b\nc d,\n", "tbl:2: value ends with ','");
	load_fails(TABLE_FILE, "a b\n: c\n", "tbl:2: empty key");
	load_fails(TABLE_FILE, "a b\nc d\ne f\ng h\ni\n", "tbl:5:");
}

ATF_TC_WITHOUT_HEAD(file_missing);
ATF_TC_BODY(file_missing, tc)
{
	struct table	*t;
	char		 err[512];

	t = table_new("t", TABLE_FILE, "/nonexistent/table");
	ATF_CHECK(table_load(t, err, sizeof(err)) == -1);
	ATF_CHECK(strstr(err, "/nonexistent/table") != NULL);
	table_free(t);
}

ATF_TC_WITHOUT_HEAD(file_reload);
ATF_TC_BODY(file_reload, tc)
{
	struct table	*t;
	char		 err[512];

	t = load(TABLE_FILE, "a b\n");
	write_file("tbl", "c d\ne f\n");
	ATF_REQUIRE(table_load(t, err, sizeof(err)) == 0);
	ATF_CHECK_EQ(t->nentries, 2);
	ATF_CHECK(!table_has(t, "a"));
	ATF_CHECK_STREQ(value(t, "e"), "f");
	table_free(t);
}

ATF_TC_WITHOUT_HEAD(xmail);
ATF_TC_BODY(xmail, tc)
{
	struct table			*t;
	const struct table_entry	*e;

	t = load(TABLE_XMAIL,
	    "# smtpfwd.tab\n"
	    "\"domain1.com\"\t\"smtp.domain.com\"\n"
	    "\"*.domain2.com\"\t\"192.168.1.100;192.168.1.101\"\t"
	    "\"NeedTLS=1,OutBind=1.2.3.4\"\n"
	    "\n"
	    "\"q\\\"uote\"\t\t\"v\"\n");
	ATF_CHECK_EQ(t->nentries, 3);
	ATF_CHECK_STREQ(value(t, "domain1.com"), "smtp.domain.com");
	e = table_lookup(t, "*.domain2.com");
	ATF_REQUIRE(e != NULL);
	ATF_CHECK_STREQ(e->value, "192.168.1.100;192.168.1.101");
	ATF_CHECK_STREQ(e->options, "NeedTLS=1,OutBind=1.2.3.4");
	ATF_CHECK_EQ(e->line, 3);
	ATF_CHECK(table_lookup(t, "domain1.com")->options == NULL);
	ATF_CHECK_STREQ(value(t, "q\"uote"), "v");
	table_free(t);
}

ATF_TC_WITHOUT_HEAD(xmail_bad);
ATF_TC_BODY(xmail_bad, tc)
{
	load_fails(TABLE_XMAIL, "\"a\"\t\"b\"\nc\t\"d\"\n",
	    "tbl:2: field 1 is not quoted");
	load_fails(TABLE_XMAIL, "\"a\"\tb\n", "tbl:1: field 2 is not quoted");
	load_fails(TABLE_XMAIL, "\"a\"\t\"b\n", "tbl:1: unterminated");
	load_fails(TABLE_XMAIL, "\"a\"\n", "tbl:1: a key without a value");
	load_fails(TABLE_XMAIL, "\"a\"\t\"b\"\t\"c\"\t\"d\"\n",
	    "tbl:1: more than three fields");
	load_fails(TABLE_XMAIL, "\"\"\t\"b\"\n", "tbl:1: empty key");
	load_fails(TABLE_XMAIL, "\"a\"x\t\"b\"\n", "tbl:1: garbage");
	load_fails(TABLE_XMAIL, "\"a\"\t\"b\"\n\"a\"\t\"c\"\n",
	    "tbl:2: duplicate key");
}

ATF_TC_WITHOUT_HEAD(glob);
ATF_TC_BODY(glob, tc)
{
	ATF_CHECK(glob_match("*.domain2.com", "a.domain2.com"));
	ATF_CHECK(glob_match("*.domain2.com", "a.b.domain2.com"));
	ATF_CHECK(!glob_match("*.domain2.com", "domain2.com"));
	ATF_CHECK(!glob_match("*.domain2.com", "xdomain2.com"));
	ATF_CHECK(glob_match("*.*", "example.com"));
	ATF_CHECK(glob_match("*.*", "a.b.c"));
	ATF_CHECK(!glob_match("*.*", "localhost"));
	ATF_CHECK(glob_match("mail?.domain3.com", "mail1.domain3.com"));
	ATF_CHECK(glob_match("mail?.domain3.com", "MAILX.Domain3.COM"));
	ATF_CHECK(!glob_match("mail?.domain3.com", "mail.domain3.com"));
	ATF_CHECK(!glob_match("mail?.domain3.com", "mail12.domain3.com"));
	ATF_CHECK(glob_match("*", ""));
	ATF_CHECK(glob_match("*", "anything.at.all"));
	ATF_CHECK(glob_match("a*", "a"));
	ATF_CHECK(glob_match("*a*b*", "xxaxxbxx"));
	ATF_CHECK(!glob_match("*a*b", "xxbxxa"));
	ATF_CHECK(glob_match("domain1.com", "DOMAIN1.com"));
	ATF_CHECK(!glob_match("domain1.com", "domain1.co"));
	ATF_CHECK(!glob_match("?", ""));
	ATF_CHECK(glob_match("??", "ab"));
}

ATF_TC_WITHOUT_HEAD(glob_order);
ATF_TC_BODY(glob_order, tc)
{
	struct table			*t;
	const struct table_entry	*e;

	t = load(TABLE_FILE,
	    "domain1.com        smtp.domain.com\n"
	    "*.domain2.com      192.168.1.100\n"
	    "mail?.domain3.com  192.168.1.100,NeedTLS=2\n"
	    "*.*                mx.domain.com\n");
	e = table_match_glob(t, "x.domain2.com");
	ATF_REQUIRE(e != NULL);
	ATF_CHECK_STREQ(e->value, "192.168.1.100");
	e = table_match_glob(t, "domain2.com");
	ATF_REQUIRE(e != NULL);
	ATF_CHECK_STREQ(e->key, "*.*");
	e = table_match_glob(t, "mail7.domain3.com");
	ATF_REQUIRE(e != NULL);
	ATF_CHECK_STREQ(e->key, "mail?.domain3.com");
	ATF_CHECK(table_match_glob(t, "localhost") == NULL);
	table_free(t);
}

ATF_TC_WITHOUT_HEAD(cidr);
ATF_TC_BODY(cidr, tc)
{
	struct table *t = table_new("t", TABLE_INLINE, NULL);

	table_add(t, "10.0.0.0/8", NULL, NULL, 0);
	table_add(t, "192.168.1.7", NULL, NULL, 0);
	table_add(t, "172.16.0.0/12", NULL, NULL, 0);
	table_add(t, "2001:db8::/32", NULL, NULL, 0);
	table_add(t, "::1", NULL, NULL, 0);
	table_add(t, "not-an-address", NULL, NULL, 0);
	ATF_CHECK(table_match_addr(t, "10.1.2.3"));
	ATF_CHECK(table_match_addr(t, "10.255.255.255"));
	ATF_CHECK(!table_match_addr(t, "11.0.0.1"));
	ATF_CHECK(table_match_addr(t, "192.168.1.7"));
	ATF_CHECK(!table_match_addr(t, "192.168.1.8"));
	ATF_CHECK(table_match_addr(t, "172.31.255.1"));
	ATF_CHECK(!table_match_addr(t, "172.32.0.1"));
	ATF_CHECK(table_match_addr(t, "2001:db8:1::5"));
	ATF_CHECK(!table_match_addr(t, "2001:db9::5"));
	ATF_CHECK(table_match_addr(t, "::1"));
	ATF_CHECK(!table_match_addr(t, "::2"));
	ATF_CHECK(table_match_addr(t, "::ffff:10.9.8.7"));
	ATF_CHECK(!table_match_addr(t, "garbage"));
	ATF_CHECK(!table_match_addr(t, "10.0.0.0/8"));
	table_free(t);

	t = table_new("t", TABLE_INLINE, NULL);
	table_add(t, "0.0.0.0/0", NULL, NULL, 0);
	ATF_CHECK(table_match_addr(t, "203.0.113.9"));
	ATF_CHECK(!table_match_addr(t, "::1"));
	table_free(t);

	ATF_CHECK(table_valid_cidr("10.0.0.0/8"));
	ATF_CHECK(table_valid_cidr("::/0"));
	ATF_CHECK(!table_valid_cidr("10.0.0.0/33"));
	ATF_CHECK(!table_valid_cidr("10.0.0.0/"));
	ATF_CHECK(!table_valid_cidr("10.0.0/8"));
	ATF_CHECK(!table_valid_cidr("::1/129"));
}

ATF_TC_WITHOUT_HEAD(large);
ATF_TC_BODY(large, tc)
{
	struct table	*t;
	FILE		*fp;
	char		 k[64], v[64];
	int		 i;

	ATF_REQUIRE((fp = fopen("tbl", "w")) != NULL);
	for (i = 0; i < 50000; i++)
		fprintf(fp, "user%d: target%d\n", i, i);
	ATF_REQUIRE(fclose(fp) == 0);
	t = table_new("t", TABLE_FILE, "tbl");
	ATF_REQUIRE(table_load(t, NULL, 0) == 0);
	ATF_CHECK_EQ(t->nentries, 50000);
	for (i = 0; i < 50000; i += 997) {
		snprintf(k, sizeof(k), "USER%d", i);
		snprintf(v, sizeof(v), "target%d", i);
		ATF_CHECK_STREQ(value(t, k), v);
		ATF_CHECK_EQ(table_lookup(t, k)->line, i + 1);
	}
	ATF_CHECK(!table_has(t, "user50000"));
	/* Entries added after the load are found too. */
	table_add(t, "late", "x", NULL, 0);
	ATF_CHECK_STREQ(value(t, "LATE"), "x");
	table_free(t);
	/* A duplicate differing only in case is still a duplicate. */
	load_fails(TABLE_FILE, "Root alice\nroot bob\n", "tbl:2: duplicate");
}

ATF_TC_WITHOUT_HEAD(inline_ops);
ATF_TC_BODY(inline_ops, tc)
{
	struct table *t = table_new("senders", TABLE_INLINE, NULL);

	table_add(t, "ceo@example.com", "relay-a", NULL, 0);
	table_add(t, "sales@example.com", "relay-b", NULL, 0);
	ATF_CHECK_STREQ(value(t, "CEO@example.com"), "relay-a");
	ATF_CHECK_EQ(t->nentries, 2);
	/* Loading an inline table is a no-op that succeeds. */
	ATF_CHECK(table_load(t, NULL, 0) == 0);
	table_clear(t);
	ATF_CHECK_EQ(t->nentries, 0);
	ATF_CHECK(!table_has(t, "ceo@example.com"));
	table_free(t);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, file_map);
	ATF_TP_ADD_TC(tp, file_list);
	ATF_TP_ADD_TC(tp, file_bad);
	ATF_TP_ADD_TC(tp, file_missing);
	ATF_TP_ADD_TC(tp, file_reload);
	ATF_TP_ADD_TC(tp, xmail);
	ATF_TP_ADD_TC(tp, xmail_bad);
	ATF_TP_ADD_TC(tp, glob);
	ATF_TP_ADD_TC(tp, glob_order);
	ATF_TP_ADD_TC(tp, cidr);
	ATF_TP_ADD_TC(tp, large);
	ATF_TP_ADD_TC(tp, inline_ops);
	return atf_no_error();
}
