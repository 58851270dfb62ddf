/*
 * Unit tests of the 7-bit check of mta/mta_body.c (may a BODY=8BITMIME
 * message go to a server without 8BITMIME as is?).
 */
#include <atf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mta/mta.h"

ATF_TC_WITHOUT_HEAD(buf);
ATF_TC_BODY(buf, tc)
{
	ATF_CHECK_EQ(mta_body_7bit_buf("", 0), 1);
	ATF_CHECK_EQ(mta_body_7bit_buf("Subject: x\r\n\r\nhi\r\n", 18), 1);
	ATF_CHECK_EQ(mta_body_7bit_buf("caf\xc3\xa9", 5), 0);
	ATF_CHECK_EQ(mta_body_7bit_buf("a\x80", 2), 0);
	ATF_CHECK_EQ(mta_body_7bit_buf("a\0b", 3), 0);
	ATF_CHECK_EQ(mta_body_7bit_buf("\x7f\x01", 2), 1);
}

/* The file scan looks past its first chunk and starts at offset 0. */
ATF_TC_WITHOUT_HEAD(file);
ATF_TC_BODY(file, tc)
{
	char	 path[] = "t_mta_body.XXXXXX";
	char	*big;
	size_t	 n = 200000;
	int	 fd;

	ATF_REQUIRE((fd = mkstemp(path)) != -1);
	ATF_REQUIRE((big = malloc(n)) != NULL);
	memset(big, 'a', n);
	ATF_REQUIRE(write(fd, big, n) == (ssize_t)n);
	ATF_CHECK_EQ(mta_body_7bit(fd), 1);
	ATF_REQUIRE(write(fd, "\xe9", 1) == 1);	/* at the very end */
	ATF_CHECK_EQ(mta_body_7bit(fd), 0);
	ATF_CHECK_EQ(mta_body_7bit(-1), -1);
	free(big);
	close(fd);
	unlink(path);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, buf);
	ATF_TP_ADD_TC(tp, file);
	return atf_no_error();
}
