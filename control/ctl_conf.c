/*
 * What a client needs from smtpd.conf without parsing it (the file may
 * hold tables and keys a plain user cannot read): the control socket
 * path and the spool.  A small tokenizer, pure, unit-tested.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "smtpctl.h"

#define CONF_MAX_TOKENS	8
#define CONF_MAX_MACROS	64

struct conf_macro {
	char	*name;
	char	*value;
};

/* Split one logical line into up to CONF_MAX_TOKENS words. */
static size_t
conf_tokens(const char *line, char **tok)
{
	struct buf	 w;
	const char	*p = line;
	size_t		 n = 0;
	char		 q;

	while (*p && n < CONF_MAX_TOKENS) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			break;
		buf_init(&w);
		if (*p == '"' || *p == '\'') {
			q = *p++;
			while (*p && *p != q)
				buf_addc(&w, *p++);
			if (*p)
				p++;
		} else if (*p == '=' || *p == '{' || *p == '}' || *p == ',')
			buf_addc(&w, *p++);
		else
			while (*p && !isspace((unsigned char)*p) &&
			    *p != '#' && *p != '=' && *p != '"' && *p != ',')
				buf_addc(&w, *p++);
		if ((tok[n++] = strdup(buf_cstr(&w))) == NULL)
			abort();
		buf_free(&w);
	}
	return n;
}

static const char *
conf_value(const char *tok, struct conf_macro *m, size_t nm)
{
	size_t	 i;

	if (tok[0] != '$')
		return tok;
	for (i = 0; i < nm; i++)
		if (strcmp(m[i].name, tok + 1) == 0)
			return m[i].value;
	return tok;
}

void
ctl_conf_scan(const char *text, size_t len, char *sock, size_t socklen,
    char *spool, size_t spoollen)
{
	struct conf_macro	 m[CONF_MAX_MACROS];
	struct buf		 line;
	const char		*p = text, *end = text + len, *eol;
	char			*tok[CONF_MAX_TOKENS];
	size_t			 nm = 0, nt, i, ll;

	buf_init(&line);
	while (p < end) {
		eol = memchr(p, '\n', end - p);
		ll = eol ? (size_t)(eol - p) : (size_t)(end - p);
		buf_add(&line, p, ll);
		p += ll + (eol ? 1 : 0);
		if (line.len > 0 && line.data[line.len - 1] == '\\' &&
		    p < end) {
			line.data[line.len - 1] = ' ';
			continue;
		}
		nt = conf_tokens(buf_cstr(&line), tok);
		buf_reset(&line);
		if (nt == 3 && strcmp(tok[1], "=") == 0 &&
		    nm < CONF_MAX_MACROS) {
			m[nm].name = tok[0];
			m[nm].value = tok[2];
			nm++;
			free(tok[1]);
			continue;
		}
		if (nt >= 3 && strcmp(tok[0], "control") == 0 &&
		    strcmp(tok[1], "socket") == 0)
			strlcpy(sock, conf_value(tok[2], m, nm), socklen);
		else if (nt >= 2 && strcmp(tok[0], "spool") == 0)
			strlcpy(spool, conf_value(tok[1], m, nm), spoollen);
		for (i = 0; i < nt; i++)
			free(tok[i]);
	}
	for (i = 0; i < nm; i++) {
		free(m[i].name);
		free(m[i].value);
	}
	buf_free(&line);
}

void
ctl_locate(const char *sock_opt, const char *conf, char *sock,
    size_t socklen, char *spool, size_t spoollen)
{
	struct buf	 text;
	FILE		*fp;
	char		 b[4096];
	size_t		 n;

	strlcpy(sock, SMTPD_SOCKET_DEFAULT, socklen);
	strlcpy(spool, SMTPD_SPOOL_DEFAULT, spoollen);
	if (conf == NULL)
		conf = SMTPD_CONFIG_DEFAULT;
	if ((fp = fopen(conf, "r")) != NULL) {
		buf_init(&text);
		while ((n = fread(b, 1, sizeof(b), fp)) > 0 &&
		    text.len < 16 * 1024 * 1024)
			buf_add(&text, b, n);
		fclose(fp);
		ctl_conf_scan(text.data ? text.data : "", text.len, sock,
		    socklen, spool, spoollen);
		buf_free(&text);
	}
	if (sock_opt)
		strlcpy(sock, sock_opt, socklen);
}
