/*
 * Fuzz target for the envelope text parser (common/envelope.c): any
 * input either fails to load or loads, dumps and loads again to the
 * very same envelope (round trip).
 * fuzz-sources: common/envelope.c common/buf.c common/log.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct envelope	 a, b;
	struct buf	 out;
	char		 err[128];

	if (envelope_load(&a, (const char *)data, size, err,
	    sizeof(err)) == -1)
		return 0;
	buf_init(&out);
	envelope_dump(&a, &out);
	if (envelope_load(&b, out.data, out.len, err, sizeof(err)) == -1 ||
	    memcmp(&a, &b, sizeof(a)) != 0)
		abort();
	buf_free(&out);
	return 0;
}
