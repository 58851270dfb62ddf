/*
 * route-show: build relay routes the way lka does (lka_route_build:
 * routes table, host list, MX through c-ares and `resolver`, loop check)
 * from a configuration file, and print them (lka_route_format), one
 * recipient after the other, for the regression tests.
 *
 * usage: route-show [-j] -f smtpd.conf action rcpt...
 */
#include <err.h>
#include <event.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "lka/lka.h"
#include "lka/lka_route.h"
#include "log.h"

static int	 json;
static char	**rcpts;
static int	 nrcpts, cur;
static const char *action;

static void	next(void);

static void
on_route(const struct route_result *r, void *arg)
{
	struct buf	 b;

	buf_init(&b);
	lka_route_format(r, json, &b);
	printf("rcpt: %s\n%s", (const char *)arg, buf_cstr(&b));
	fflush(stdout);
	buf_free(&b);
	cur++;
	next();
}

static void
next(void)
{
	if (cur == nrcpts)
		exit(0);
	lka_route_build(action, "", rcpts[cur], on_route, rcpts[cur]);
}

int
main(int argc, char *argv[])
{
	const char	*conf = NULL;
	int		 ch;

	while ((ch = getopt(argc, argv, "f:jv")) != -1) {
		switch (ch) {
		case 'f':
			conf = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'v':
			log_setverbose(2);
			break;
		default:
			errx(2, "usage: route-show [-j] -f conf action rcpt...");
		}
	}
	argc -= optind;
	argv += optind;
	if (conf == NULL || argc < 2)
		errx(2, "usage: route-show [-j] -f conf action rcpt...");
	log_init(1, log_getverbose());
	event_init();
	if ((env = config_parse(conf)) == NULL)
		return 1;
	lka_route_init();
	action = argv[0];
	rcpts = argv + 1;
	nrcpts = argc - 1;
	next();
	event_dispatch();
	return 1;
}
