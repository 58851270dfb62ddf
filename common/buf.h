/*
 * A growable byte buffer: the only place external data is copied into.
 * Every append checks for overflow and aborts on allocation failure
 * (fatal), so callers never handle a partial append.
 */
#ifndef SMTPD_BUF_H
#define SMTPD_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

void	 buf_init(struct buf *);
void	 buf_free(struct buf *);
void	 buf_reset(struct buf *);
void	 buf_reserve(struct buf *, size_t);
void	 buf_add(struct buf *, const void *, size_t);
void	 buf_addstr(struct buf *, const char *);
void	 buf_addc(struct buf *, char);
void	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Drop n bytes from the front. */
void	 buf_consume(struct buf *, size_t);
/* NUL-terminated view of the content (a NUL is kept past len). */
const char *buf_cstr(struct buf *);

#endif
