/*
 * The sendmail(8), mailq(1) and newaliases(8) personalities of smtpctl.
 * sendmail reads the message, fixes its headers, asks the control socket
 * for an SMTP stream into the daemon (a `from local` session of our uid)
 * and submits it there, so local mail meets the same policy as network
 * mail.  With the daemon down the message goes to the offline spool.
 * Exit codes are those of sysexits(3).
 */
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <event.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ctl_client.h"
#include "log.h"
#include "proto.h"
#include "sendmail.h"
#include "smtpctl.h"

struct sm_opts {
	const char	*conf;
	const char	*sender;	/* -f / -r */
	const char	*fullname;	/* -F */
	char		 mode;		/* -b: m, s, p or i */
	int		 extract;	/* -t */
	int		 ignore_dots;	/* -i, -oi */
	int		 queue_run;	/* -q */
	int		 verbose;	/* -v */
	const char	*notify, *ret, *envid, *body;
};

static gid_t	 sm_saved_egid;

static void
sm_usage(void)
{
	fprintf(stderr, "usage: sendmail [-tiv] [-f sender] [-F name] "
	    "[-N dsn] [-R ret] [-V envid] [-B type] [-bs | -bp | -bi | -q] "
	    "[-C config] [-o option] [--] [recipient ...]\n");
	exit(EX_USAGE);
}

/* The domain of unqualified addresses: /etc/mailname, else the host
 * name. */
static void
sm_domain(char *d, size_t len)
{
	FILE	*fp;
	char	*p;

	d[0] = '\0';
	if ((fp = fopen("/etc/mailname", "r")) != NULL) {
		if (fgets(d, (int)len, fp) == NULL)
			d[0] = '\0';
		fclose(fp);
	}
	d[strcspn(d, " \t\r\n")] = '\0';
	if (d[0] == '\0' && gethostname(d, len) == -1)
		d[0] = '\0';
	d[len - 1] = '\0';
	for (p = d; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
			*p = '\0';
	if (d[0] == '\0')
		strlcpy(d, "localhost", len);
}

static void
sm_upper(char *dst, size_t len, const char *src)
{
	size_t	 i;

	for (i = 0; src[i] && i + 1 < len; i++)
		dst[i] = (char)toupper((unsigned char)src[i]);
	dst[i] = '\0';
}

static void
sm_on_text(const char *s, void *arg)
{
	buf_addstr(arg, s);
}

/* Connect and run one simple request (mailq, newaliases, -q). */
static int
sm_simple(const char *sock, uint32_t type, const char *arg)
{
	struct ctl_conn	*c;
	struct mbuild	*m;
	struct buf	 text;
	int		 ret = EX_OK;

	if ((c = ctl_open(sock)) == NULL) {
		fprintf(stderr, "%s: cannot connect to the daemon at %s: "
		    "%s\n", getprogname(), sock, strerror(errno));
		return EX_UNAVAILABLE;
	}
	m = ctl_create(c, type);
	if (type == IMSG_CTL_SHOW_QUEUE)
		m_add_u32(m, 0);
	else if (type == IMSG_CTL_SCHEDULE)
		m_add_u64(m, 0);
	else if (type == IMSG_CTL_UPDATE_TABLE)
		m_add_str(m, arg);
	m_close(m);
	buf_init(&text);
	if (ctl_wait(c, sm_on_text, &text, CTL_TIMEOUT) == -1) {
		fprintf(stderr, "%s: no answer from the daemon\n",
		    getprogname());
		ret = EX_TEMPFAIL;
	} else if (text.len)
		fputs(buf_cstr(&text), ctl_ok(c) ? stdout : stderr);
	buf_free(&text);
	if (ret == EX_OK && !ctl_ok(c)) {
		fprintf(stderr, "%s: %s\n", getprogname(), ctl_message(c));
		ret = strcmp(ctl_message(c), "permission denied") == 0 ?
		    EX_NOPERM : EX_UNAVAILABLE;
	} else if (ret == EX_OK && ctl_message(c)[0])
		printf("%s\n", ctl_message(c));
	ctl_close(c);
	fflush(stdout);
	return ret;
}

/* Ask the control socket for an SMTP stream; the fd, or -1 with errno
 * (ENOENT, ECONNREFUSED: the daemon is not running). */
static int
sm_enqueue_fd(const char *sock, char *err, size_t errlen)
{
	struct ctl_conn	*c;
	struct mbuild	*m;
	int		 fd = -1, saved;

	if ((c = ctl_open(sock)) == NULL) {
		saved = errno;
		snprintf(err, errlen, "cannot connect to %s: %s", sock,
		    strerror(errno));
		errno = saved;
		return -1;
	}
	m = ctl_create(c, IMSG_SMTP_ENQUEUE);
	m_close(m);
	if (ctl_wait(c, NULL, NULL, CTL_TIMEOUT) == -1) {
		snprintf(err, errlen, "no answer from the daemon");
		errno = EIO;
	} else if (!ctl_ok(c)) {
		snprintf(err, errlen, "%s", ctl_message(c));
		errno = strcmp(ctl_message(c), "permission denied") == 0 ?
		    EPERM : EAGAIN;
	} else if ((fd = ctl_take_fd(c)) == -1) {
		snprintf(err, errlen, "no session from the daemon");
		errno = EIO;
	}
	ctl_close(c);
	return fd;
}

struct sm_rcpt_ctx {
	struct sm_job	*job;
	const char	*domain;
	int		 bad;
};

static void
sm_on_rcpt(const char *addr, void *arg)
{
	struct sm_rcpt_ctx	*x = arg;
	char			 q[1024];

	if (sm_qualify(addr, x->domain, q, sizeof(q)) == -1) {
		fprintf(stderr, "sendmail: invalid recipient \"%s\"\n", addr);
		x->bad = 1;
		return;
	}
	sm_job_add_rcpt(x->job, q);
}

/*
 * Deliver job: through the daemon, or to the offline spool when it is
 * not running.  Returns a sysexits code.
 */
static int
sm_deliver(const struct sm_opts *o, struct sm_job *job, const char *sock,
    const char *spool)
{
	char	 err[512];
	int	 fd, ret;

	if ((fd = sm_enqueue_fd(sock, err, sizeof(err))) == -1) {
		if (errno != ENOENT && errno != ECONNREFUSED &&
		    errno != ENOTDIR) {
			fprintf(stderr, "sendmail: %s\n", err);
			return errno == EPERM ? EX_NOPERM : EX_TEMPFAIL;
		}
		/* The daemon is down: the offline spool keeps the mail
		 * until it starts. */
		if (sm_saved_egid != getegid() && setegid(sm_saved_egid) ==
		    -1)
			fprintf(stderr, "sendmail: setegid: %s\n",
			    strerror(errno));
		ret = offline_write(spool, job, err, sizeof(err));
		if (setegid(getgid()) == -1)
			_exit(EX_OSERR);
		if (ret == -1) {
			fprintf(stderr, "sendmail: daemon not running and "
			    "the offline spool failed: %s\n", err);
			return EX_TEMPFAIL;
		}
		fprintf(stderr, "sendmail: daemon not running, mail queued "
		    "offline (%s)\n", err);
		return EX_OK;
	}
	ret = sm_smtp_send(fd, job, o->verbose ? stderr : NULL, err,
	    sizeof(err));
	close(fd);
	if (err[0])
		fprintf(stderr, "sendmail: %s\n", err);
	return ret;
}

int
sendmail_main(const char *mode, int argc, char **argv)
{
	struct sm_opts		 o;
	struct sm_job		 job;
	struct sm_rcpt_ctx	 x;
	struct passwd		*pw;
	struct buf		 raw;
	char			 sock[1024], spool[1024], domain[256];
	char			 sender[1024], token[64], fullname[256];
	int			 ch, i, ret;

	/* A setgid install keeps its group only to write the offline
	 * spool. */
	sm_saved_egid = getegid();
	if (setegid(getgid()) == -1)
		return EX_OSERR;

	memset(&o, 0, sizeof(o));
	o.mode = 'm';
	if (strcmp(mode, "mailq") == 0)
		o.mode = 'p';
	else if (strcmp(mode, "newaliases") == 0)
		o.mode = 'i';

	while ((ch = getopt(argc, argv,
	    "+A:B:b:C:d:F:f:Gh:iL:mN:nO:o:p:q::R:r:tUV:vX:")) != -1) {
		switch (ch) {
		case 'B':
			o.body = optarg;
			break;
		case 'b':
			if (strcmp(optarg, "s") != 0 &&
			    strcmp(optarg, "p") != 0 &&
			    strcmp(optarg, "i") != 0 &&
			    strcmp(optarg, "m") != 0) {
				fprintf(stderr, "sendmail: -b%s is not "
				    "supported\n", optarg);
				return EX_USAGE;
			}
			o.mode = optarg[0];
			break;
		case 'C':
			o.conf = optarg;
			break;
		case 'F':
			o.fullname = optarg;
			break;
		case 'f':
		case 'r':
			o.sender = optarg;
			break;
		case 'i':
			o.ignore_dots = 1;
			break;
		case 'N':
			o.notify = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "i") == 0)
				o.ignore_dots = 1;
			break;
		case 'q':
			o.queue_run = 1;
			break;
		case 'R':
			o.ret = optarg;
			break;
		case 't':
			o.extract = 1;
			break;
		case 'V':
			o.envid = optarg;
			break;
		case 'v':
			o.verbose = 1;
			break;
		case 'A': case 'd': case 'G': case 'h': case 'L': case 'm':
		case 'n': case 'O': case 'p': case 'U': case 'X':
			break;		/* accepted, ignored */
		default:
			sm_usage();
		}
	}
	argc -= optind;
	argv += optind;

	ctl_locate(NULL, o.conf, sock, sizeof(sock), spool, sizeof(spool));
	if (o.queue_run)
		return sm_simple(sock, IMSG_CTL_SCHEDULE, NULL);
	if (o.mode == 'p')
		return sm_simple(sock, IMSG_CTL_SHOW_QUEUE, NULL);
	if (o.mode == 'i')
		return sm_simple(sock, IMSG_CTL_UPDATE_TABLE, "");
	if (o.mode == 's') {
		char	 err[512];
		int	 fd;

		if ((fd = sm_enqueue_fd(sock, err, sizeof(err))) == -1) {
			fprintf(stderr, "sendmail: %s\n", err);
			return EX_UNAVAILABLE;
		}
		ret = sm_smtp_relay(fd);
		close(fd);
		return ret;
	}

	if ((pw = getpwuid(getuid())) == NULL) {
		fprintf(stderr, "sendmail: who are you (uid %u)?\n",
		    (unsigned)getuid());
		return EX_NOUSER;
	}
	sm_domain(domain, sizeof(domain));
	sm_job_init(&job);
	if (o.sender == NULL)
		o.sender = pw->pw_name;
	if (strcmp(o.sender, "<>") == 0 || o.sender[0] == '\0')
		sender[0] = '\0';
	else {
		char	 tmp[1024];

		strlcpy(tmp, o.sender, sizeof(tmp));
		if (tmp[0] == '<' && tmp[strlen(tmp) - 1] == '>') {
			tmp[strlen(tmp) - 1] = '\0';
			memmove(tmp, tmp + 1, strlen(tmp));
		}
		if (sm_qualify(tmp, domain, sender, sizeof(sender)) == -1) {
			fprintf(stderr, "sendmail: invalid sender \"%s\"\n",
			    o.sender);
			return EX_DATAERR;
		}
	}
	if ((job.sender = strdup(sender)) == NULL)
		return EX_OSERR;
	if (o.body)
		sm_upper(job.body, sizeof(job.body), o.body);
	if (o.ret)
		sm_upper(job.ret, sizeof(job.ret), o.ret);
	if (o.notify)
		sm_upper(job.notify, sizeof(job.notify), o.notify);
	if (o.envid && (job.envid = strdup(o.envid)) == NULL)
		return EX_OSERR;
	if ((job.body[0] && strcmp(job.body, "8BITMIME") != 0 &&
	    strcmp(job.body, "7BIT") != 0) ||
	    (job.ret[0] && strcmp(job.ret, "FULL") != 0 &&
	    strcmp(job.ret, "HDRS") != 0)) {
		fprintf(stderr, "sendmail: bad -B or -R value\n");
		return EX_USAGE;
	}

	x.job = &job;
	x.domain = domain;
	x.bad = 0;
	for (i = 0; i < argc; i++)
		sm_addr_list(argv[i], sm_on_rcpt, &x);
	if (x.bad)
		return EX_DATAERR;

	buf_init(&raw);
	if (sm_read_message(stdin, o.ignore_dots, &raw) == -1) {
		fprintf(stderr, "sendmail: cannot read the message: %s\n",
		    strerror(errno));
		return errno == EINVAL ? EX_DATAERR : EX_IOERR;
	}
	fullname[0] = '\0';
	if (o.fullname)
		strlcpy(fullname, o.fullname, sizeof(fullname));
	else if (pw->pw_gecos) {
		strlcpy(fullname, pw->pw_gecos, sizeof(fullname));
		fullname[strcspn(fullname, ",")] = '\0';
	}
	snprintf(token, sizeof(token), "%llx.%08x",
	    (unsigned long long)time(NULL), arc4random());
	sm_prepare(&job, raw.data ? raw.data : "", raw.len, o.extract,
	    fullname, domain, time(NULL), token);
	buf_free(&raw);
	if (job.nrcpts == 0) {
		fprintf(stderr, "sendmail: no recipients\n");
		return EX_USAGE;
	}
	if (job.body[0] == '\0' && sm_has_8bit(job.msg.data, job.msg.len))
		strlcpy(job.body, "8BITMIME", sizeof(job.body));

	ret = sm_deliver(&o, &job, sock, spool);
	sm_job_free(&job);
	return ret;
}
