/*
 * libFuzzer target for the RFC 5321 address parser and xtext decoder
 * (common/addr.c).  Built and run by tools/fuzz.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "addr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct mailaddr	 ma;
	char		 out[1024], x[128];
	const char	*s = (const char *)data;

	if (addr_parse_mailbox(s, len, 0, &ma) == ADDR_OK) {
		if (addr_format(&ma, out, sizeof(out)) == 0 &&
		    addr_parse_mailbox(out, strlen(out), 0, &ma) != ADDR_OK)
			__builtin_trap();	/* round trip must hold */
	}
	(void)addr_parse_mailbox(s, len, ADDR_UTF8, &ma);
	(void)addr_parse_path(s, len, 0, 1, 1, &ma);
	(void)addr_parse_path(s, len, ADDR_UTF8, 0, 0, &ma);
	(void)addr_xtext_decode(s, len, x, sizeof(x));
	(void)addr_utf8_valid(s, len);
	return 0;
}
