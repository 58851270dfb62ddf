/*
 * Formatting for control answers: JSON strings, durations and the
 * counter store of `show stats` (see ctl_fmt.h).  No global state.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_fmt.h"
#include "json.h"
#include "log.h"

void
ctl_duration(struct buf *b, time_t t)
{
	long long	 s = t < 0 ? 0 : (long long)t;

	if (s >= 86400)
		buf_printf(b, "%lldd%02lldh", s / 86400, (s % 86400) / 3600);
	else if (s >= 3600)
		buf_printf(b, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
	else if (s >= 60)
		buf_printf(b, "%lldm%02llds", s / 60, s % 60);
	else
		buf_printf(b, "%llds", s);
}

int
ctl_stat_name_ok(const char *name)
{
	size_t	 i;

	for (i = 0; name[i]; i++) {
		if (i >= CTL_STAT_NAME_MAX)
			return 0;
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '_' || name[i] == '.' || name[i] == '-'))
			return 0;
	}
	return i > 0;
}

/* Index of name, or of where it would be inserted (*found 0). */
static size_t
ctl_stats_find(const struct ctl_stats *st, const char *name, int *found)
{
	size_t	 lo = 0, hi = st->n, mid;
	int	 c;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(st->v[mid].name, name);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
ctl_stats_incr(struct ctl_stats *st, const char *name, int64_t delta)
{
	size_t	 i;
	int	 found;

	if (!ctl_stat_name_ok(name))
		return -1;
	i = ctl_stats_find(st, name, &found);
	if (!found) {
		if (st->n >= CTL_STAT_MAX)
			return -1;
		st->v = reallocarray(st->v, st->n + 1, sizeof(*st->v));
		if (st->v == NULL)
			fatal("ctl_stats_incr");
		memmove(&st->v[i + 1], &st->v[i],
		    (st->n - i) * sizeof(*st->v));
		st->n++;
		memset(&st->v[i], 0, sizeof(st->v[i]));
		strlcpy(st->v[i].name, name, sizeof(st->v[i].name));
	}
	st->v[i].value += delta;
	return 0;
}

int64_t
ctl_stats_get(const struct ctl_stats *st, const char *name)
{
	size_t	 i;
	int	 found;

	i = ctl_stats_find(st, name, &found);
	return found ? st->v[i].value : 0;
}

void
ctl_stats_free(struct ctl_stats *st)
{
	free(st->v);
	st->v = NULL;
	st->n = 0;
}

void
ctl_stats_format(const struct ctl_stats *st, time_t now, int json,
    struct buf *out)
{
	size_t	 i;
	long long up = now > st->start ? (long long)(now - st->start) : 0;

	if (json) {
		buf_printf(out, "{\"uptime\":%lld,\"started\":%lld,"
		    "\"counters\":{", up, (long long)st->start);
		for (i = 0; i < st->n; i++) {
			if (i)
				buf_addc(out, ',');
			json_str(out, st->v[i].name);
			buf_printf(out, ":%" PRId64, st->v[i].value);
		}
		buf_addstr(out, "}}\n");
		return;
	}
	buf_printf(out, "uptime=%lld\n", up);
	buf_addstr(out, "uptime.human=");
	ctl_duration(out, (time_t)up);
	buf_addc(out, '\n');
	for (i = 0; i < st->n; i++)
		buf_printf(out, "%s=%" PRId64 "\n", st->v[i].name,
		    st->v[i].value);
}
