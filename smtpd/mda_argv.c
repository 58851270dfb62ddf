/*
 * The mda command line, split into an argument vector the way a careful
 * human reads it, never by a shell: quotes group, backslash escapes,
 * and nothing else (; | & $ ` < > * ~) has any meaning.  Pure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mda_deliver.h"

char **
mda_argv_split(const char *cmd, char *err, size_t errlen)
{
	size_t		 len = strlen(cmd), nwords = 0;
	char		**argv, *out, *w;
	const char	*p;
	int		 inword = 0;
	char		 q;

	/* Upper bound: every other character starts a word. */
	argv = calloc(1, (len / 2 + 2) * sizeof(char *) + len + 1);
	if (argv == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	out = (char *)(argv + len / 2 + 2);
	w = out;

	for (p = cmd; *p;) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
			if (inword) {
				*out++ = '\0';
				argv[nwords++] = w;
				inword = 0;
			}
			p++;
			continue;
		}
		if (!inword) {
			w = out;
			inword = 1;
		}
		if (*p == '\'' || *p == '"') {
			q = *p++;
			while (*p && *p != q) {
				if (q == '"' && *p == '\\' &&
				    (p[1] == '"' || p[1] == '\\'))
					p++;
				*out++ = *p++;
			}
			if (*p != q) {
				snprintf(err, errlen, "unterminated %c quote",
				    q);
				free(argv);
				return NULL;
			}
			p++;
			continue;
		}
		if (*p == '\\' && p[1] != '\0')
			p++;
		*out++ = *p++;
	}
	if (inword) {
		*out++ = '\0';
		argv[nwords++] = w;
	}
	if (nwords == 0) {
		snprintf(err, errlen, "empty command");
		free(argv);
		return NULL;
	}
	argv[nwords] = NULL;
	return argv;
}

void
mda_diag_escape(char *dst, size_t dstlen, const char *s, size_t n,
    size_t max)
{
	size_t		 o = 0, i;
	unsigned char	 c;
	char		 hex[5];

	if (dstlen == 0)
		return;
	if (n > max)
		n = max;
	for (i = 0; i < n; i++) {
		c = s[i];
		if (c == '\n' || c == '\r' || c == '\t') {
			if (o > 0 && dst[o - 1] == ' ')
				continue;
			c = ' ';
		}
		if (c >= 0x20 && c < 0x7f) {
			if (o + 1 >= dstlen)
				break;
			dst[o++] = c;
		} else {
			snprintf(hex, sizeof hex, "\\x%02x", c);
			if (o + 4 >= dstlen)
				break;
			memcpy(dst + o, hex, 4);
			o += 4;
		}
	}
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
}
