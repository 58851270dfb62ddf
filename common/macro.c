/*
 * Macros of smtpd.conf: `name = value` in the file, and -D name=value on
 * the command line (config_define), which persists across reloads and
 * wins over the file's definitions.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "parse.h"

struct macro {
	struct macro	*next;
	char		*name;
	char		*value;
	int		 persist;	/* -D */
};

static struct macro	*macros;

static char *
macro_strdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		abort();
	return p;
}

void
macro_set(const char *name, const char *value, int persist)
{
	struct macro	*m;

	for (m = macros; m != NULL; m = m->next)
		if (strcmp(m->name, name) == 0)
			break;
	if (m != NULL) {
		if (m->persist && !persist)
			return;		/* -D wins */
		free(m->value);
		m->value = macro_strdup(value);
		m->persist = persist;
		return;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		abort();
	m->name = macro_strdup(name);
	m->value = macro_strdup(value);
	m->persist = persist;
	m->next = macros;
	macros = m;
}

const char *
macro_get(const char *name)
{
	struct macro	*m;

	for (m = macros; m != NULL; m = m->next)
		if (strcmp(m->name, name) == 0)
			return m->value;
	return NULL;
}

void
parse_clear_macros(void)
{
	struct macro	*m, **pm;

	for (pm = &macros; (m = *pm) != NULL; ) {
		if (m->persist) {
			pm = &m->next;
			continue;
		}
		*pm = m->next;
		free(m->name);
		free(m->value);
		free(m);
	}
}

int
config_define(const char *nameval)
{
	const char	*eq, *s;
	char		*name;

	if (nameval == NULL || (eq = strchr(nameval, '=')) == NULL ||
	    eq == nameval)
		return -1;
	for (s = nameval; s < eq; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return -1;
	if ((name = strndup(nameval, (size_t)(eq - nameval))) == NULL)
		abort();
	macro_set(name, eq + 1, 1);
	free(name);
	return 0;
}
