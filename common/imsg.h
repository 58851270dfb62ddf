/*
 * The project's own imsg: length-framed, typed messages over a socketpair,
 * at most one fd per message (SCM_RIGHTS), non-blocking I/O driven by
 * libevent.  Each message is written with the builder (m_create, m_add_*,
 * m_close) and read with the reader (m_msg, m_get_*, m_end) in the same
 * visible order.  Every field carries a type tag, so a short, long or
 * mistyped message is detected, never misread.
 *
 * Wire format of a message: a 16-byte header
 *	uint32 len (whole message, header included), uint32 type,
 *	uint32 peerid, uint32 flags (bit 0: an fd travels with it)
 * followed by fields, each: uint8 tag, then
 *	M_U32: 4 bytes, M_U64: 8 bytes, M_INT: 8 bytes (int64),
 *	M_STR: uint32 n, n bytes, a NUL (n excludes it; no NUL inside),
 *	M_DATA: uint32 n, n bytes.
 * Host byte order: both ends are the same binary on the same machine.
 */
#ifndef SMTPD_IMSG_H
#define SMTPD_IMSG_H

#include <stddef.h>
#include <stdint.h>

#define IMSG_HDR_SIZE	16
#define IMSG_MAX_SIZE	(256 * 1024)	/* whole message, header included */

struct imsg {
	uint32_t	 type;
	uint32_t	 peerid;	/* request or session id, echoed back */
	int		 fd;		/* -1 when none; the receiver owns it */
	const uint8_t	*data;		/* fields, valid during the callback */
	size_t		 len;
};

struct imsgchan;

/*
 * Called for each complete message.  After on_msg returns, the data is
 * gone; an fd not taken (set to -1 in the imsg) is closed.
 */
typedef void	(*imsg_msg_cb)(struct imsgchan *, struct imsg *, void *);
/* Called once when the peer is gone (EOF, EPIPE, read error, or a
 * malformed frame).  The channel is closed before the call. */
typedef void	(*imsg_close_cb)(struct imsgchan *, const char *why, void *);

/* Takes ownership of fd (made non-blocking).  Needs an event base set up
 * with event_init() / the libevent default base. */
struct imsgchan	*imsgchan_new(int fd, const char *peername, imsg_msg_cb,
		    imsg_close_cb, void *arg);
void		 imsgchan_free(struct imsgchan *);
const char	*imsgchan_name(struct imsgchan *);
/* Bytes queued and not yet written. */
size_t		 imsgchan_pending(struct imsgchan *);
/* Write everything queued, blocking; used before exit. */
void		 imsgchan_flush(struct imsgchan *);

/* Builder.  m_create never fails; a message that grows past
 * IMSG_MAX_SIZE is a programming error (fatalx).  fd is sent with the
 * message and closed locally once sent; -1 for none. */
struct mbuild;
struct mbuild	*m_create(struct imsgchan *, uint32_t type, uint32_t peerid,
		    int fd);
void		 m_add_u32(struct mbuild *, uint32_t);
void		 m_add_u64(struct mbuild *, uint64_t);
void		 m_add_int(struct mbuild *, int64_t);
void		 m_add_str(struct mbuild *, const char *);	/* NULL: "" */
void		 m_add_data(struct mbuild *, const void *, size_t);
void		 m_close(struct mbuild *);
/* Convenience: a message with no fields. */
void		 m_compose(struct imsgchan *, uint32_t type, uint32_t peerid,
		    int fd);

/* Reader.  Getters return 0 or -1; after the first error all further
 * getters fail and m_end returns -1.  Strings and data point into the
 * message and are valid during the callback only. */
struct mreader {
	const uint8_t	*p;
	size_t		 left;
	int		 error;
};
void		 m_msg(struct mreader *, const struct imsg *);
int		 m_get_u32(struct mreader *, uint32_t *);
int		 m_get_u64(struct mreader *, uint64_t *);
int		 m_get_int(struct mreader *, int64_t *);
int		 m_get_str(struct mreader *, const char **);
int		 m_get_data(struct mreader *, const void **, size_t *);
/* 0 when every field was read without error and nothing is left. */
int		 m_end(struct mreader *);

/*
 * Pure frame parser, exposed for unit tests and the fuzz target: given
 * the bytes received so far, returns the length of the first complete
 * message (>= IMSG_HDR_SIZE), 0 if more bytes are needed, -1 if the
 * header is invalid (len < header or > IMSG_MAX_SIZE).
 */
long		 imsg_frame_len(const uint8_t *, size_t);

#endif
