/*
 * Client side of the control socket protocol (see ctl_client.h): connect,
 * send one imsg request, collect the reply chunks and the end marker.
 * Runs its own libevent loop until the answer is complete.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_client.h"
#include "log.h"
#include "proto.h"

struct ctl_conn {
	struct imsgchan	*chan;
	int		 done;
	int		 lost;
	int		 ok;
	char		*msg;
	int		 fd;
	void		(*on_text)(const char *, void *);
	void		*arg;
};

static int	 ctl_event_ready;

static void
ctl_on_msg(struct imsgchan *chan, struct imsg *imsg, void *arg)
{
	struct ctl_conn	*c = arg;
	struct mreader	 r;
	const char	*s;
	uint32_t	 ok;

	(void)chan;
	m_msg(&r, imsg);
	switch (imsg->type) {
	case IMSG_CTL_REPLY:
		if (m_get_str(&r, &s) == -1 || m_end(&r) == -1)
			break;
		if (c->on_text)
			c->on_text(s, c->arg);
		return;
	case IMSG_CTL_END:
		if (m_get_u32(&r, &ok) == -1 || m_get_str(&r, &s) == -1 ||
		    m_end(&r) == -1)
			break;
		c->ok = ok != 0;
		free(c->msg);
		if ((c->msg = strdup(s)) == NULL)
			fatal("ctl_on_msg");
		c->fd = imsg->fd;
		imsg->fd = -1;
		c->done = 1;
		event_loopexit(NULL);
		return;
	}
	/* Anything else is a protocol error: give up on the daemon. */
	c->lost = 1;
	event_loopexit(NULL);
}

static void
ctl_on_close(struct imsgchan *chan, const char *why, void *arg)
{
	struct ctl_conn	*c = arg;

	(void)chan;
	(void)why;
	c->lost = 1;
	event_loopexit(NULL);
}

struct ctl_conn *
ctl_open(const char *path)
{
	struct sockaddr_un	 sun;
	struct ctl_conn		*c;
	int			 s, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return NULL;
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		close(s);
		errno = saved;
		return NULL;
	}
	if (!ctl_event_ready) {
		event_init();
		ctl_event_ready = 1;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("ctl_open");
	c->fd = -1;
	c->chan = imsgchan_new(s, "control", ctl_on_msg, ctl_on_close, c);
	return c;
}

void
ctl_close(struct ctl_conn *c)
{
	if (c == NULL)
		return;
	if (c->chan)
		imsgchan_free(c->chan);
	if (c->fd != -1)
		close(c->fd);
	free(c->msg);
	free(c);
}

struct mbuild *
ctl_create(struct ctl_conn *c, uint32_t type)
{
	c->done = 0;
	c->ok = 0;
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	return m_create(c->chan, type, 0, -1);
}

static void
ctl_on_timeout(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	((struct ctl_conn *)arg)->lost = 1;
	event_loopexit(NULL);
}

int
ctl_wait(struct ctl_conn *c, void (*on_text)(const char *, void *),
    void *arg, int timeout)
{
	struct event	 ev;
	struct timeval	 tv;

	if (c->lost)
		return -1;
	c->on_text = on_text;
	c->arg = arg;
	if (timeout > 0) {
		tv.tv_sec = timeout;
		tv.tv_usec = 0;
		evtimer_set(&ev, ctl_on_timeout, c);
		evtimer_add(&ev, &tv);
	}
	while (!c->done && !c->lost)
		event_loop(EVLOOP_ONCE);
	if (timeout > 0)
		evtimer_del(&ev);
	return c->done ? 0 : -1;
}

int
ctl_ok(const struct ctl_conn *c)
{
	return c->ok;
}

const char *
ctl_message(const struct ctl_conn *c)
{
	return c->msg ? c->msg : "";
}

int
ctl_take_fd(struct ctl_conn *c)
{
	int	 fd = c->fd;

	c->fd = -1;
	return fd;
}
