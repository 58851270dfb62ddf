/*
 * config_parse() for a reload: what the parser prints on stderr is
 * captured (a memfd stands in for fd 2 meanwhile) so that the errors
 * travel back to smtpctl as text.
 */
#include <sys/types.h>
#include <sys/mman.h>

#include <stdio.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "smtpd/reload.h"

struct smtpd_config *
reload_config_parse(const char *path, struct buf *errs)
{
	struct smtpd_config	*conf;
	char			 b[4096];
	ssize_t			 n;
	int			 saved, mfd;

	fflush(stderr);
	if ((mfd = memfd_create("smtpd-reload", MFD_CLOEXEC)) == -1 ||
	    (saved = dup(STDERR_FILENO)) == -1) {
		log_warn("reload: cannot capture errors");
		if (mfd != -1)
			close(mfd);
		return config_parse(path);
	}
	dup2(mfd, STDERR_FILENO);
	conf = config_parse(path);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	if (lseek(mfd, 0, SEEK_SET) == 0)
		while ((n = read(mfd, b, sizeof(b))) > 0 &&
		    errs->len < 64 * 1024)
			buf_add(errs, b, (size_t)n);
	close(mfd);
	return conf;
}
