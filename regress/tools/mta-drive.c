/*
 * mta-drive: runs the outbound engine of mta (mta_route.c failover walk,
 * connectors, mta_session.c) without the rest of the daemon, so that the
 * regression tests can point it at smtp-peer instances.  Prints one line
 * per recipient result: "RESULT <rcpt> Ok|TempFail|PermFail <reply>".
 *
 * usage: mta-drive -m msgfile [-f sender] -h hop [-h hop]... [-r]
 *	  [-c cafile] [-n] [-a user:pass] [-H helo] [-N messages]
 *	  [-t seconds] [-8] [-u] [-D ret:envid:notify:orcpt] rcpt...
 * -D: DSN (ret full|hdrs, envid, notify letters s f d n, ORCPT address)
 * hop: addr:port[:no|opportunistic|require|smtps[:src]]
 */
#include <sys/stat.h>

#include <err.h>
#include <event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "mta/mta.h"

static unsigned long	 left;
static uint64_t		 ids = 1;
static unsigned long	 nok, ntemp, nperm;

uint64_t
mta_newid(void)
{
	return ids++;
}

void
mta_result(struct mta_task *t, struct mta_rcpt *r)
{
	const char	*w;

	(void)t;
	if (r->reported)
		return;
	r->reported = 1;
	switch (r->status) {
	case RCPT_OK:
		w = "Ok";
		nok++;
		break;
	case RCPT_PERMFAIL:
		w = "PermFail";
		nperm++;
		break;
	default:
		w = "TempFail";
		ntemp++;
		break;
	}
	printf("RESULT %s %s %s\n", r->addr, w, r->line);
	fflush(stdout);
	if (--left == 0) {
		printf("DONE ok=%lu tempfail=%lu permfail=%lu\n", nok, ntemp,
		    nperm);
		exit(0);
	}
}

static void
on_timeout(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	printf("TIMEOUT left=%lu ok=%lu tempfail=%lu permfail=%lu\n", left,
	    nok, ntemp, nperm);
	exit(1);
}

static enum relay_tls
tls_mode(const char *s)
{
	if (s == NULL || strcmp(s, "opportunistic") == 0)
		return RELAY_TLS_OPPORTUNISTIC;
	if (strcmp(s, "no") == 0)
		return RELAY_TLS_NO;
	if (strcmp(s, "require") == 0)
		return RELAY_TLS_REQUIRE;
	if (strcmp(s, "smtps") == 0)
		return RELAY_TLS_SMTPS;
	errx(2, "bad tls mode %s", s);
}

int
main(int argc, char *argv[])
{
	struct route_hop	*hops = NULL, *h;
	struct mta_task		*t;
	struct event		 tev;
	struct timeval		 tv;
	struct stat		 st;
	const char		*msg = NULL, *sender = "sender@drive.test";
	const char		*ca = "", *auth = NULL, *helo = "drive.test";
	char			*dsn_ret = NULL, *dsn_envid = NULL;
	char			*dsn_notify = NULL, *dsn_orcpt = NULL;
	unsigned		 notify = 0;
	char			*spec, *p;
	size_t			 nhops = 0;
	long			 n, nmsg = 1, secs = 30;
	int			 ch, random = 0, noverify = 0, i, fd;
	unsigned		 flags = 0;

	while ((ch = getopt(argc, argv, "8a:c:D:f:h:H:m:nN:rt:uv")) != -1) {
		switch (ch) {
		case 'D':
			if ((spec = strdup(optarg)) == NULL)
				err(1, NULL);
			dsn_ret = strsep(&spec, ":");
			dsn_envid = strsep(&spec, ":");
			dsn_notify = strsep(&spec, ":");
			dsn_orcpt = spec;
			break;
		case '8':
			flags |= EF_8BITMIME;
			break;
		case 'a':
			auth = optarg;
			break;
		case 'c':
			ca = optarg;
			break;
		case 'f':
			sender = optarg;
			break;
		case 'h':
			hops = reallocarray(hops, nhops + 1, sizeof(*hops));
			if (hops == NULL)
				err(1, NULL);
			h = &hops[nhops++];
			memset(h, 0, sizeof(*h));
			if ((spec = strdup(optarg)) == NULL)
				err(1, NULL);
			p = strsep(&spec, ":");
			strlcpy(h->addr, p, sizeof(h->addr));
			strlcpy(h->host, p, sizeof(h->host));
			if ((p = strsep(&spec, ":")) == NULL)
				errx(2, "hop without port");
			h->port = (uint16_t)atoi(p);
			h->tls = tls_mode(strsep(&spec, ":"));
			if ((p = strsep(&spec, ":")) != NULL)
				strlcpy(h->src, p, sizeof(h->src));
			break;
		case 'H':
			helo = optarg;
			break;
		case 'm':
			msg = optarg;
			break;
		case 'n':
			noverify = 1;
			break;
		case 'N':
			nmsg = atol(optarg);
			break;
		case 'r':
			random = 1;
			break;
		case 't':
			secs = atol(optarg);
			break;
		case 'u':
			flags |= EF_SMTPUTF8;
			break;
		case 'v':
			log_setverbose(2);
			break;
		default:
			errx(2, "usage: see the comment atop mta-drive.c");
		}
	}
	argc -= optind;
	argv += optind;
	if (msg == NULL || nhops == 0 || argc == 0 || nmsg < 1)
		errx(2, "usage: see the comment atop mta-drive.c");
	for (i = 0; (size_t)i < nhops; i++) {
		h = &hops[i];
		strlcpy(h->helo, helo, sizeof(h->helo));
		strlcpy(h->ca_file, ca, sizeof(h->ca_file));
		h->no_verify = noverify;
		if (auth != NULL) {
			const char *c = strchr(auth, ':');
			if (c == NULL)
				errx(2, "-a user:pass");
			snprintf(h->auth_user, sizeof(h->auth_user), "%.*s",
			    (int)(c - auth), auth);
			strlcpy(h->auth_pass, c + 1, sizeof(h->auth_pass));
		}
	}
	for (p = dsn_notify; p != NULL && *p; p++)
		notify |= *p == 's' ? DSN_NOTIFY_SUCCESS : *p == 'f' ?
		    DSN_NOTIFY_FAILURE : *p == 'd' ? DSN_NOTIFY_DELAY :
		    DSN_NOTIFY_NEVER;
	signal(SIGPIPE, SIG_IGN);
	log_init(1, log_getverbose());
	log_procname("mta");
	event_init();
	mta_tls_init();
	mta_route_init();
	if (ca[0] && access(ca, R_OK) == -1)
		err(1, "%s", ca);
	for (n = 0; n < nmsg; n++) {
		if ((t = calloc(1, sizeof(*t))) == NULL)
			err(1, NULL);
		if ((fd = open(msg, O_RDONLY)) == -1 || fstat(fd, &st) == -1)
			err(1, "%s", msg);
		t->fd = fd;
		t->id = mta_newid();
		t->msgid = (uint32_t)n + 1;
		strlcpy(t->sender, sender, sizeof(t->sender));
		t->size = (uint64_t)st.st_size;
		t->flags = flags;
		t->random = random;
		if (dsn_ret != NULL)
			t->dsn_ret = strcmp(dsn_ret, "full") == 0 ?
			    DSN_RET_FULL : strcmp(dsn_ret, "hdrs") == 0 ?
			    DSN_RET_HDRS : DSN_RET_DEFAULT;
		if (dsn_envid != NULL)
			strlcpy(t->dsn_envid, dsn_envid, sizeof(t->dsn_envid));
		if ((t->hops = calloc(nhops, sizeof(*hops))) == NULL)
			err(1, NULL);
		memcpy(t->hops, hops, nhops * sizeof(*hops));
		t->nhops = nhops;
		if ((t->rcpts = calloc((size_t)argc, sizeof(*t->rcpts))) ==
		    NULL)
			err(1, NULL);
		for (i = 0; i < argc; i++) {
			t->rcpts[i].evpid = ((uint64_t)(n + 1) << 32) |
			    (uint64_t)i;
			strlcpy(t->rcpts[i].addr, argv[i],
			    sizeof(t->rcpts[i].addr));
			t->rcpts[i].status = RCPT_PENDING;
			t->rcpts[i].dsn_notify = notify;
			if (dsn_orcpt != NULL && *dsn_orcpt)
				snprintf(t->rcpts[i].orcpt,
				    sizeof(t->rcpts[i].orcpt), "rfc822;%s",
				    dsn_orcpt);
		}
		t->nrcpts = (size_t)argc;
		left += (unsigned long)argc;
		mta_task_start(t);
	}
	evtimer_set(&tev, on_timeout, NULL);
	tv.tv_sec = secs;
	tv.tv_usec = 0;
	evtimer_add(&tev, &tv);
	event_dispatch();
	return 1;
}
