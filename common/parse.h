/*
 * Between the grammar (parse.y) and the configuration loader (config.c):
 * the parser fills a config whose defaults config.c has set, and both
 * report errors the same way, "FILE:LINE: message" on stderr.
 */
#ifndef SMTPD_PARSE_H
#define SMTPD_PARSE_H

#include "config.h"

/* Parse path into cfg; returns the number of errors printed. */
int	parse_config(struct smtpd_config *, const char *path);
/* Macros (macro.c); persist marks -D ones, which a file cannot change. */
void		 macro_set(const char *name, const char *value, int persist);
const char	*macro_get(const char *name);
/* Drop the macros of the last file (keeps those of -D). */
void		 parse_clear_macros(void);

/* config.c helpers the grammar calls. */
void	config_error(const char *file, int line, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* Add one listener per address of name; -1 with err set. */
int	config_listen(struct smtpd_config *, const struct listener *tmpl,
	    const char *name, char *err, size_t errlen);
/* Read cert and key files into memory; -1 with err set. */
int	config_pki_load(struct pki *, char *err, size_t errlen);
/* Whole-config checks after the grammar; returns the number of errors. */
int	config_check(struct smtpd_config *);

#endif
