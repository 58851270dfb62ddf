/* json_str: every output is a valid JSON string literal. */
#include <atf-c.h>
#include <string.h>

#include "buf.h"
#include "json.h"

static void
check(const char *in, const char *want)
{
	struct buf	 b;

	buf_init(&b);
	json_str(&b, in);
	ATF_CHECK_STREQ_MSG(buf_cstr(&b), want, "input %s", in ? in : "NULL");
	buf_free(&b);
}

ATF_TC_WITHOUT_HEAD(escapes);
ATF_TC_BODY(escapes, tc)
{
	check("a\"b\\c", "\"a\\\"b\\\\c\"");
	check("l1\r\nl2\t", "\"l1\\r\\nl2\\t\"");
	check("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
	check(NULL, "\"\"");
	check("", "\"\"");
}

ATF_TC_WITHOUT_HEAD(utf8);
ATF_TC_BODY(utf8, tc)
{
	/* valid sequences pass through */
	check("j\xc3\xb6rg@b\xc3\xbc" "cher.example",
	    "\"j\xc3\xb6rg@b\xc3\xbc" "cher.example\"");
	check("\xe2\x82\xac \xf0\x9f\x93\xa7", "\"\xe2\x82\xac \xf0\x9f\x93\xa7\"");
	/* stray continuation, truncated, overlong, surrogate, > U+10FFFF */
	check("\x80", "\"\\ufffd\"");
	check("\xc3", "\"\\ufffd\"");
	check("\xe2\x82", "\"\\ufffd\\ufffd\"");
	check("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	check("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	check("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, escapes);
	ATF_TP_ADD_TC(tp, utf8);
	return atf_no_error();
}
