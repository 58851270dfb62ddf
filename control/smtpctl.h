/*
 * smtpctl: the operator's command line (smtpctl.c), the sendmail, mailq
 * and newaliases personalities (sendmail.c), and the pure helpers they
 * share: command parsing and the control socket / spool lookup in a
 * configuration file (ctl_conf.c).
 */
#ifndef SMTPD_SMTPCTL_H
#define SMTPD_SMTPCTL_H

#include <stddef.h>
#include <stdint.h>

#define CTL_TIMEOUT	120	/* seconds to wait for an answer */

enum ctl_kind {
	CTL_REQUEST,		/* one imsg request, print the answer */
	CTL_MONITOR,
	CTL_ENCRYPT
};

struct ctl_cmd {
	enum ctl_kind	 kind;
	uint32_t	 type;		/* IMSG_CTL_* */
	int		 json;
	uint64_t	 evpid;		/* 0: all */
	uint32_t	 msgid;
	uint32_t	 level;		/* log verbose */
	const char	*arg[4];	/* strings of the request, in order */
	size_t		 narg;
	const char	*encrypt;	/* NULL: read stdin */
};

/*
 * Parse the words of a command (after the options) into cmd.  "--json"
 * may appear anywhere.  0, or -1 with err set ("unknown command ...").
 * The strings point into argv.  Pure.
 */
int	ctl_cmd_parse(int argc, char **argv, struct ctl_cmd *, char *err,
	    size_t errlen);
/* Parse "all" (0), a 16-hex-digit envelope id or an 8-hex-digit message
 * id (msgid << 32).  -1 if neither. */
int	ctl_parse_id(const char *, uint64_t *);

/*
 * Find `control socket "PATH"` and `spool "PATH"` in the text of a
 * configuration (comments, quotes, continuations and $macros handled;
 * everything else skipped).  A value not found is left untouched.  Pure.
 */
void	ctl_conf_scan(const char *text, size_t len, char *sock,
	    size_t socklen, char *spool, size_t spoollen);
/*
 * The control socket and spool for a client: sock_opt if given, else
 * those of conf (default SMTPD_CONFIG_DEFAULT), else the built-in
 * defaults.
 */
void	ctl_locate(const char *sock_opt, const char *conf, char *sock,
	    size_t socklen, char *spool, size_t spoollen);

int	smtpctl_main(int argc, char **argv);
/* mode: "sendmail", "mailq" or "newaliases" */
int	sendmail_main(const char *mode, int argc, char **argv);
/* Hash a password with crypt(3), SHA-512 and a random salt; NULL on
 * failure.  Static storage of crypt(3). */
const char *ctl_encrypt(const char *);

#endif
