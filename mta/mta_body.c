/*
 * Is a message body 7-bit clean?  A message announced BODY=8BITMIME that
 * in fact holds only 7-bit data may go to a server without 8BITMIME as
 * is (the downgrade is a no-op); one with 8-bit bytes may not (5.6.3).
 * mta_body_7bit_buf is pure; mta_body_7bit reads the spooled file.
 */
#include <sys/types.h>

#include <errno.h>
#include <stddef.h>
#include <unistd.h>

#include "mta.h"

#define BODY_SCAN_CHUNK	65536

int
mta_body_7bit_buf(const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	size_t			 i;

	/* NUL is not 7bit data either (RFC 2045 2.7) */
	for (i = 0; i < len; i++)
		if (p[i] >= 0x80 || p[i] == 0)
			return 0;
	return 1;
}

int
mta_body_7bit(int fd)
{
	unsigned char	 chunk[BODY_SCAN_CHUNK];
	off_t		 off = 0;
	ssize_t		 n;

	for (;;) {
		n = pread(fd, chunk, sizeof(chunk), off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return 1;
		if (!mta_body_7bit_buf(chunk, (size_t)n))
			return 0;
		off += n;
	}
}
