/*
 * Helpers shared by the mda unit tests: a message file to deliver from,
 * an envelope, and reading a file back whole.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include "envelope.h"
#include "smtpd/mda_deliver.h"

/* A read-only fd holding text (through a file under the cwd). */
static __attribute__((unused)) int
msg_fd(const char *text, size_t len)
{
	char	 path[] = "msg.XXXXXX";
	int	 fd, rfd;

	ATF_REQUIRE((fd = mkstemp(path)) != -1);
	ATF_REQUIRE(write(fd, text, len) == (ssize_t)len);
	close(fd);
	ATF_REQUIRE((rfd = open(path, O_RDONLY)) != -1);
	unlink(path);
	return rfd;
}

static __attribute__((unused)) void
test_envelope(struct envelope *e, const char *sender, const char *rcpt)
{
	memset(e, 0, sizeof *e);
	e->id = 0x1234567800000001ULL;
	e->type = ENV_MDA;
	strlcpy(e->sender, sender, sizeof e->sender);
	strlcpy(e->rcpt, rcpt, sizeof e->rcpt);
	strlcpy(e->orig_rcpt, rcpt, sizeof e->orig_rcpt);
}

/* The whole file, NUL-terminated (free it); *len its size. */
static __attribute__((unused)) char *
slurp(const char *path, size_t *len)
{
	struct stat	 st;
	char		*s;
	int		 fd;

	ATF_REQUIRE_MSG((fd = open(path, O_RDONLY)) != -1, "open %s", path);
	ATF_REQUIRE(fstat(fd, &st) == 0);
	ATF_REQUIRE((s = malloc(st.st_size + 1)) != NULL);
	ATF_REQUIRE(read(fd, s, st.st_size) == st.st_size);
	s[st.st_size] = '\0';
	close(fd);
	if (len)
		*len = st.st_size;
	return s;
}

/* The only entry of dir (name into buf); fails unless exactly one. */
static __attribute__((unused)) void
only_entry(const char *dir, char *buf, size_t len)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	ATF_REQUIRE_MSG((d = opendir(dir)) != NULL, "opendir %s", dir);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		ATF_REQUIRE(snprintf(buf, len, "%s/%s", dir, de->d_name) <
		    (int)len);
		n++;
	}
	closedir(d);
	ATF_REQUIRE_EQ_MSG(n, 1, "%s holds %d entries", dir, n);
}

static __attribute__((unused)) int
count_entries(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}
