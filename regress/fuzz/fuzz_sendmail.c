/*
 * Fuzz target for what sendmail and smtpctl parse from outside: the
 * message headers (-t extraction, Bcc removal, added headers), address
 * lists, offline spool files and the configuration scan.  For libFuzzer
 * (`make fuzz`).
 * fuzz-sources: control/sendmail_msg.c control/offline_file.c control/ctl_conf.c common/buf.c common/log.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/sendmail.h"
#include "control/smtpctl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
on_addr(const char *a, void *arg)
{
	(*(size_t *)arg) += strlen(a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sm_job	 j, k;
	char		*s, err[256], sock[128], spool[128];
	size_t		 n = 0;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	sm_job_init(&j);
	j.sender = strdup("a@b.test");
	sm_prepare(&j, s, size, 1, "Full \"Name\"", "b.test", 0, "tok");
	sm_addr_list(s, on_addr, &n);
	sm_job_free(&j);

	if (offline_load(&k, s, size, err, sizeof(err)) == 0)
		sm_job_free(&k);

	sock[0] = spool[0] = '\0';
	ctl_conf_scan(s, size, sock, sizeof(sock), spool, sizeof(spool));
	free(s);
	return 0;
}
