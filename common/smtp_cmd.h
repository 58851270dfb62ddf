/*
 * SMTP command-line parser (RFC 5321 4.1, ESMTP parameters of RFC 1869,
 * BDAT of RFC 3030, AUTH of RFC 4954) and a strict base64 decoder.
 * Pure functions: a line in, a struct out, no global state.
 */
#ifndef SMTPD_SMTP_CMD_H
#define SMTPD_SMTP_CMD_H

#include <stddef.h>
#include <stdint.h>

#define SMTP_LINE_MAX		512	/* a command line, CRLF included */
#define SMTP_PARAMS_MAX		16

enum smtp_verb {
	SMTP_UNKNOWN,
	SMTP_HELO,
	SMTP_EHLO,
	SMTP_MAIL,
	SMTP_RCPT,
	SMTP_DATA,
	SMTP_BDAT,
	SMTP_RSET,
	SMTP_NOOP,
	SMTP_QUIT,
	SMTP_HELP,
	SMTP_VRFY,
	SMTP_EXPN,
	SMTP_ETRN,
	SMTP_STARTTLS,
	SMTP_AUTH
};

/* Results of smtp_cmd_parse, each mapped to one reply by the session. */
#define SMTP_CMD_OK		0
#define SMTP_CMD_ETOOLONG	(-1)	/* 500 5.5.2 */
#define SMTP_CMD_ENUL		(-2)	/* 500 5.5.2 */
#define SMTP_CMD_EUNKNOWN	(-3)	/* 500 5.5.1 */
#define SMTP_CMD_ESYNTAX	(-4)	/* 501 5.5.4 */
#define SMTP_CMD_EPATH		(-5)	/* 501 5.5.4: no <path> */
#define SMTP_CMD_EPARAM		(-6)	/* 555 5.5.4 */
#define SMTP_CMD_ETOOMANY	(-7)	/* 555 5.5.4: too many params */

struct smtp_param {
	char	*key;
	char	*value;		/* NULL when the keyword has no "=" */
};

struct smtp_cmd {
	enum smtp_verb		 verb;
	char			 buf[SMTP_LINE_MAX + 1];	/* copy; the
							 * pointers below
							 * point into it */
	char			*arg;	/* after the verb ("" if none); MAIL,
					 * RCPT: the <path>; AUTH: mechanism */
	char			*arg2;	/* AUTH initial response, or NULL */
	uint64_t		 bdat_size;
	int			 bdat_last;
	size_t			 nparams;
	struct smtp_param	 params[SMTP_PARAMS_MAX];
};

/*
 * Parse one command line of len bytes, CRLF removed.  Returns
 * SMTP_CMD_OK with cmd filled, or an SMTP_CMD_E* code (cmd->verb is set
 * as far as it could be recognised).
 */
int	smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd);

/* The parameter named key (case-insensitive), or NULL. */
const struct smtp_param *smtp_cmd_param(const struct smtp_cmd *,
	    const char *key);

/* Name of a verb ("MAIL"). */
const char *smtp_verb_name(enum smtp_verb);

/*
 * Strict base64 (RFC 4648, padding required, no whitespace) into out.
 * Returns the decoded length or -1 if malformed or out is too small.
 */
long	smtp_b64_decode(const char *in, size_t len, unsigned char *out,
	    size_t outlen);
/* Encode into out (NUL-terminated); -1 if out is too small. */
long	smtp_b64_encode(const unsigned char *in, size_t len, char *out,
	    size_t outlen);

#endif
