/*
 * Unit tests of the scheduler's pure parts (queue/scheduler.c): the
 * retry backoff from `queue retry` to its `max`.
 */
#include <atf-c.h>
#include <time.h>

#include "queue/queue.h"

ATF_TC_WITHOUT_HEAD(backoff);
ATF_TC_BODY(backoff, tc)
{
	/* queue retry 5m max 4h */
	ATF_CHECK_EQ(scheduler_backoff(1, 300, 14400), 300);
	ATF_CHECK_EQ(scheduler_backoff(2, 300, 14400), 600);
	ATF_CHECK_EQ(scheduler_backoff(3, 300, 14400), 1200);
	ATF_CHECK_EQ(scheduler_backoff(6, 300, 14400), 9600);
	ATF_CHECK_EQ(scheduler_backoff(7, 300, 14400), 14400);
	ATF_CHECK_EQ(scheduler_backoff(1000, 300, 14400), 14400);
	/* a max below the first delay wins */
	ATF_CHECK_EQ(scheduler_backoff(1, 600, 60), 60);
	/* defaults when unset */
	ATF_CHECK_EQ(scheduler_backoff(1, 0, 0), 300);
	ATF_CHECK_EQ(scheduler_backoff(50, 0, 0), 14400);
	/* short test settings */
	ATF_CHECK_EQ(scheduler_backoff(1, 1, 4), 1);
	ATF_CHECK_EQ(scheduler_backoff(3, 1, 4), 4);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, backoff);
	return atf_no_error();
}
