/*
 * Buffered, non-blocking outbound connection I/O over libevent, with
 * optional TLS (libtls).  The owner gets one callback per event and may
 * free the io (mta_io_close) from inside it.
 */
#ifndef MTA_IO_H
#define MTA_IO_H

#include <event.h>
#include <stddef.h>

#include "buf.h"

struct tls;

enum mta_io_event {
	MTA_IO_CONNECTED,	/* TCP connection established */
	MTA_IO_TLS_READY,	/* handshake done */
	MTA_IO_DATA,		/* bytes in io->in */
	MTA_IO_DRAINED,		/* output buffer fell below lowat */
	MTA_IO_CLOSED,		/* peer closed */
	MTA_IO_ERROR		/* io->error says why */
};

enum mta_io_state {
	MTA_IO_NONE,
	MTA_IO_CONNECTING,
	MTA_IO_HANDSHAKE,
	MTA_IO_UP,
	MTA_IO_DEAD
};

struct mta_io {
	int			 fd;
	struct tls		*tls;
	enum mta_io_state	 state;
	struct event		 ev;
	int			 ev_set;
	int			 tls_want;	/* EV_READ/EV_WRITE libtls asked */
	struct buf		 in;
	struct buf		 out;
	size_t			 lowat;
	int			 notify_drain;
	void			(*cb)(struct mta_io *, enum mta_io_event,
				    void *);
	void			*arg;
	char			 error[256];
};

void	mta_io_init(struct mta_io *, void (*)(struct mta_io *,
	    enum mta_io_event, void *), void *);
/* Non-blocking connect from src (may be "") to addr:port, Nagle off.
 * -1 with err on immediate failure (bad address, bind). */
int	mta_io_connect(struct mta_io *, const char *addr, unsigned port,
	    const char *src, char *err, size_t errlen);
/* Start a TLS handshake on the connection (ctx is owned by io). */
int	mta_io_starttls(struct mta_io *, struct tls *, const char *name);
/* Queue output; mta_io_flush sends it (one write when possible). */
void	mta_io_add(struct mta_io *, const void *, size_t);
void	mta_io_printf(struct mta_io *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	mta_io_flush(struct mta_io *);
/* Ask for MTA_IO_DRAINED once out is below lowat. */
void	mta_io_want_drain(struct mta_io *, size_t lowat);
void	mta_io_close(struct mta_io *);
const char *mta_io_tls_version(struct mta_io *);

#endif
