/*
 * SMTP command-line parser and base64 codec (see smtp_cmd.h).  The line
 * is copied once into the command struct and split in place; nothing
 * here knows about sessions or replies.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "smtp_cmd.h"

static const struct {
	const char	*name;
	enum smtp_verb	 verb;
} verbs[] = {
	{ "HELO", SMTP_HELO },
	{ "EHLO", SMTP_EHLO },
	{ "MAIL", SMTP_MAIL },
	{ "RCPT", SMTP_RCPT },
	{ "DATA", SMTP_DATA },
	{ "BDAT", SMTP_BDAT },
	{ "RSET", SMTP_RSET },
	{ "NOOP", SMTP_NOOP },
	{ "QUIT", SMTP_QUIT },
	{ "HELP", SMTP_HELP },
	{ "VRFY", SMTP_VRFY },
	{ "EXPN", SMTP_EXPN },
	{ "ETRN", SMTP_ETRN },
	{ "STARTTLS", SMTP_STARTTLS },
	{ "AUTH", SMTP_AUTH },
};

const char *
smtp_verb_name(enum smtp_verb v)
{
	size_t	 i;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (verbs[i].verb == v)
			return verbs[i].name;
	return "UNKNOWN";
}

static int
is_keychar(unsigned char c)
{
	return isalnum(c) || c == '-';
}

/* esmtp-value: %d33-60 / %d62-126, and UTF-8 octets (RFC 6531). */
static int
is_valuechar(unsigned char c)
{
	return (c >= 33 && c <= 126 && c != '=') || c >= 0x80;
}

/* Split "KEY[=VALUE] KEY[=VALUE] ..." at p into cmd->params. */
static int
parse_params(char *p, struct smtp_cmd *cmd)
{
	char	*key, *eq;

	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return SMTP_CMD_OK;
		if (cmd->nparams == SMTP_PARAMS_MAX)
			return SMTP_CMD_ETOOMANY;
		key = p;
		if (!isalnum((unsigned char)*p))
			return SMTP_CMD_EPARAM;
		while (is_keychar((unsigned char)*p))
			p++;
		eq = NULL;
		if (*p == '=') {
			*p++ = '\0';
			eq = p;
			if (!is_valuechar((unsigned char)*p))
				return SMTP_CMD_EPARAM;
			while (is_valuechar((unsigned char)*p))
				p++;
		}
		if (*p != '\0' && *p != ' ')
			return SMTP_CMD_EPARAM;
		if (*p == ' ')
			*p++ = '\0';
		cmd->params[cmd->nparams].key = key;
		cmd->params[cmd->nparams].value = eq;
		cmd->nparams++;
	}
}

/* "<...>" at p, quoted strings respected; returns the char after '>'. */
static char *
scan_path(char *p)
{
	int	 quoted = 0;

	if (*p != '<')
		return NULL;
	for (p++; *p; p++) {
		if (quoted && *p == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '>' && !quoted)
			return p + 1;
	}
	return NULL;
}

static int
parse_mailrcpt(char *arg, const char *prefix, struct smtp_cmd *cmd)
{
	size_t	 n = strlen(prefix);
	char	*end;

	if (strncasecmp(arg, prefix, n) != 0)
		return SMTP_CMD_ESYNTAX;
	arg += n;
	while (*arg == ' ')	/* "MAIL FROM: <a>" is common; tolerate */
		arg++;
	if ((end = scan_path(arg)) == NULL)
		return SMTP_CMD_EPATH;
	if (*end != '\0' && *end != ' ')
		return SMTP_CMD_EPATH;
	cmd->arg = arg;
	if (*end == '\0')
		return SMTP_CMD_OK;
	*end = '\0';
	return parse_params(end + 1, cmd);
}

static int
printable_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= 32 || *s == 127)
			return 0;
	return 1;
}

static int
parse_bdat(char *arg, struct smtp_cmd *cmd)
{
	uint64_t	 v = 0;
	char		*p = arg;

	if (!isdigit((unsigned char)*p))
		return SMTP_CMD_ESYNTAX;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return SMTP_CMD_ESYNTAX;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	cmd->bdat_size = v;
	if (*p == '\0')
		return SMTP_CMD_OK;
	if (*p != ' ')
		return SMTP_CMD_ESYNTAX;
	while (*p == ' ')
		p++;
	if (strcasecmp(p, "LAST") != 0)
		return SMTP_CMD_ESYNTAX;
	cmd->bdat_last = 1;
	return SMTP_CMD_OK;
}

int
smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd)
{
	char	*p, *verb, *sp;
	size_t	 i;

	memset(cmd, 0, sizeof(*cmd));
	cmd->verb = SMTP_UNKNOWN;
	cmd->arg = cmd->buf;
	if (len > SMTP_LINE_MAX - 2)
		return SMTP_CMD_ETOOLONG;
	if (memchr(line, '\0', len) != NULL)
		return SMTP_CMD_ENUL;
	memcpy(cmd->buf, line, len);
	cmd->buf[len] = '\0';
	/* Trailing spaces are not significant. */
	while (len > 0 && cmd->buf[len - 1] == ' ')
		cmd->buf[--len] = '\0';

	verb = cmd->buf;
	if ((sp = strchr(verb, ' ')) != NULL) {
		*sp = '\0';
		p = sp + 1;
		while (*p == ' ')
			p++;
	} else
		p = verb + strlen(verb);
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcasecmp(verb, verbs[i].name) == 0)
			break;
	if (i == sizeof(verbs) / sizeof(verbs[0]))
		return SMTP_CMD_EUNKNOWN;
	cmd->verb = verbs[i].verb;
	cmd->arg = p;
	for (sp = p; *sp; sp++)
		if ((unsigned char)*sp < 32 || *sp == 127)
			return SMTP_CMD_ESYNTAX;

	switch (cmd->verb) {
	case SMTP_DATA:
	case SMTP_RSET:
	case SMTP_QUIT:
	case SMTP_STARTTLS:
		return *p == '\0' ? SMTP_CMD_OK : SMTP_CMD_ESYNTAX;
	case SMTP_NOOP:
	case SMTP_HELP:
		return SMTP_CMD_OK;
	case SMTP_HELO:
	case SMTP_EHLO:
	case SMTP_ETRN:
		return printable_token(p) ? SMTP_CMD_OK : SMTP_CMD_ESYNTAX;
	case SMTP_VRFY:
	case SMTP_EXPN:
		return *p ? SMTP_CMD_OK : SMTP_CMD_ESYNTAX;
	case SMTP_MAIL:
		return parse_mailrcpt(p, "FROM:", cmd);
	case SMTP_RCPT:
		return parse_mailrcpt(p, "TO:", cmd);
	case SMTP_BDAT:
		return parse_bdat(p, cmd);
	case SMTP_AUTH:
		if (*p == '\0')
			return SMTP_CMD_ESYNTAX;
		if ((sp = strchr(p, ' ')) != NULL) {
			*sp = '\0';
			cmd->arg2 = sp + 1;
			if (!printable_token(cmd->arg2))
				return SMTP_CMD_ESYNTAX;
		}
		return printable_token(p) ? SMTP_CMD_OK : SMTP_CMD_ESYNTAX;
	case SMTP_UNKNOWN:
		break;
	}
	return SMTP_CMD_EUNKNOWN;
}

const struct smtp_param *
smtp_cmd_param(const struct smtp_cmd *cmd, const char *key)
{
	size_t	 i;

	for (i = 0; i < cmd->nparams; i++)
		if (strcasecmp(cmd->params[i].key, key) == 0)
			return &cmd->params[i];
	return NULL;
}

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long
smtp_b64_decode(const char *in, size_t len, unsigned char *out,
    size_t outlen)
{
	size_t	 i, o = 0, pad;
	int	 v[4], k;

	if (len % 4 != 0)
		return -1;
	for (i = 0; i < len; i += 4) {
		pad = 0;
		for (k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)in[i + k];

			if (c == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad || (v[k] = b64val(c)) < 0)
				return -1;
		}
		if (o + 3 - pad > outlen)
			return -1;
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			out[o++] = (unsigned char)((v[1] & 0xf) << 4 |
			    v[2] >> 2);
		else if (v[1] & 0xf)
			return -1;	/* non-canonical */
		if (pad < 1)
			out[o++] = (unsigned char)((v[2] & 0x3) << 6 | v[3]);
		else if (pad == 1 && (v[2] & 0x3))
			return -1;
	}
	return (long)o;
}

long
smtp_b64_encode(const unsigned char *in, size_t len, char *out,
    size_t outlen)
{
	size_t	 i, o = 0;
	uint32_t n;

	if (outlen < (len + 2) / 3 * 4 + 1)
		return -1;
	for (i = 0; i < len; i += 3) {
		n = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			n |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			n |= in[i + 2];
		out[o++] = b64chars[n >> 18 & 63];
		out[o++] = b64chars[n >> 12 & 63];
		out[o++] = i + 1 < len ? b64chars[n >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? b64chars[n & 63] : '=';
	}
	out[o] = '\0';
	return (long)o;
}
