/*
 * Unit tests of the SMTP command-line parser and base64 codec
 * (common/smtp_cmd.c).
 */
#include <string.h>

#include <atf-c.h>

#include "smtp_cmd.h"

static int
parse(const char *s, struct smtp_cmd *c)
{
	return smtp_cmd_parse(s, strlen(s), c);
}

ATF_TC_WITHOUT_HEAD(verbs);
ATF_TC_BODY(verbs, tc)
{
	struct smtp_cmd	 c;

	ATF_CHECK_EQ(parse("EHLO client.example", &c), SMTP_CMD_OK);
	ATF_CHECK_EQ(c.verb, SMTP_EHLO);
	ATF_CHECK_STREQ(c.arg, "client.example");
	ATF_CHECK_EQ(parse("ehlo [127.0.0.1]", &c), SMTP_CMD_OK);
	ATF_CHECK_EQ(parse("EHLO", &c), SMTP_CMD_ESYNTAX);
	ATF_CHECK_EQ(parse("HELO a b", &c), SMTP_CMD_ESYNTAX);
	ATF_CHECK_EQ(parse("QUIT", &c), SMTP_CMD_OK);
	ATF_CHECK_EQ(c.verb, SMTP_QUIT);
	ATF_CHECK_EQ(parse("quit ", &c), SMTP_CMD_OK);
	ATF_CHECK_EQ(parse("DATA x", &c), SMTP_CMD_ESYNTAX);
	ATF_CHECK_EQ(parse("STARTTLS", &c), SMTP_CMD_OK);
	ATF_CHECK_EQ(c.verb, SMTP_STARTTLS);
	ATF_CHECK_EQ(parse("NOOP anything", &c), SMTP_CMD_OK);
	ATF_CHECK_EQ(parse("FOO", &c), SMTP_CMD_EUNKNOWN);
	ATF_CHECK_EQ(parse("", &c), SMTP_CMD_EUNKNOWN);
	ATF_CHECK_EQ(parse("MAILFROM:<a@b>", &c), SMTP_CMD_EUNKNOWN);
	ATF_CHECK_EQ(parse("VRFY", &c), SMTP_CMD_ESYNTAX);
	ATF_CHECK_EQ(parse("VRFY root", &c), SMTP_CMD_OK);
	ATF_CHECK_STREQ(smtp_verb_name(SMTP_RCPT), "RCPT");
}

ATF_TC_WITHOUT_HEAD(limits);
ATF_TC_BODY(limits, tc)
{
	struct smtp_cmd	 c;
	char		 line[600];

	memset(line, 'a', sizeof(line));
	memcpy(line, "NOOP ", 5);
	ATF_CHECK_EQ(smtp_cmd_parse(line, 510, &c), SMTP_CMD_OK);
	ATF_CHECK_EQ(smtp_cmd_parse(line, 511, &c), SMTP_CMD_ETOOLONG);
	ATF_CHECK_EQ(smtp_cmd_parse("NOOP\0x", 6, &c), SMTP_CMD_ENUL);
	ATF_CHECK_EQ(parse("NOOP a\tb", &c), SMTP_CMD_ESYNTAX);
}

ATF_TC_WITHOUT_HEAD(mail_rcpt);
ATF_TC_BODY(mail_rcpt, tc)
{
	struct smtp_cmd		 c;
	const struct smtp_param	*p;

	ATF_CHECK_EQ(parse("MAIL FROM:<a@b.c>", &c), SMTP_CMD_OK);
	ATF_CHECK_EQ(c.verb, SMTP_MAIL);
	ATF_CHECK_STREQ(c.arg, "<a@b.c>");
	ATF_CHECK_EQ(c.nparams, 0);
	ATF_CHECK_EQ(parse("mail from: <a@b.c>", &c), SMTP_CMD_OK);
	ATF_CHECK_STREQ(c.arg, "<a@b.c>");
	ATF_CHECK_EQ(parse("MAIL FROM:<> SIZE=100 BODY=8BITMIME SMTPUTF8",
	    &c), SMTP_CMD_OK);
	ATF_CHECK_STREQ(c.arg, "<>");
	ATF_CHECK_EQ(c.nparams, 3);
	ATF_REQUIRE((p = smtp_cmd_param(&c, "size")) != NULL);
	ATF_CHECK_STREQ(p->value, "100");
	ATF_REQUIRE((p = smtp_cmd_param(&c, "SMTPUTF8")) != NULL);
	ATF_CHECK(p->value == NULL);
	ATF_CHECK(smtp_cmd_param(&c, "RET") == NULL);
	ATF_CHECK_EQ(parse("MAIL FROM:a@b.c", &c), SMTP_CMD_EPATH);
	ATF_CHECK_EQ(parse("MAIL TO:<a@b.c>", &c), SMTP_CMD_ESYNTAX);
	ATF_CHECK_EQ(parse("MAIL FROM:<a@b.c>x", &c), SMTP_CMD_EPATH);
	ATF_CHECK_EQ(parse("MAIL FROM:<a@b.c> =x", &c), SMTP_CMD_EPARAM);
	ATF_CHECK_EQ(parse("MAIL FROM:<a@b.c> A=", &c), SMTP_CMD_EPARAM);
	ATF_CHECK_EQ(parse("MAIL FROM:<a@b.c> A=b=c", &c), SMTP_CMD_EPARAM);
	ATF_CHECK_EQ(parse("MAIL FROM:<a@b.c> A B C D E F G H I J K L M N "
	    "O P Q", &c), SMTP_CMD_ETOOMANY);
	ATF_CHECK_EQ(parse("RCPT TO:<\"x> y\"@b.c> NOTIFY=SUCCESS,FAILURE "
	    "ORCPT=rfc822;x+40y", &c), SMTP_CMD_OK);
	ATF_CHECK_EQ(c.verb, SMTP_RCPT);
	ATF_CHECK_STREQ(c.arg, "<\"x> y\"@b.c>");
	ATF_REQUIRE((p = smtp_cmd_param(&c, "ORCPT")) != NULL);
	ATF_CHECK_STREQ(p->value, "rfc822;x+40y");
	ATF_CHECK_EQ(parse("RCPT TO:<a@b", &c), SMTP_CMD_EPATH);
}

ATF_TC_WITHOUT_HEAD(bdat_auth);
ATF_TC_BODY(bdat_auth, tc)
{
	struct smtp_cmd	 c;

	ATF_CHECK_EQ(parse("BDAT 1000", &c), SMTP_CMD_OK);
	ATF_CHECK_EQ(c.bdat_size, 1000);
	ATF_CHECK_EQ(c.bdat_last, 0);
	ATF_CHECK_EQ(parse("BDAT 0 LAST", &c), SMTP_CMD_OK);
	ATF_CHECK_EQ(c.bdat_last, 1);
	ATF_CHECK_EQ(parse("BDAT x", &c), SMTP_CMD_ESYNTAX);
	ATF_CHECK_EQ(parse("BDAT 10 FIRST", &c), SMTP_CMD_ESYNTAX);
	ATF_CHECK_EQ(parse("BDAT 99999999999999999999999", &c),
	    SMTP_CMD_ESYNTAX);
	ATF_CHECK_EQ(parse("AUTH PLAIN AGZvbwBiYXI=", &c), SMTP_CMD_OK);
	ATF_CHECK_STREQ(c.arg, "PLAIN");
	ATF_CHECK_STREQ(c.arg2, "AGZvbwBiYXI=");
	ATF_CHECK_EQ(parse("AUTH LOGIN", &c), SMTP_CMD_OK);
	ATF_CHECK(c.arg2 == NULL);
	ATF_CHECK_EQ(parse("AUTH", &c), SMTP_CMD_ESYNTAX);
}

ATF_TC_WITHOUT_HEAD(base64);
ATF_TC_BODY(base64, tc)
{
	unsigned char	 out[64];
	char		 enc[64];

	ATF_CHECK_EQ(smtp_b64_decode("AGZvbwBiYXI=", 12, out, sizeof(out)),
	    8);
	ATF_CHECK(memcmp(out, "\0foo\0bar", 8) == 0);
	ATF_CHECK_EQ(smtp_b64_decode("Zm9v", 4, out, sizeof(out)), 3);
	ATF_CHECK_EQ(smtp_b64_decode("Zg==", 4, out, sizeof(out)), 1);
	ATF_CHECK_EQ(smtp_b64_decode("Zh==", 4, out, sizeof(out)), -1);
	ATF_CHECK_EQ(smtp_b64_decode("Zm9", 3, out, sizeof(out)), -1);
	ATF_CHECK_EQ(smtp_b64_decode("Zm9v!", 5, out, sizeof(out)), -1);
	ATF_CHECK_EQ(smtp_b64_decode("Z=9v", 4, out, sizeof(out)), -1);
	ATF_CHECK_EQ(smtp_b64_decode("Zg==Zg==", 8, out, sizeof(out)), -1);
	ATF_CHECK_EQ(smtp_b64_decode("Zm9vYmFy", 8, out, 5), -1);
	ATF_CHECK_EQ(smtp_b64_encode((const unsigned char *)"Username:", 9,
	    enc, sizeof(enc)), 12);
	ATF_CHECK_STREQ(enc, "VXNlcm5hbWU6");
	ATF_CHECK_EQ(smtp_b64_encode((const unsigned char *)"f", 1, enc, 4),
	    -1);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, verbs);
	ATF_TP_ADD_TC(tp, limits);
	ATF_TP_ADD_TC(tp, mail_rcpt);
	ATF_TP_ADD_TC(tp, bdat_auth);
	ATF_TP_ADD_TC(tp, base64);
	return atf_no_error();
}
