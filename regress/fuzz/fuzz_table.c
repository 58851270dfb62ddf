/*
 * Fuzz target for table files (common/table.c): the input is written to
 * a file and loaded as a `file:` and an `xmail:` table (all or nothing:
 * a refused load keeps the old entry); its first line is then matched as
 * a glob against every key, and as an address against the table.
 * libFuzzer entry point; without -DFUZZ_LIBFUZZER it also builds as a
 * program that feeds each file named on the command line (or stdin).
 * fuzz-sources: common/table.c common/log.c common/buf.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "table.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	fuzz_path[64];

static void
fuzz_load(enum table_backend b, const char *probe)
{
	struct table	*t;
	char		 err[512];
	size_t		 i;

	t = table_new("fuzz", b, fuzz_path);
	table_add(t, "old", "entry", NULL, 0);
	if (table_load(t, err, sizeof(err)) == -1) {
		if (t->nentries != 1 || !table_has(t, "old"))
			abort();
	} else {
		for (i = 0; i < t->nentries; i++) {
			if (t->entries[i].key == NULL ||
			    t->entries[i].key[0] == '\0' ||
			    t->entries[i].line < 1)
				abort();
			(void)glob_match(t->entries[i].key, probe);
		}
		(void)table_match_glob(t, probe);
		(void)table_match_addr(t, probe);
		(void)table_lookup(t, probe);
	}
	table_free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	FILE	*fp;
	char	 probe[256];
	size_t	 n;

	if (fuzz_path[0] == '\0')
		snprintf(fuzz_path, sizeof(fuzz_path), "/tmp/fuzz_table.%d",
		    (int)getpid());
	if ((fp = fopen(fuzz_path, "wb")) == NULL)
		return 0;
	fwrite(data, 1, len, fp);
	fclose(fp);
	for (n = 0; n < len && n < sizeof(probe) - 1 && data[n] != '\n' &&
	    data[n] != '\0'; n++)
		probe[n] = (char)data[n];
	probe[n] = '\0';
	fuzz_load(TABLE_FILE, probe);
	fuzz_load(TABLE_XMAIL, probe);
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
