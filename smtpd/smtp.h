/*
 * Internals of the smtp process shared by its files: smtp.c (process,
 * listeners, dispatch), smtp_io.c (socket and TLS I/O, timeouts) and
 * smtp_session.c (the ESMTP state machine).
 */
#ifndef SMTPD_SMTP_H
#define SMTPD_SMTP_H

#include <sys/types.h>
#include <sys/queue.h>

#include <event.h>
#include <stdint.h>
#include <tls.h>

#include "buf.h"
#include "config.h"
#include "envelope.h"
#include "imsg.h"
#include "smtp_data.h"

#define SMTP_READ_CHUNK		65536
#define SMTP_AUTH_LINE_MAX	2048	/* AUTH continuation lines */
#define SMTP_OUT_MAX		65536	/* replies unread by the client:
					 * stop reading and processing */

enum smtp_state {
	S_CONNECTING,		/* waiting for lka's connect verdict */
	S_TLS_ACCEPT,		/* smtps or STARTTLS handshake */
	S_CMD,			/* reading commands */
	S_AUTH_PLAIN,		/* waiting for the PLAIN response */
	S_AUTH_LOGIN_USER,
	S_AUTH_LOGIN_PASS,
	S_DATA,			/* reading the DATA body */
	S_BDAT			/* reading a BDAT chunk */
};

/* What the session waits for; input is not processed meanwhile. */
enum smtp_wait {
	W_NONE,
	W_CONNECT,
	W_RCPT,
	W_AUTH,
	W_VRFY,
	W_CREATE,
	W_COMMIT,
	W_DISKCHECK
};

struct smtp_lctx {
	struct listener		*l;
	struct event		 ev;
	struct tls		*tls;	/* server context, NULL without pki */
	int			 active;
};

struct smtp_rcpt {
	TAILQ_ENTRY(smtp_rcpt)	 entry;
	struct envelope		 evp;
};
TAILQ_HEAD(smtp_rcpts, smtp_rcpt);

struct smtp_session {
	uint32_t		 id;
	int			 fd;
	struct event		 ev_read;
	struct event		 ev_write;
	struct event		 ev_timer;
	struct tls		*tls;
	struct smtp_lctx	*lctx;		/* NULL: local enqueue */
	uint32_t		 lindex;	/* listener index or ~0 */
	const char		*hostname;
	char			 addr[64];	/* "local" for enqueue */
	uint16_t		 port;
	int			 is_local;
	int			 enqueue;
	uid_t			 uid;
	char			 id_str[9];

	struct buf		 in;
	size_t			 in_off;	/* commands consumed from in */
	struct buf		 out;
	enum smtp_state		 state;
	enum smtp_wait		 wait;
	int			 quit;		/* close once out is flushed */
	int			 starttls;	/* handshake once out is flushed */
	int			 eof;		/* the client closed its side */
	int			 out_full;	/* input left unprocessed until
						 * the replies are read */
	int			 smtps_pending;	/* connect check after TLS */
	int			 skip_line;	/* discarding an overlong line */
	int			 read_on, write_on;
	int			 tls_want;	/* TLS_WANT_POLL* of the I/O */

	int			 helo;		/* 0, 1 HELO, 2 EHLO */
	char			 helo_name[256];
	int			 tls_done;
	char			 auth_user[256];
	char			 auth_login_user[256];
	unsigned		 auth_failures;
	unsigned		 errors;

	/* transaction */
	int			 in_tx;
	char			 sender[ADDR_MAX];
	unsigned		 evflags;	/* EF_* */
	int			 smtputf8;
	enum dsn_ret		 dsn_ret;
	char			 dsn_envid[128];
	struct smtp_rcpts	 rcpts;
	unsigned		 nrcpt;
	unsigned		 nenv;		/* envelopes in rcpts */
	struct envelope		 pending;	/* RCPT waiting for lka */
	uint32_t		 msgid;		/* created, not committed */
	uint64_t		 msgsize;	/* octets written */
	int			 msgfd;
	struct smtp_data	 data;
	struct buf		 msgbuf;	/* the Received header */
	char			 add_date[96];
	char			 add_msgid[320];
	int			 msg_failed;	/* errno of a write error */
	uint64_t		 bdat_left;
	uint64_t		 bdat_chunk;
	int			 create_bdat;	/* CREATE asked for BDAT */
	int			 bdat_last;
	int			 bdat_active;
	char			 bdat_error[128];	/* reply once consumed */
};

/* smtp.c */
extern unsigned	smtp_nsessions;
struct smtp_session *smtp_session_find(uint32_t);
void	smtp_session_register(struct smtp_session *);
void	smtp_session_unregister(struct smtp_session *);
unsigned smtp_sessions_from(const char *addr);
void	smtp_stat(const char *, int);
void	smtp_stat_bytes(const char *, uint64_t);

/* smtp_io.c */
void	smtp_io_start(struct smtp_session *);
void	smtp_io_pump(struct smtp_session *);
void	smtp_io_flush(struct smtp_session *);
void	smtp_io_free(struct smtp_session *);
void	smtp_io_timer(struct smtp_session *);
int	smtp_io_starttls(struct smtp_session *);

/* smtp_session.c */
void	smtp_set_state(struct smtp_session *, enum smtp_state);
/* Start a session on fd (accepted, or from control for enqueue). */
/* smtp.c: listeners, for reload (smtp_reload.c) */
struct tls	*smtp_tls_server(struct pki *);
/* The listener now serving l's address and port, or NULL. */
struct smtp_lctx *smtp_lctx_find(const struct listener *);
/* Serve exactly the listeners of set (malloc'd, taken over): those not
 * in it are closed, sessions on them go on. */
void		 smtp_listeners_set(struct smtp_lctx **set, size_t n);
/* smtp_reload.c: IMSG_RELOAD_SMTP, _LISTENER, _COMMIT from the parent */
void		 smtp_reload_on_imsg(struct imsg *);

void	smtp_session_new(int fd, struct smtp_lctx *,
	    const struct sockaddr *, int enqueue, uid_t);
void	smtp_session_connected(struct smtp_session *);
void	smtp_session_tls_done(struct smtp_session *);
void	smtp_session_process(struct smtp_session *);
void	smtp_session_reply(struct smtp_session *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	smtp_session_cleanup(struct smtp_session *);
void	smtp_session_timeout(struct smtp_session *);
void	smtp_session_on_imsg(struct smtp_session *, struct imsg *);
void	smtp_orphan_imsg(struct imsg *);
void	smtp_session_tx_reset(struct smtp_session *);
void	smtp_session_reply_from(struct smtp_session *, const char *,
	    const char *);

#endif
