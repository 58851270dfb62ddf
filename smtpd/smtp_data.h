/*
 * The message body filter of the smtp process: a pure streaming state
 * machine fed with the bytes of DATA (dot-unstuffing, CRLF "." CRLF as
 * the only end, bare CR/LF, NUL, line length, size, Received count) or
 * of BDAT chunks, and the Received header builder.
 */
#ifndef SMTPD_SMTP_DATA_H
#define SMTPD_SMTP_DATA_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

#define SMTP_DATA_LINE_MAX	1000	/* RFC 5321 4.5.3.1.6, CRLF incl. */

/* First error seen, each mapped to one reply after the end of data. */
#define SMTP_DATA_OK		0
#define SMTP_DATA_EBARE		1	/* bare CR or LF: 550 5.6.0 */
#define SMTP_DATA_ENUL		2	/* NUL octet: 550 5.6.0 */
#define SMTP_DATA_ELONG		3	/* line > 1000: 550 5.6.0 */
#define SMTP_DATA_ESIZE		4	/* over max size: 552 5.3.4 */
#define SMTP_DATA_ELOOP		5	/* too many Received: 554 5.4.6 */

/*
 * Where the filter puts the message: called with spans of the input
 * (valid until the caller consumes its input), or with constant text.
 * smtp_data_emit_buf appends to a struct buf given as arg.
 */
typedef void	(*smtp_data_emit_cb)(void *arg, const char *, size_t);
void	smtp_data_emit_buf(void *arg, const char *, size_t);

struct smtp_data {
	/* set by smtp_data_init */
	smtp_data_emit_cb emit;
	void		*emit_arg;
	int		 dot;		/* DATA (1) or BDAT (0) */
	uint64_t	 max_size;	/* 0: unlimited */
	unsigned	 max_hops;	/* 0: unlimited */
	const char	*add_date;	/* header line (CRLF incl.) to add
					 * when Date: is missing, or NULL */
	const char	*add_msgid;	/* same for Message-ID: */

	/* state */
	int		 bol;		/* at the beginning of a line */
	int		 prev_crlf;	/* the last line ended in CRLF */
	int		 cr;		/* last octet was a CR */
	int		 dotfirst;	/* this line began with a '.' */
	size_t		 linelen;	/* octets of this line so far */
	int		 in_headers;
	char		 hdr[16];	/* start of the current line */
	size_t		 hdrlen;
	unsigned	 received;
	int		 has_date, has_msgid;
	uint64_t	 size;		/* octets written to out */
	int		 err;		/* SMTP_DATA_* */
	int		 done;		/* the end of data was seen */
};

void	smtp_data_init(struct smtp_data *, int dot, uint64_t max_size,
	    unsigned max_hops, const char *add_date, const char *add_msgid,
	    smtp_data_emit_cb, void *emit_arg);
/*
 * Feed len octets; the message (unstuffed) goes to the emit callback,
 * in spans of the input where possible (no copy).  Returns
 * the octets consumed: in DATA mode it stops right after the end of data
 * (done set), in BDAT mode it takes everything.  Once an error is set
 * nothing more is emitted, but the input is still consumed.
 */
size_t	smtp_data_feed(struct smtp_data *, const char *, size_t);
/* End of the message (after the dot, or BDAT LAST): final checks,
 * headers still to add.  Returns err. */
int	smtp_data_finish(struct smtp_data *);
/* The reply line for an error ("550 5.6.0 ..."), NULL for OK. */
const char *smtp_data_strerror(int);

#endif
