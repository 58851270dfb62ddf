/*
 * Fuzz target for the relay parsers (common/relay.c): the input, cut at
 * its first NUL, is parsed as a GATEWAY-SPEC, as a RELAY URL and as xmail
 * line options; every hop that parses must hold a sane host and port.
 * libFuzzer entry point; without -DFUZZ_LIBFUZZER it also builds as a
 * program that feeds each file named on the command line (or stdin).
 * fuzz-sources: common/relay.c common/log.c common/buf.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_check_hop(const struct relay_hop *h)
{
	if (h->host[0] == '\0' || strlen(h->host) > RELAY_HOST_MAX ||
	    strlen(h->label) > RELAY_LABEL_MAX ||
	    strlen(h->src) > RELAY_ADDR_MAX ||
	    (h->src[0] != '\0' && !relay_is_address(h->src)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct relay_list	 l;
	struct relay_hop	 h;
	char			*s, err[256];
	size_t			 i;

	if ((s = malloc(len + 1)) == NULL)
		return 0;
	memcpy(s, data, len);
	s[len] = '\0';
	if (relay_parse_gateway(s, &l, err, sizeof(err)) == 0) {
		if (l.nhops == 0)
			abort();
		for (i = 0; i < l.nhops; i++)
			fuzz_check_hop(&l.hops[i]);
		(void)relay_apply_options(&l, s, err, sizeof(err));
		for (i = 0; i < l.nhops; i++)
			fuzz_check_hop(&l.hops[i]);
		relay_list_free(&l);
	} else if (err[0] == '\0')
		abort();
	if (relay_parse_url(s, &h, err, sizeof(err)) == 0)
		fuzz_check_hop(&h);
	(void)relay_is_spec(s);
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
