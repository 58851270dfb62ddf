/*
 * smtpctl(8): parse an operator command, send it over the control socket
 * and print the answer.  Each process formats its own answer (text or
 * JSON per the request's json flag); smtpctl prints the chunks as they
 * come, then the END message.  Exit 0 on success, 1 on a refused or
 * failed command with the reason on stderr.
 */
#include <sys/types.h>

#include <crypt.h>
#include <errno.h>
#include <event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "ctl_client.h"
#include "log.h"
#include "proto.h"
#include "smtpctl.h"

#define TRACE_LEVEL	2	/* log level set by `trace` */

static const char *trace_subsystems[] = {
	"all", "imsg", "io", "smtp", "lka", "queue", "scheduler", "mta",
	"mda", "control", "expand", "tables", "dns", NULL
};

int
ctl_parse_id(const char *s, uint64_t *id)
{
	size_t	 i, n = strlen(s);
	uint64_t v = 0;
	int	 d;

	if (strcmp(s, "all") == 0) {
		*id = 0;
		return 0;
	}
	if (n != 8 && n != 16)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else if (s[i] >= 'A' && s[i] <= 'F')
			d = s[i] - 'A' + 10;
		else
			return -1;
		v = (v << 4) | (uint64_t)d;
	}
	if (n == 8)
		v <<= 32;
	if (v == 0)
		return -1;
	*id = v;
	return 0;
}

static int
ctl_usage(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s", what);
	return -1;
}

int
ctl_cmd_parse(int argc, char **argv, struct ctl_cmd *cmd, char *err,
    size_t errlen)
{
	char	*w[16];
	int	 n = 0, i;
	uint64_t id;

	memset(cmd, 0, sizeof(*cmd));
	cmd->kind = CTL_REQUEST;
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			cmd->json = 1;
		else if (n < 16)
			w[n++] = argv[i];
		else
			return ctl_usage(err, errlen, "too many arguments");
	}
	if (n == 0)
		return ctl_usage(err, errlen, "missing command");

#define IS(i, s) (n > (i) && strcmp(w[i], (s)) == 0)
	if (IS(0, "show") && n >= 2) {
		if (IS(1, "queue") && n == 2)
			cmd->type = IMSG_CTL_SHOW_QUEUE;
		else if (IS(1, "stats") && n == 2)
			cmd->type = IMSG_CTL_SHOW_STATS;
		else if (IS(1, "relays") && n == 2)
			cmd->type = IMSG_CTL_SHOW_RELAYS;
		else if (IS(1, "status") && n == 2)
			cmd->type = IMSG_CTL_SHOW_STATUS;
		else if (IS(1, "envelope") && n == 3) {
			if (ctl_parse_id(w[2], &id) == -1 || id == 0 ||
			    strlen(w[2]) != 16)
				return ctl_usage(err, errlen,
				    "invalid envelope id");
			cmd->type = IMSG_CTL_SHOW_ENVELOPE;
			cmd->evpid = id;
		} else if (IS(1, "message") && n == 3) {
			if (ctl_parse_id(w[2], &id) == -1 || id == 0)
				return ctl_usage(err, errlen,
				    "invalid message id");
			cmd->type = IMSG_CTL_SHOW_MESSAGE;
			cmd->msgid = (uint32_t)(id >> 32);
		} else if (IS(1, "route") && n >= 3) {
			cmd->type = IMSG_CTL_SHOW_ROUTE;
			cmd->arg[0] = w[2];
			cmd->arg[1] = cmd->arg[2] = cmd->arg[3] = "";
			cmd->narg = 4;
			for (i = 3; i + 1 < n; i += 2) {
				if (strcmp(w[i], "from") == 0)
					cmd->arg[1] = w[i + 1];
				else if (strcmp(w[i], "source") == 0)
					cmd->arg[2] = w[i + 1];
				else if (strcmp(w[i], "auth") == 0)
					cmd->arg[3] = w[i + 1];
				else
					break;
			}
			if (i != n)
				return ctl_usage(err, errlen, "usage: show "
				    "route ADDRESS [from SENDER] [source IP] "
				    "[auth USER]");
		} else
			return ctl_usage(err, errlen, "unknown show command");
		return 0;
	}
	if ((IS(0, "schedule") || IS(0, "remove")) && n == 2) {
		if (ctl_parse_id(w[1], &cmd->evpid) == -1)
			return ctl_usage(err, errlen, "invalid id");
		cmd->type = IS(0, "schedule") ? IMSG_CTL_SCHEDULE :
		    IMSG_CTL_REMOVE;
		return 0;
	}
	if (IS(0, "pause") || IS(0, "resume")) {
		int	 pause = IS(0, "pause");

		if (IS(1, "envelope") && n == 3) {
			if (ctl_parse_id(w[2], &cmd->evpid) == -1)
				return ctl_usage(err, errlen, "invalid id");
			cmd->type = pause ? IMSG_CTL_PAUSE_ENVELOPE :
			    IMSG_CTL_RESUME_ENVELOPE;
			return 0;
		}
		if (n == 2 && (IS(1, "smtp") || IS(1, "mta") ||
		    IS(1, "mda"))) {
			cmd->type = pause ? IMSG_CTL_PAUSE : IMSG_CTL_RESUME;
			cmd->arg[0] = w[1];
			cmd->narg = 1;
			return 0;
		}
		return ctl_usage(err, errlen,
		    "usage: pause|resume envelope ID|all, "
		    "pause|resume smtp|mta|mda");
	}
	if (IS(0, "log") && n == 2 && (IS(1, "brief") || IS(1, "verbose"))) {
		cmd->type = IMSG_CTL_LOG_VERBOSE;
		cmd->level = IS(1, "verbose");
		return 0;
	}
	if (IS(0, "trace") && n == 2) {
		for (i = 0; trace_subsystems[i]; i++)
			if (strcmp(w[1], trace_subsystems[i]) == 0)
				break;
		if (trace_subsystems[i] == NULL)
			return ctl_usage(err, errlen, "unknown subsystem");
		cmd->type = IMSG_CTL_LOG_VERBOSE;
		cmd->level = TRACE_LEVEL;
		return 0;
	}
	if (IS(0, "update") && IS(1, "table") && n == 3) {
		cmd->type = IMSG_CTL_UPDATE_TABLE;
		cmd->arg[0] = w[2];
		cmd->narg = 1;
		return 0;
	}
	if (IS(0, "reload") && n == 1) {
		cmd->type = IMSG_CTL_RELOAD;
		return 0;
	}
	if (IS(0, "monitor") && n == 1) {
		cmd->kind = CTL_MONITOR;
		cmd->type = IMSG_CTL_SHOW_STATS;
		return 0;
	}
	if (IS(0, "encrypt") && n <= 2) {
		cmd->kind = CTL_ENCRYPT;
		cmd->encrypt = n == 2 ? w[1] : NULL;
		return 0;
	}
#undef IS
	snprintf(err, errlen, "unknown command \"%s\"", w[0]);
	return -1;
}

const char *
ctl_encrypt(const char *pw)
{
	static const char set[] = "./0123456789"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	char		 salt[3 + 16 + 2];
	const char	*h;
	size_t		 i;

	strlcpy(salt, "$6$", sizeof(salt));
	for (i = 0; i < 16; i++)
		salt[3 + i] = set[arc4random_uniform(sizeof(set) - 1)];
	salt[19] = '$';
	salt[20] = '\0';
	h = crypt(pw, salt);
	if (h == NULL || h[0] == '*')
		return NULL;
	return h;
}

static int
smtpctl_encrypt(const struct ctl_cmd *cmd)
{
	const char	*h;
	char		*line = NULL;
	size_t		 cap = 0;
	ssize_t		 n;
	int		 ret = 0;

	if (cmd->encrypt) {
		if ((h = ctl_encrypt(cmd->encrypt)) == NULL) {
			fprintf(stderr, "smtpctl: crypt failed\n");
			return 1;
		}
		printf("%s\n", h);
		return 0;
	}
	while ((n = getline(&line, &cap, stdin)) != -1) {
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if ((h = ctl_encrypt(line)) == NULL) {
			fprintf(stderr, "smtpctl: crypt failed\n");
			ret = 1;
			break;
		}
		printf("%s\n", h);
	}
	explicit_bzero(line, cap);
	free(line);
	return ret;
}

/* The text of an answer: kept until the END says where it goes. */
static struct buf	 smtpctl_text;

static void
smtpctl_on_text(const char *s, void *arg)
{
	(void)arg;
	buf_addstr(&smtpctl_text, s);
}

static void
smtpctl_on_collect(const char *s, void *arg)
{
	buf_addstr(arg, s);
}

static int
smtpctl_send(struct ctl_conn *c, const struct ctl_cmd *cmd)
{
	struct mbuild	*m;
	size_t		 i;

	m = ctl_create(c, cmd->type);
	switch (cmd->type) {
	case IMSG_CTL_SHOW_QUEUE:
	case IMSG_CTL_SHOW_STATS:
	case IMSG_CTL_SHOW_RELAYS:
	case IMSG_CTL_SHOW_STATUS:
		m_add_u32(m, cmd->json);
		break;
	case IMSG_CTL_SHOW_ENVELOPE:
		m_add_u64(m, cmd->evpid);
		m_add_u32(m, cmd->json);
		break;
	case IMSG_CTL_SHOW_MESSAGE:
		m_add_u32(m, cmd->msgid);
		break;
	case IMSG_CTL_SHOW_ROUTE:
		for (i = 0; i < cmd->narg; i++)
			m_add_str(m, cmd->arg[i]);
		m_add_u32(m, cmd->json);
		break;
	case IMSG_CTL_SCHEDULE:
	case IMSG_CTL_REMOVE:
	case IMSG_CTL_PAUSE_ENVELOPE:
	case IMSG_CTL_RESUME_ENVELOPE:
		m_add_u64(m, cmd->evpid);
		break;
	case IMSG_CTL_PAUSE:
	case IMSG_CTL_RESUME:
	case IMSG_CTL_UPDATE_TABLE:
		m_add_str(m, cmd->arg[0]);
		break;
	case IMSG_CTL_LOG_VERBOSE:
		m_add_u32(m, cmd->level);
		break;
	}
	m_close(m);
	return 0;
}

/*
 * Print the answer; the exit status.  The text goes to stdout, or to
 * stderr for a failed command (reload and update table errors).  The END
 * message goes to stdout only for an answer without text, never in JSON
 * mode; a failure's message to stderr.
 */
static int
smtpctl_result(struct ctl_conn *c, int json)
{
	int	 printed = smtpctl_text.len > 0;

	if (printed)
		fwrite(smtpctl_text.data, 1, smtpctl_text.len,
		    ctl_ok(c) ? stdout : stderr);
	buf_reset(&smtpctl_text);
	if (!ctl_ok(c)) {
		fprintf(stderr, "smtpctl: %s\n", ctl_message(c)[0] ?
		    ctl_message(c) : "command failed");
		return 1;
	}
	if (ctl_message(c)[0] && !printed && !json)
		printf("%s\n", ctl_message(c));
	return 0;
}

static volatile sig_atomic_t	 monitor_stop;

static void
monitor_on_signal(int sig)
{
	(void)sig;
	monitor_stop = 1;
}

/* One line of counters a second until interrupted (or the daemon
 * goes away). */
static int
smtpctl_monitor(struct ctl_conn *c, const struct ctl_cmd *cmd)
{
	struct buf	 b;
	char		 ts[16];
	time_t		 now;
	size_t		 i;
	int		 first = 1;

	signal(SIGINT, monitor_on_signal);
	signal(SIGTERM, monitor_on_signal);
	signal(SIGPIPE, SIG_IGN);
	buf_init(&b);
	while (!monitor_stop) {
		if (!first)
			sleep(1);
		first = 0;
		if (monitor_stop)
			break;
		buf_reset(&b);
		smtpctl_send(c, cmd);
		if (ctl_wait(c, smtpctl_on_collect, &b, CTL_TIMEOUT) == -1) {
			fprintf(stderr, "smtpctl: connection to the daemon "
			    "lost\n");
			buf_free(&b);
			return 1;
		}
		if (!ctl_ok(c)) {
			buf_free(&b);
			return smtpctl_result(c, cmd->json);
		}
		if (cmd->json) {
			fputs(buf_cstr(&b), stdout);
		} else {
			now = time(NULL);
			strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&now));
			printf("%s", ts);
			/* "a=1\nb=2\n" becomes " a=1 b=2" */
			for (i = 0; i < b.len; i++) {
				if (i == 0 || b.data[i - 1] == '\n') {
					if (strncmp(b.data + i,
					    "uptime.human=", 13) == 0) {
						while (i < b.len &&
						    b.data[i] != '\n')
							i++;
						continue;
					}
					putchar(' ');
				}
				if (b.data[i] != '\n')
					putchar(b.data[i]);
			}
			putchar('\n');
		}
		if (fflush(stdout) == EOF)
			break;
	}
	buf_free(&b);
	return 0;
}

static void
smtpctl_usage(void)
{
	fprintf(stderr, "usage: smtpctl [-s socket | -f config] command "
	    "[--json]\n");
	exit(1);
}

int
smtpctl_main(int argc, char **argv)
{
	struct ctl_cmd	 cmd;
	struct ctl_conn	*c;
	const char	*sock_opt = NULL, *conf = NULL;
	char		 sock[1024], spool[1024], err[256];
	int		 ch, ret;

	while ((ch = getopt(argc, argv, "+f:s:")) != -1) {
		switch (ch) {
		case 'f':
			conf = optarg;
			break;
		case 's':
			sock_opt = optarg;
			break;
		default:
			smtpctl_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (ctl_cmd_parse(argc, argv, &cmd, err, sizeof(err)) == -1) {
		fprintf(stderr, "smtpctl: %s\n", err);
		smtpctl_usage();
	}
	if (cmd.kind == CTL_ENCRYPT)
		return smtpctl_encrypt(&cmd);

	ctl_locate(sock_opt, conf, sock, sizeof(sock), spool, sizeof(spool));
	if ((c = ctl_open(sock)) == NULL) {
		fprintf(stderr, "smtpctl: cannot connect to %s: %s\n", sock,
		    strerror(errno));
		return 1;
	}
	if (cmd.kind == CTL_MONITOR) {
		ret = smtpctl_monitor(c, &cmd);
		ctl_close(c);
		return ret;
	}
	smtpctl_send(c, &cmd);
	if (ctl_wait(c, smtpctl_on_text, NULL, CTL_TIMEOUT) == -1) {
		fwrite(smtpctl_text.data ? smtpctl_text.data : "", 1,
		    smtpctl_text.len, stdout);
		fflush(stdout);
		fprintf(stderr, "smtpctl: no answer from the daemon\n");
		ctl_close(c);
		return 1;
	}
	ret = smtpctl_result(c, cmd.json);
	ctl_close(c);
	if (fflush(stdout) == EOF)
		ret = 1;
	return ret;
}
