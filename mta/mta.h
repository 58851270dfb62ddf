/*
 * The mta process's internal interfaces.  A task is one message
 * transaction (one sender, up to MTA_TASK_RCPT_MAX recipients sharing a
 * route); it walks its hop list (mta_route.c) through connectors, one per
 * distinct hop, which own the sessions (mta_session.c) to that hop.
 */
#ifndef MTA_H
#define MTA_H

#include <sys/queue.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "envelope.h"
#include "route.h"

#define MTA_TASK_RCPT_MAX	100
#define MTA_CONN_PER_HOP	5	/* parallel sessions to one hop */
#define MTA_CONN_PER_DOMAIN	20	/* parallel transactions, one domain */
#define MTA_MSG_PER_CONN	100	/* messages per session */
#define MTA_IDLE_TIMEOUT	5	/* seconds an idle session stays */
#define MTA_CONNECT_TIMEOUT	30
#define MTA_REPLY_TIMEOUT	300	/* whole reply, not per byte */
#define MTA_COOLDOWN		60	/* relay health, doubling */
#define MTA_COOLDOWN_MAX	3600

enum mta_rcpt_status {
	RCPT_PENDING,		/* not yet answered by a hop */
	RCPT_ACCEPTED,		/* RCPT 2xx, waiting for the end of DATA */
	RCPT_OK,
	RCPT_TEMPFAIL,
	RCPT_PERMFAIL
};

struct mta_rcpt {
	uint64_t		 evpid;
	char			 addr[ADDR_MAX];
	char			 orcpt[ADDR_MAX];	/* "rfc822;addr" */
	unsigned		 dsn_notify;
	enum mta_rcpt_status	 status;
	int			 reported;
	char			 line[512];
	/* the hop that gave the final answer ("" none) and whether it
	 * offered DSN (NOTIFY passed on): for queue's notices */
	char			 hop[RELAY_HOST_MAX + 1];
	int			 remote_dsn;
};

struct mta_connector;
struct mta_domain;
struct mta_session;

struct mta_task {
	TAILQ_ENTRY(mta_task)	 entry;
	uint64_t		 id;		/* for logs */
	uint32_t		 msgid;
	char			 key[1024];	/* grouping of envelopes */
	int			 fd;		/* message, read only */
	char			 sender[ADDR_MAX];
	unsigned		 flags;		/* EF_* */
	enum dsn_ret		 dsn_ret;
	char			 dsn_envid[128];
	uint64_t		 size;
	int			 bytes_counted;	/* mta.bytes sent */
	struct mta_rcpt		*rcpts;
	size_t			 nrcpts;
	struct route_hop	*hops;
	size_t			 nhops;
	size_t			 cur;		/* hop being tried */
	int			 plain;		/* opportunistic fallback */
	int			 random;
	int			 remote_dsn;	/* current hop offers DSN */
	int			 body8;		/* 0 unknown, 1 7-bit clean,
						 * 2 8-bit (mta_body.c) */
	char			 lasterr[512];
	struct mta_connector	*conn;		/* waiting there */
	struct mta_domain	*dom;		/* of the first recipient */
	int			 held;		/* counted in dom->active */
};
TAILQ_HEAD(mta_tasklist, mta_task);

/* mta.c */
/* Send the recipient's final result to queue (once). */
void	mta_result(struct mta_task *, struct mta_rcpt *);
uint64_t mta_newid(void);

/* mta_route.c: the failover walk, connectors, relay health */
void	mta_route_init(void);
void	mta_task_start(struct mta_task *);
void	mta_task_free(struct mta_task *);
/* The current hop failed for the task's pending recipients;
 * tls_fallback: a failed opportunistic handshake (same hop, plain). */
void	mta_task_hop_failed(struct mta_task *, const char *why,
	    int tls_fallback);
/* The transaction ended (every recipient has a result). */
void	mta_task_done(struct mta_task *, const char *tlsdesc);
/* A session is set up and free: give it a waiting task or let it idle. */
void	mta_connector_ready(struct mta_connector *, struct mta_session *);
/* A session failed before it could serve a task. */
void	mta_connector_session_failed(struct mta_connector *,
	    struct mta_session *, const char *why, int tls_fallback);
/* A session is gone (after mta_connector_ready or a task). */
void	mta_connector_session_closed(struct mta_connector *,
	    struct mta_session *);
const struct route_hop *mta_connector_hop(const struct mta_connector *);
int	mta_connector_plain(const struct mta_connector *);
void	mta_health_ok(const char *addr, unsigned port);
void	mta_health_fail(const char *addr, unsigned port, const char *host,
	    const char *why);
int	mta_health_cooling(const char *addr, unsigned port);

/* Relay list for show relays: call fn for each relay. */
struct mta_relay_info {
	const char	*addr;
	const char	*host;
	unsigned	 port;
	unsigned	 fails;
	time_t		 cooldown_until;
	time_t		 last_fail;
	time_t		 last_ok;
	const char	*last_error;
	unsigned long	 delivered;
	unsigned long	 failed;
	unsigned	 sessions;
	unsigned	 waiting;
};
void	mta_relay_foreach(void (*)(const struct mta_relay_info *, void *),
	    void *);

/* mta_session.c */
struct mta_session *mta_session_new(struct mta_connector *);
/* Give an idle/ready session a task: start the transaction. */
void	mta_session_assign(struct mta_session *, struct mta_task *);
/* Close an idle session now (QUIT). */
void	mta_session_quit(struct mta_session *);
/* "TLSv1.3" or "none". */
const char *mta_session_tlsdesc(struct mta_session *);

/* mta_limits.c: the configured limits, else the defaults above */
unsigned mta_conn_per_hop(void);
unsigned mta_conn_per_domain(void);
unsigned mta_msg_per_conn(void);
int	mta_timeout_connect(void);
int	mta_timeout_reply(void);
int	mta_timeout_idle(void);

/* mta_body.c: 1 if only 7-bit data (no byte >= 0x80, no NUL), else 0;
 * mta_body_7bit reads the file from offset 0 (-1 on a read error). */
int	mta_body_7bit_buf(const void *, size_t);
int	mta_body_7bit(int fd);

/* mta_tls.c */
void	mta_tls_init(void);		/* before the privilege drop */
void	mta_tls_reload(struct imsg *);	/* IMSG_RELOAD_MTA */
struct tls *mta_tls_client(const struct route_hop *, int verify,
	    char *err, size_t errlen);

/* mta_ctl.c */
struct imsg;
void	mta_on_ctl(struct imsg *);

#endif
