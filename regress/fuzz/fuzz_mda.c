/*
 * Fuzz target for the local delivery parsers: the input is cut at '\n'
 * into a path or command template, a recipient and a sender; the
 * template is expanded (mda_expand) and split (mda_argv_split), and the
 * diagnostic escaper runs on the whole input.  An expanded path never
 * holds a ".." component, values never add a '/', and escaped text is
 * printable.  libFuzzer entry point; without -DFUZZ_LIBFUZZER it also
 * builds as a program that feeds each file named (or stdin).
 * fuzz-sources: smtpd/mda_expand.c smtpd/mda_argv.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpd/mda_deliver.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static size_t
count(const char *s, char c)
{
	size_t	 n = 0;

	for (; *s; s++)
		if (*s == c)
			n++;
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct mda_vars	 v;
	char		*s, *fmt, *rcpt, *sender, *p, **argv;
	char		 out[1024], err[128], diag[256];
	size_t		 i, slashes;

	if ((s = malloc(len + 1)) == NULL)
		return 0;
	memcpy(s, data, len);
	s[len] = '\0';

	mda_diag_escape(diag, sizeof(diag), s, len, 200);
	for (p = diag; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			abort();

	fmt = s;
	rcpt = sender = "";
	if ((p = strchr(fmt, '\n')) != NULL) {
		*p++ = '\0';
		rcpt = p;
		if ((p = strchr(rcpt, '\n')) != NULL) {
			*p++ = '\0';
			sender = p;
		}
	}
	v.user = "user";
	v.home = "/home/user";
	v.rcpt = rcpt;
	v.sender = sender;
	if (mda_expand(out, sizeof(out), fmt, &v, 1, err, sizeof(err)) == 0) {
		if (strlen(out) >= sizeof(out) ||
		    strstr(out, "/../") != NULL || strcmp(out, "..") == 0 ||
		    strncmp(out, "../", 3) == 0 ||
		    (strlen(out) >= 3 && strcmp(out + strlen(out) - 3,
		    "/..") == 0))
			abort();
		/* Only the template and ~ make components. */
		slashes = count(fmt, '/') + (fmt[0] == '~' ? count(v.home,
		    '/') : 0);
		if (count(out, '/') != slashes)
			abort();
	} else if (err[0] == '\0')
		abort();
	if ((argv = mda_argv_split(fmt, err, sizeof(err))) != NULL) {
		if (argv[0] == NULL)
			abort();
		for (i = 0; argv[i] != NULL; i++)
			if (strlen(argv[i]) > strlen(fmt))
				abort();
		free(argv);
	} else if (err[0] == '\0')
		abort();
	free(s);
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
