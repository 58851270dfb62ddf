/*
 * Fuzz target for the configuration parser (common/parse.y, config.c):
 * the input is written as smtpd.conf and parsed; it must be accepted or
 * refused, never crash or leak, and an accepted config must be freeable.
 * Errors go to /dev/null.  libFuzzer entry point; without
 * -DFUZZ_LIBFUZZER it also builds as a program that feeds each file named
 * on the command line (or stdin).
 * fuzz-sources: obj/o/common/parse.c common/config.c common/table.c common/relay.c common/macro.c common/log.c common/buf.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	fuzz_path[64];
static FILE	*fuzz_null;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct smtpd_config	*c;
	FILE			*fp;
	int			 saved;

	if (fuzz_path[0] == '\0') {
		snprintf(fuzz_path, sizeof(fuzz_path), "/tmp/fuzz_config.%d",
		    (int)getpid());
		if ((fuzz_null = fopen("/dev/null", "w")) == NULL)
			return 0;
	}
	if ((fp = fopen(fuzz_path, "wb")) == NULL)
		return 0;
	fwrite(data, 1, len, fp);
	fclose(fp);
	/* The parser's errors to /dev/null, the fuzzer's own to stderr. */
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(fuzz_null), 2);
	if ((c = config_parse(fuzz_path)) != NULL)
		config_free(c);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	unlink(fuzz_path);
	return 0;
}

#ifndef FUZZ_LIBFUZZER
int
main(int argc, char *argv[])
{
	static uint8_t	 buf[1 << 16];
	FILE		*fp;
	size_t		 n;
	int		 i;

	for (i = 1; i < argc || i == 1; i++) {
		fp = argc > 1 ? fopen(argv[i], "rb") : stdin;
		if (fp == NULL)
			continue;
		n = fread(buf, 1, sizeof(buf), fp);
		LLVMFuzzerTestOneInput(buf, n);
		if (fp != stdin)
			fclose(fp);
	}
	return 0;
}
#endif
