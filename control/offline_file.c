/*
 * The offline spool file format, pure (offline.c writes and picks the
 * files up): "smtpctl-offline 1", then "sender", "rcpt", "body", "ret",
 * "notify" and "envid" lines, a blank line, and the message with LF line
 * ends.  A value holding a control character is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sendmail.h"

#define OFFLINE_MAGIC		"smtpctl-offline 1"

/* A value may not hold a control character (it would forge a line). */
static int
offline_value_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

void
offline_dump(const struct sm_job *j, struct buf *out)
{
	size_t	 i;

	buf_printf(out, "%s\n", OFFLINE_MAGIC);
	buf_printf(out, "sender %s\n", j->sender ? j->sender : "");
	for (i = 0; i < j->nrcpts; i++)
		buf_printf(out, "rcpt %s\n", j->rcpts[i]);
	if (j->body[0])
		buf_printf(out, "body %s\n", j->body);
	if (j->ret[0])
		buf_printf(out, "ret %s\n", j->ret);
	if (j->notify[0])
		buf_printf(out, "notify %s\n", j->notify);
	if (j->envid)
		buf_printf(out, "envid %s\n", j->envid);
	buf_addc(out, '\n');
	buf_add(out, j->msg.data ? j->msg.data : "", j->msg.len);
}

int
offline_load(struct sm_job *j, const char *text, size_t len, char *err,
    size_t errlen)
{
	const char	*p = text, *end = text + len, *eol;
	char		*line, *val;
	size_t		 ll;
	int		 lineno = 0, ok;

	sm_job_init(j);
	for (;;) {
		if (p >= end || (eol = memchr(p, '\n', end - p)) == NULL) {
			snprintf(err, errlen, "truncated header");
			goto fail;
		}
		ll = (size_t)(eol - p);
		lineno++;
		if (ll == 0 && lineno > 1)
			break;
		if ((line = strndup(p, ll)) == NULL)
			fatal("offline_load");
		p = eol + 1;
		if (strlen(line) != ll || !offline_value_ok(line)) {
			free(line);
			snprintf(err, errlen, "line %d: bad characters",
			    lineno);
			goto fail;
		}
		if (lineno == 1) {
			ok = strcmp(line, OFFLINE_MAGIC) == 0;
			free(line);
			if (!ok) {
				snprintf(err, errlen, "not an offline file");
				goto fail;
			}
			continue;
		}
		if ((val = strchr(line, ' ')) == NULL) {
			free(line);
			snprintf(err, errlen, "line %d: no value", lineno);
			goto fail;
		}
		*val++ = '\0';
		ok = 1;
		if (strcmp(line, "sender") == 0 && j->sender == NULL) {
			if ((j->sender = strdup(val)) == NULL)
				fatal("offline_load");
		} else if (strcmp(line, "rcpt") == 0 && *val)
			sm_job_add_rcpt(j, val);
		else if (strcmp(line, "body") == 0)
			ok = strlcpy(j->body, val, sizeof(j->body)) <
			    sizeof(j->body);
		else if (strcmp(line, "ret") == 0)
			ok = strlcpy(j->ret, val, sizeof(j->ret)) <
			    sizeof(j->ret);
		else if (strcmp(line, "notify") == 0)
			ok = strlcpy(j->notify, val, sizeof(j->notify)) <
			    sizeof(j->notify);
		else if (strcmp(line, "envid") == 0 && j->envid == NULL) {
			if ((j->envid = strdup(val)) == NULL)
				fatal("offline_load");
		} else
			ok = 0;
		free(line);
		if (!ok) {
			snprintf(err, errlen, "line %d: unknown or bad field",
			    lineno);
			goto fail;
		}
	}
	p = eol + 1;
	if (j->sender == NULL || j->nrcpts == 0) {
		snprintf(err, errlen, "no sender or no recipient");
		goto fail;
	}
	buf_add(&j->msg, p, end - p);
	return 0;
fail:
	sm_job_free(j);
	sm_job_init(j);
	return -1;
}
