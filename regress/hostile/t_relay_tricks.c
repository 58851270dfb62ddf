/*
 * Open-relay tricks (issue 4) against a config that relays for local
 * clients only: parsed as smtp does (addr_parse_path, addr_format) and
 * expanded by lka for a remote client; none may give a relay envelope.
 */
#include <stdio.h>
#include <string.h>

#include <atf-c.h>

#include "addr.h"
#include "config.h"
#include "lka/lka_policy.h"

static const char conf[] =
    "hostname mx.test\n"
    "table al { \"postmaster\" = \"root\" }\n"
    "action \"local\" maildir \"/nonexistent/%{rcpt.user}\" alias <al> "
    "user nobody\n"
    "action \"relay\" relay\n"
    "match from any for domain \"example.com\" action \"local\"\n"
    "match from local for any action \"relay\"\n";

static const char *tricks[] = {
	"<user%other.example@example.com>",
	"<@example.com:user@other.example>",
	"<@example.com,@other.example:user@other.example>",
	"<\"user@other.example\"@example.com>",
	"<\"user@other.example\"@EXAMPLE.COM>",
	"<other.example!user@example.com>",
	"<user@other.example@example.com>",
	"<user@example.com.>",
	"<user@other.example.>",
	"<user@[192.0.2.1]>",
	"<user@[127.0.0.1]>",
	"<user@[IPv6:::1]>",
	"<user@other.example>",
	"<user@example.com.other.example>",
	"<user@sub.example.com>",
	"<user@xexample.com>",
	"<\"user@other.example\">",
	"<user%other.example>",
	"<user@other.example\\@example.com>",
	"<\"user\\@other.example\"@example.com>",
	"<user@example.com@>",
	"<user@@example.com>",
	NULL
};

static void
setup(void)
{
	FILE	*fp;

	ATF_REQUIRE((fp = fopen("smtpd.conf", "w")) != NULL);
	ATF_REQUIRE(fputs(conf, fp) >= 0);
	ATF_REQUIRE(fclose(fp) == 0);
	env = config_parse("smtpd.conf");
	ATF_REQUIRE_MSG(env != NULL, "config refused");
}

/* 1 if the path, sent by a remote client, would be relayed. */
static int
relayed(const char *path, int is_local)
{
	struct lka_ctx		 c;
	struct lka_expansion	 ex;
	struct mailaddr		 ma;
	char			 rcpt[ADDR_MAX];
	size_t			 i;
	int			 r = 0;

	if (addr_parse_path(path, strlen(path), 0, 0, 1, &ma) != ADDR_OK)
		return 0;
	if (ma.domain[0] == '\0')
		strlcpy(ma.domain, "mx.test", sizeof(ma.domain));
	if (addr_format(&ma, rcpt, sizeof(rcpt)) == -1)
		return 0;
	memset(&c, 0, sizeof(c));
	c.addr = is_local ? "127.0.0.1" : "192.0.2.9";
	c.is_local = is_local;
	c.auth_user = "";
	c.sender = "a@client.example";
	c.tag = "";
	memset(&ex, 0, sizeof(ex));
	if (lka_expand(&c, rcpt, &ex) == 0)
		for (i = 0; i < ex.n; i++)
			if (strcmp(ex.v[i].action, "relay") == 0)
				r = 1;
	lka_expansion_free(&ex);
	return r;
}

ATF_TC_WITHOUT_HEAD(remote);
ATF_TC_BODY(remote, tc)
{
	size_t	 i;

	setup();
	for (i = 0; tricks[i] != NULL; i++)
		ATF_CHECK_MSG(!relayed(tricks[i], 0), "relayed: %s",
		    tricks[i]);
	/* The check can fail: a local client relays. */
	ATF_CHECK(relayed("<user@other.example>", 1));
	config_free(env);
	env = NULL;
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, remote);
	return atf_no_error();
}
