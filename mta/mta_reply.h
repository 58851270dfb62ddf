/*
 * SMTP replies as a client reads them: a pure, incremental parser that
 * is safe against hostile servers (bounded line and reply sizes, bare
 * code lines, disagreeing multi-line codes, garbage), and the EHLO
 * extension list read from a complete reply.
 */
#ifndef MTA_REPLY_H
#define MTA_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define MTA_REPLY_LINE_MAX	1000	/* RFC 5321 says 512; be lenient */
#define MTA_REPLY_LINES_MAX	64
#define MTA_REPLY_SIZE_MAX	(16 * 1024)
#define MTA_REPLY_TEXT_MAX	512	/* summary line kept for results */

enum mta_reply_status {
	MTA_REPLY_MORE,		/* need more bytes */
	MTA_REPLY_DONE,		/* one whole reply parsed */
	MTA_REPLY_ERROR		/* protocol error: drop the connection */
};

struct mta_reply {
	int		 code;		/* 0 until the first line */
	int		 nlines;
	size_t		 size;		/* bytes of this reply so far */
	struct buf	 lines;		/* text of each line, '\n'-ended */
	char		 summary[MTA_REPLY_TEXT_MAX];	/* "250 text..." */
	const char	*error;		/* when MTA_REPLY_ERROR */
};

void	mta_reply_init(struct mta_reply *);
void	mta_reply_reset(struct mta_reply *);
void	mta_reply_free(struct mta_reply *);

/*
 * Read complete lines from data (len bytes) until one reply is complete.
 * *consumed is set to the bytes used (whole lines only).  A partial line
 * longer than MTA_REPLY_LINE_MAX is an error.  Pure: no I/O, no globals.
 */
enum mta_reply_status mta_reply_parse(struct mta_reply *, const char *data,
	    size_t len, size_t *consumed);

#define MTA_EXT_STARTTLS	0x0001
#define MTA_EXT_AUTH_PLAIN	0x0002
#define MTA_EXT_AUTH_LOGIN	0x0004
#define MTA_EXT_SIZE		0x0008
#define MTA_EXT_8BITMIME	0x0010
#define MTA_EXT_SMTPUTF8	0x0020
#define MTA_EXT_DSN		0x0040
#define MTA_EXT_PIPELINING	0x0080
#define MTA_EXT_ENHANCED	0x0100
#define MTA_EXT_AUTH		0x0200	/* AUTH offered, any mechanism */

/* Extensions of a complete EHLO reply; *maxsize from SIZE (0 none). */
unsigned mta_reply_ehlo(const struct mta_reply *, uint64_t *maxsize);

/* 1 if the text of the reply starts with an enhanced status "X.Y.Z". */
int	mta_reply_has_status(const char *text);

#endif
