/*
 * libFuzzer target for the SMTP command-line parser and base64 decoder
 * (common/smtp_cmd.c).  Built and run by tools/fuzz.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smtp_cmd.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct smtp_cmd	 c;
	unsigned char	 out[512];
	size_t		 i;

	if (smtp_cmd_parse((const char *)data, len, &c) == SMTP_CMD_OK) {
		for (i = 0; i < c.nparams; i++)
			if (c.params[i].key == NULL ||
			    strlen(c.params[i].key) == 0)
				__builtin_trap();
		(void)smtp_cmd_param(&c, "SIZE");
	}
	(void)smtp_b64_decode((const char *)data, len, out, sizeof(out));
	return 0;
}
