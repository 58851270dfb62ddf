/*
 * Unit tests of the envelope text form (common/envelope.c): round trip,
 * escaping of hostile values, rejection of corrupt input, ids.
 */
#include <atf-c.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "envelope.h"

static void
fill(struct envelope *e)
{
	memset(e, 0, sizeof(*e));
	e->id = 0x1234abcd00000007ULL;
	e->type = ENV_MDA;
	strlcpy(e->action, "local", sizeof(e->action));
	strlcpy(e->sender, "alice@example.org", sizeof(e->sender));
	strlcpy(e->rcpt, "bob@example.net", sizeof(e->rcpt));
	strlcpy(e->orig_rcpt, "Bob@Example.NET", sizeof(e->orig_rcpt));
	strlcpy(e->user, "bob", sizeof(e->user));
	strlcpy(e->helo, "client.example", sizeof(e->helo));
	strlcpy(e->client_addr, "127.0.0.1", sizeof(e->client_addr));
	e->flags = EF_8BITMIME | EF_AUTHENTICATED;
	e->dsn_notify = DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY;
	e->dsn_ret = DSN_RET_HDRS;
	strlcpy(e->dsn_envid, "QQ314159", sizeof(e->dsn_envid));
	strlcpy(e->dsn_orcpt, "rfc822;bob@example.net", sizeof(e->dsn_orcpt));
	e->size = 123456789012ULL;
	e->creation = 1700000000;
	e->lasttry = 1700000100;
	e->nexttry = 1700000400;
	e->lastwarn = 0;
	e->retries = 3;
	strlcpy(e->errorline, "421 4.7.0 try\r\nagain \\ later\x01",
	    sizeof(e->errorline));
	strlcpy(e->lasthop, "192.0.2.1:25", sizeof(e->lasthop));
}

static int
load_str(struct envelope *e, const char *s)
{
	char	 err[128];

	return envelope_load(e, s, strlen(s), err, sizeof(err));
}

ATF_TC_WITHOUT_HEAD(roundtrip);
ATF_TC_BODY(roundtrip, tc)
{
	struct envelope	 a, b;
	struct buf	 out;
	char		 err[128];

	fill(&a);
	buf_init(&out);
	envelope_dump(&a, &out);
	ATF_REQUIRE(strncmp(buf_cstr(&out), "version: 1\n", 11) == 0);
	ATF_REQUIRE_EQ_MSG(envelope_load(&b, out.data, out.len, err,
	    sizeof(err)), 0, "%s", err);
	ATF_CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	ATF_CHECK_STREQ(a.errorline, b.errorline);
	ATF_CHECK_EQ(b.size, 123456789012ULL);
	ATF_CHECK_EQ(b.id, 0x1234abcd00000007ULL);
	buf_free(&out);
}

ATF_TC_WITHOUT_HEAD(escaping);
ATF_TC_BODY(escaping, tc)
{
	struct envelope	 a, b;
	struct buf	 out;
	size_t		 i, lines = 0;

	fill(&a);
	strlcpy(a.sender, "evil\r\nrcpt: x@y", sizeof(a.sender));
	buf_init(&out);
	envelope_dump(&a, &out);
	for (i = 0; i < out.len; i++) {
		ATF_CHECK(out.data[i] != '\r');
		if (out.data[i] == '\n')
			lines++;
	}
	ATF_CHECK_EQ(lines, 25);
	ATF_REQUIRE_EQ(envelope_load(&b, out.data, out.len, NULL, 0), 0);
	ATF_CHECK_STREQ(b.sender, "evil\r\nrcpt: x@y");
	ATF_CHECK_STREQ(b.rcpt, "bob@example.net");
	buf_free(&out);
}

static const char *minimal =
    "version: 1\nid: 0000000000000000\ntype: mta\naction: relay\n"
    "sender: \nrcpt: a@b\n";

ATF_TC_WITHOUT_HEAD(minimal_ok);
ATF_TC_BODY(minimal_ok, tc)
{
	struct envelope	 e;

	ATF_REQUIRE_EQ(load_str(&e, minimal), 0);
	ATF_CHECK_STREQ(e.sender, "");
	ATF_CHECK_STREQ(e.rcpt, "a@b");
	ATF_CHECK_EQ(e.type, ENV_MTA);
	ATF_CHECK_EQ(e.retries, 0);
}

ATF_TC_WITHOUT_HEAD(corrupt);
ATF_TC_BODY(corrupt, tc)
{
	struct envelope	 e;
	char		 err[128];
	const char	*bad[] = {
		"",
		"garbage",
		"version: 2\nid: 0000000000000000\ntype: mta\naction: r\n"
		    "sender: \nrcpt: a@b\n",
		/* missing rcpt */
		"version: 1\nid: 0000000000000000\ntype: mta\naction: r\n"
		    "sender: \n",
		/* unknown key */
		"version: 1\nid: 0000000000000000\ntype: mta\naction: r\n"
		    "sender: \nrcpt: a@b\ncolor: blue\n",
		/* duplicate key */
		"version: 1\nid: 0000000000000000\ntype: mta\naction: r\n"
		    "sender: \nrcpt: a@b\nrcpt: c@d\n",
		/* bad numbers */
		"version: 1\nid: 0000000000000000\ntype: mta\naction: r\n"
		    "sender: \nrcpt: a@b\nretries: -1\n",
		"version: 1\nid: 0000000000000000\ntype: mta\naction: r\n"
		    "sender: \nrcpt: a@b\nretries: 99999999999\n",
		"version: 1\nid: 0000000000000000\ntype: mta\naction: r\n"
		    "sender: \nrcpt: a@b\nsize: 12x\n",
		"version: 1\nid: 0000000000000000\ntype: mta\naction: r\n"
		    "sender: \nrcpt: a@b\nsize: \n",
		/* bad id, type, escape, raw control char */
		"version: 1\nid: 00000000000000zz\ntype: mta\naction: r\n"
		    "sender: \nrcpt: a@b\n",
		"version: 1\nid: 0000000000000000\ntype: ufo\naction: r\n"
		    "sender: \nrcpt: a@b\n",
		"version: 1\nid: 0000000000000000\ntype: mta\naction: r\n"
		    "sender: \\q\nrcpt: a@b\n",
		"version: 1\nid: 0000000000000000\ntype: mta\naction: r\n"
		    "sender: \\x0\nrcpt: a@b\n",
		"version: 1\nid: 0000000000000000\ntype: mta\naction: r\n"
		    "sender: \\x00\nrcpt: a@b\n",
		"version: 1\nid: 0000000000000000\ntype: mta\naction: r\n"
		    "sender: a\rb\nrcpt: a@b\n",
		/* version not first */
		"id: 0000000000000000\nversion: 1\ntype: mta\naction: r\n"
		    "sender: \nrcpt: a@b\n",
		/* no ": " */
		"version: 1\nid: 0000000000000000\ntype: mta\naction:r\n"
		    "sender: \nrcpt: a@b\n",
	};
	size_t		 i;
	char		 big[2048];

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ATF_CHECK_EQ_MSG(envelope_load(&e, bad[i], strlen(bad[i]),
		    err, sizeof(err)), -1, "case %zu accepted", i);
		ATF_CHECK_MSG(i == 0 || err[0] != '\0' || i == 0,
		    "case %zu: no error text", i);
	}
	/* value longer than the field */
	snprintf(big, sizeof(big), "version: 1\nid: 0000000000000000\n"
	    "type: mta\naction: %0100d\nsender: \nrcpt: a@b\n", 0);
	ATF_CHECK_EQ(load_str(&e, big), -1);
	/* truncation of a valid dump must not load */
	{
		struct envelope	 a;
		struct buf	 out;

		fill(&a);
		buf_init(&out);
		envelope_dump(&a, &out);
		ATF_CHECK_EQ(envelope_load(&e, out.data, 40, NULL, 0), -1);
		buf_free(&out);
	}
}

ATF_TC_WITHOUT_HEAD(ids);
ATF_TC_BODY(ids, tc)
{
	char		 b[17];
	uint64_t	 id;

	ATF_CHECK_STREQ(evpid_str(0x9c1e0d2a00000001ULL, b),
	    "9c1e0d2a00000001");
	ATF_CHECK_EQ(evpid_to_msgid(0x9c1e0d2a00000001ULL), 0x9c1e0d2aU);
	ATF_CHECK_EQ(msgid_to_evpid(0x9c1e0d2aU), 0x9c1e0d2a00000000ULL);
	ATF_REQUIRE_EQ(evpid_parse("9C1E0D2A00000001", &id), 0);
	ATF_CHECK_EQ(id, 0x9c1e0d2a00000001ULL);
	ATF_CHECK_EQ(evpid_parse("9c1e0d2a0000001", &id), -1);
	ATF_CHECK_EQ(evpid_parse("9c1e0d2a000000011", &id), -1);
	ATF_CHECK_EQ(evpid_parse("9c1e0d2a0000000g", &id), -1);
	ATF_CHECK_EQ(evpid_parse("", &id), -1);
	ATF_CHECK_STREQ(evpid_str(0, b), "0000000000000000");
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, roundtrip);
	ATF_TP_ADD_TC(tp, escaping);
	ATF_TP_ADD_TC(tp, minimal_ok);
	ATF_TP_ADD_TC(tp, corrupt);
	ATF_TP_ADD_TC(tp, ids);
	return atf_no_error();
}
