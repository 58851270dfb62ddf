/*
 * The client end of the control socket, used by smtpctl, sendmail, mailq
 * and the offline pickup.  The wire protocol is common/imsg over the unix
 * socket: the client sends one request at a time (type and payload as in
 * proto.h, peerid 0), and reads IMSG_CTL_REPLY text chunks until an
 * IMSG_CTL_END (u32 ok, str message) which may carry an fd (enqueue).
 */
#ifndef SMTPD_CTL_CLIENT_H
#define SMTPD_CTL_CLIENT_H

#include <stdint.h>

#include "imsg.h"

struct ctl_conn;

/* Connect to the socket at path; NULL with errno set on failure. */
struct ctl_conn	*ctl_open(const char *path);
void		 ctl_close(struct ctl_conn *);
/* Start a request; add fields with m_add_*, then m_close. */
struct mbuild	*ctl_create(struct ctl_conn *, uint32_t type);
/*
 * Run until the IMSG_CTL_END of the request; each text chunk goes to
 * on_text.  0 when the END came, -1 on a lost connection or after
 * timeout seconds (0: none).
 */
int		 ctl_wait(struct ctl_conn *,
		    void (*on_text)(const char *, void *), void *arg,
		    int timeout);
int		 ctl_ok(const struct ctl_conn *);
const char	*ctl_message(const struct ctl_conn *);
/* The fd that came with the END (-1 if none); the caller owns it. */
int		 ctl_take_fd(struct ctl_conn *);

#endif
