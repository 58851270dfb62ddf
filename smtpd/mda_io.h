/*
 * Streaming of a queued message into a delivery target through bounded
 * buffers: a line reader over the message fd (CRLF or LF lines), a
 * buffered writer with a pluggable flush, and the copy loop that adds
 * Return-Path/Delivered-To and applies mboxrd escaping or dot-stuffing.
 */
#ifndef SMTPD_MDA_IO_H
#define SMTPD_MDA_IO_H

#include <sys/types.h>
#include <stddef.h>

struct envelope;

#define MDA_IOBUF	65536

struct mda_reader {
	int	 fd;
	off_t	 off;		/* next pread offset */
	size_t	 pos, len;	/* unread bytes: buf[pos..len) */
	int	 eof;
	int	 bol;		/* the next chunk starts a line */
	char	 buf[MDA_IOBUF];
};

/* Returns 0 to go on, -1 on error (errno set). */
typedef int	(*mda_flush_fn)(void *arg, const char *, size_t);

struct mda_writer {
	int		 fd;
	mda_flush_fn	 flush;		/* NULL: write(2) everything to fd */
	void		*arg;
	size_t		 len;
	int		 error;		/* errno of the first failure */
	char		 buf[MDA_IOBUF];
};

#define MDA_COPY_CRLF		0x01	/* lines end with CRLF, else LF */
#define MDA_COPY_MBOXRD		0x02	/* >*From  gets one more > */
#define MDA_COPY_DOTSTUFF	0x04	/* leading . doubled */

void	mda_reader_init(struct mda_reader *, int fd);
/*
 * Next piece of the message: *p, *n is the content without its line
 * terminator (CRLF or LF); *bol says it starts a line, *eol that a
 * terminator followed it.  A line longer than the buffer comes in
 * several pieces.  1: a piece, 0: end, -1: read error (errno).
 */
int	mda_reader_next(struct mda_reader *, const char **p, size_t *n,
	    int *bol, int *eol);

void	mda_writer_init(struct mda_writer *, int fd, mda_flush_fn, void *);
void	mda_writer_add(struct mda_writer *, const void *, size_t);
/* 0 or -1 (errno = the first error). */
int	mda_writer_flush(struct mda_writer *);

/*
 * Return-Path and Delivered-To, then the message with the flags' line
 * endings and escaping; a last line without terminator gets one.
 * Returns 0 or -1: *rerr says whether reading (1) or writing (0) failed,
 * errno the cause.  The writer is flushed.
 */
int	mda_copy_message(int msgfd, struct mda_writer *,
	    const struct envelope *, int flags, int *rerr);

#endif
