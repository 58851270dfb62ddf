/*
 * Fuzz target for the outbound SMTP reply parser (mta/mta_reply.c), for
 * libFuzzer (`make fuzz`).  Input is fed in small uneven chunks, as a
 * socket would deliver it; replies are parsed until the input ends.
 * fuzz-sources: mta/mta_reply.c common/buf.c common/log.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mta/mta_reply.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mta_reply r;
	struct buf	 in;
	size_t		 off = 0, chunk, used;
	uint64_t	 maxsize;
	enum mta_reply_status st;

	mta_reply_init(&r);
	buf_init(&in);
	while (off < size) {
		chunk = 1 + (data[off] % 37);
		if (chunk > size - off)
			chunk = size - off;
		buf_add(&in, data + off, chunk);
		off += chunk;
		for (;;) {
			st = mta_reply_parse(&r, in.data, in.len, &used);
			if (used > in.len)
				abort();
			buf_consume(&in, used);
			if (st == MTA_REPLY_DONE) {
				if (r.code < 200 || r.code > 599)
					abort();
				if (strlen(r.summary) >= sizeof(r.summary))
					abort();
				(void)mta_reply_ehlo(&r, &maxsize);
				mta_reply_reset(&r);
				continue;
			}
			if (st == MTA_REPLY_ERROR) {
				mta_reply_reset(&r);
				buf_reset(&in);
			}
			break;
		}
	}
	buf_free(&in);
	mta_reply_free(&r);
	return 0;
}
