/*
 * libFuzzer target for the DATA/BDAT body filter (smtpd/smtp_data.c):
 * feeding the input whole or split at an arbitrary point must give the
 * same verdict.  Built and run by tools/fuzz.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smtpd/smtp_data.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
run(const char *s, size_t len, size_t split, int dot, int *err, int *done,
    size_t *used)
{
	struct smtp_data	 d;
	struct buf		 out;

	buf_init(&out);
	smtp_data_init(&d, dot, 4096, 3, "Date: x\r\n", NULL,
	    smtp_data_emit_buf, &out);
	*used = smtp_data_feed(&d, s, split);
	if (!d.done)
		*used += smtp_data_feed(&d, s + split, len - split);
	*done = d.done;
	*err = smtp_data_finish(&d);
	buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	int	 e1, e2, d1, d2, dot;
	size_t	 u1, u2, split;

	if (len < 2)
		return 0;
	dot = data[0] & 1;
	split = data[1] % (len - 1);
	data += 2;
	len -= 2;
	if (split > len)
		split = len;
	run((const char *)data, len, len, dot, &e1, &d1, &u1);
	run((const char *)data, len, split, dot, &e2, &d2, &u2);
	if (e1 != e2 || d1 != d2 || u1 != u2)
		__builtin_trap();
	return 0;
}
