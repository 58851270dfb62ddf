/*
 * Formatting helpers shared by the control process and smtpctl: JSON
 * string escaping, durations, and the counter store behind `show stats`.
 * Pure functions over a struct buf; unit-tested in regress/control.
 */
#ifndef SMTPD_CTL_FMT_H
#define SMTPD_CTL_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "json.h"

/* "1d02h03m04s" style, at most two units ("3m04s", "45s"). */
void	ctl_duration(struct buf *, time_t secs);

#define CTL_STAT_NAME_MAX	64
#define CTL_STAT_MAX		512

struct ctl_counter {
	char		 name[CTL_STAT_NAME_MAX + 1];
	int64_t		 value;
};

struct ctl_stats {
	struct ctl_counter	*v;	/* sorted by name */
	size_t			 n;
	time_t			 start;
};

/* 1 if name is a valid counter name: [a-z0-9_.-], 1..64 chars. */
int	ctl_stat_name_ok(const char *);
/* Add delta to counter name (created at 0).  -1 if the name is bad or
 * the store is full. */
int	ctl_stats_incr(struct ctl_stats *, const char *name, int64_t delta);
/* Value of a counter (0 if unknown). */
int64_t	ctl_stats_get(const struct ctl_stats *, const char *name);
void	ctl_stats_free(struct ctl_stats *);
/*
 * `show stats`.  Text: "uptime=N" then one "name=value" line per counter
 * in name order.  JSON (one line): {"uptime":N,"started":T,
 * "counters":{"name":value,...}}.
 */
void	ctl_stats_format(const struct ctl_stats *, time_t now, int json,
	    struct buf *out);

#endif
