/*
 * Unit tests of the units of smtpd.conf (common/config.c): durations
 * (s m h d w) and sizes (K M G T), with bad suffixes and overflow.
 */
#include <atf-c.h>
#include <stdint.h>
#include <time.h>

#include "config.h"

static time_t
dur(const char *s)
{
	time_t	t = -2;

	if (parse_duration(s, &t) == -1)
		atf_tc_fail("duration \"%s\" refused", s);
	return t;
}

static uint64_t
sz(const char *s)
{
	uint64_t v = 0;

	if (parse_size(s, &v) == -1)
		atf_tc_fail("size \"%s\" refused", s);
	return v;
}

ATF_TC_WITHOUT_HEAD(durations);
ATF_TC_BODY(durations, tc)
{
	ATF_CHECK_EQ(dur("30s"), 30);
	ATF_CHECK_EQ(dur("15m"), 900);
	ATF_CHECK_EQ(dur("4h"), 14400);
	ATF_CHECK_EQ(dur("4d"), 345600);
	ATF_CHECK_EQ(dur("1w"), 604800);
	ATF_CHECK_EQ(dur("45"), 45);
	ATF_CHECK_EQ(dur("0s"), 0);
	ATF_CHECK_EQ(dur("2H"), 7200);
}

ATF_TC_WITHOUT_HEAD(durations_bad);
ATF_TC_BODY(durations_bad, tc)
{
	const char	*bad[] = { "", "s", "4x", "4dd", "-1m", "1.5h", " 4h",
	    "4h ", "4 h", "h4", "99999999999999999999s", "9999999999999d",
	    NULL };
	time_t		 t = 77;
	int		 i;

	for (i = 0; bad[i] != NULL; i++)
		ATF_CHECK_MSG(parse_duration(bad[i], &t) == -1,
		    "\"%s\" accepted", bad[i]);
	ATF_CHECK_EQ(t, 77);
	ATF_CHECK(parse_duration(NULL, &t) == -1);
}

ATF_TC_WITHOUT_HEAD(sizes);
ATF_TC_BODY(sizes, tc)
{
	ATF_CHECK_EQ(sz("512"), 512);
	ATF_CHECK_EQ(sz("64K"), 65536);
	ATF_CHECK_EQ(sz("64k"), 65536);
	ATF_CHECK_EQ(sz("35M"), 35ULL * 1024 * 1024);
	ATF_CHECK_EQ(sz("1G"), 1ULL << 30);
	ATF_CHECK_EQ(sz("2T"), 2ULL << 40);
	ATF_CHECK_EQ(sz("0"), 0);
	ATF_CHECK_EQ(sz("100M"), 100ULL << 20);
	ATF_CHECK_EQ(sz("16777215T"), 16777215ULL << 40);
}

ATF_TC_WITHOUT_HEAD(sizes_bad);
ATF_TC_BODY(sizes_bad, tc)
{
	const char	*bad[] = { "", "M", "35X", "35MB", "-1", "1.5M", "0x10",
	    "35 M", "18446744073709551616", "16777216T", "99999999999G",
	    NULL };
	uint64_t	 v = 77;
	int		 i;

	for (i = 0; bad[i] != NULL; i++)
		ATF_CHECK_MSG(parse_size(bad[i], &v) == -1,
		    "\"%s\" accepted", bad[i]);
	ATF_CHECK_EQ(v, 77);
	/* The largest value that fits is fine. */
	ATF_CHECK_EQ(sz("18446744073709551615"), UINT64_MAX);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, durations);
	ATF_TP_ADD_TC(tp, durations_bad);
	ATF_TP_ADD_TC(tp, sizes);
	ATF_TP_ADD_TC(tp, sizes_bad);
	return atf_no_error();
}
