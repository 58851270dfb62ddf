/*
 * Tables: inline lists and maps, `file:` (key value / key: value / key),
 * and `xmail:` (XMail smtpfwd.tab: TAB-separated quoted fields).  Entries
 * keep file order, for glob routes.  Loading is all-or-nothing: a file
 * that does not parse leaves the table as it was and reports FILE:LINE.
 */
#ifndef SMTPD_TABLE_H
#define SMTPD_TABLE_H

#include <stddef.h>
#include <sys/queue.h>

enum table_backend {
	TABLE_INLINE,
	TABLE_FILE,
	TABLE_XMAIL
};

struct table_entry {
	char	*key;
	char	*value;		/* NULL for a list entry */
	char	*options;	/* xmail: third field, else NULL */
	int	 line;		/* in the file; inline: in smtpd.conf */
};

struct table {
	TAILQ_ENTRY(table) entry;
	char			 name[64];
	enum table_backend	 backend;
	char			*path;		/* file and xmail */
	struct table_entry	*entries;
	size_t			 nentries;
	const char		*conf_file;	/* where it was declared */
	int			 conf_line;
	/* Hash index of entries (table.c); rebuilt when out of step. */
	size_t			*hidx;		/* entry index + 1, 0: free */
	size_t			 hcap;
	size_t			 hcount;
};
TAILQ_HEAD(tablelist, table);

struct table	*table_new(const char *name, enum table_backend,
		    const char *path);
void		 table_add(struct table *, const char *key,
		    const char *value, const char *options, int line);
void		 table_clear(struct table *);
void		 table_free(struct table *);
/* (Re)load a file or xmail table; -1 and "FILE:LINE: message" in err. */
int		 table_load(struct table *, char *err, size_t errlen);
/* Exact key, case-insensitive.  NULL if absent. */
const struct table_entry *table_lookup(const struct table *, const char *);
/* 1 if key is in the table (lists and maps alike). */
int		 table_has(const struct table *, const char *);
/* First entry whose key, as a glob (*, ?; case-insensitive), matches. */
const struct table_entry *table_match_glob(const struct table *,
		    const char *);
/* 1 if addr (numeric) is in a table of addresses and CIDRs. */
int		 table_match_addr(const struct table *, const char *addr);
/* 1 if s is an address or CIDR (v4 or v6) that table_match_addr reads. */
int		 table_valid_cidr(const char *);
/* Pure glob: `*` any run (dots included, empty too), `?` one char. */
int		 glob_match(const char *pattern, const char *s);

#endif
