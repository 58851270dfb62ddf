/*
 * Socket and TLS I/O of smtp sessions: non-blocking reads into the
 * session's input buffer, replies written in as few writes as possible
 * (a pipelined batch is flushed once, when nothing is pending), the TLS
 * handshake, and the idle/line timer.
 */
#include <errno.h>
#include <event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "smtp.h"

static void	smtp_io_update(struct smtp_session *);

static time_t
timeout_of(struct smtp_session *s)
{
	if (s->state == S_DATA || s->state == S_BDAT)
		return env->timeout_data > 0 ? env->timeout_data : 600;
	return env->timeout > 0 ? env->timeout : 300;
}

void
smtp_io_timer(struct smtp_session *s)
{
	struct timeval	 tv;

	tv.tv_sec = timeout_of(s);
	tv.tv_usec = 0;
	evtimer_add(&s->ev_timer, &tv);
}

void
smtp_io_free(struct smtp_session *s)
{
	smtp_session_cleanup(s);
	event_del(&s->ev_read);
	event_del(&s->ev_write);
	evtimer_del(&s->ev_timer);
	if (s->tls) {
		tls_close(s->tls);
		tls_free(s->tls);
	}
	close(s->fd);
	buf_free(&s->in);
	buf_free(&s->out);
	buf_free(&s->msgbuf);
	smtp_session_unregister(s);
	free(s);
}

/* Write what is queued.  -1 if the connection is dead. */
static int
smtp_io_write(struct smtp_session *s)
{
	ssize_t	 n;

	while (s->out.len > 0) {
		if (s->tls) {
			n = tls_write(s->tls, s->out.data, s->out.len);
			if (n == TLS_WANT_POLLOUT || n == TLS_WANT_POLLIN) {
				s->write_on = 1;
				return 0;
			}
			if (n < 0) {
				log_debug("smtp session=%s event=tls-write-error "
				    "error=\"%s\"", s->id_str, tls_error(s->tls));
				return -1;
			}
		} else {
			n = write(s->fd, s->out.data, s->out.len);
			if (n == -1) {
				if (errno == EAGAIN || errno == EINTR) {
					s->write_on = 1;
					return 0;
				}
				return -1;
			}
		}
		buf_consume(&s->out, (size_t)n);
	}
	s->write_on = 0;
	return 0;
}

/* Read what is available.  -1 on EOF or error. */
static int
smtp_io_read(struct smtp_session *s)
{
	ssize_t	 n;
	size_t	 total = 0;

	for (;;) {
		buf_reserve(&s->in, SMTP_READ_CHUNK);
		if (s->tls) {
			n = tls_read(s->tls, s->in.data + s->in.len,
			    SMTP_READ_CHUNK);
			if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT)
				return 0;
			if (n < 0) {
				log_debug("smtp session=%s event=tls-read-error "
				    "error=\"%s\"", s->id_str, tls_error(s->tls));
				return -1;
			}
		} else {
			n = read(s->fd, s->in.data + s->in.len,
			    SMTP_READ_CHUNK);
			if (n == -1)
				return (errno == EAGAIN || errno == EINTR) ?
				    0 : -1;
		}
		if (n == 0)
			return -1;
		s->in.len += (size_t)n;
		s->in.data[s->in.len] = '\0';
		total += (size_t)n;
		/* plain sockets: one read per event is enough; TLS may
		 * hold decrypted records the poll cannot see */
		if (!s->tls || total >= 16 * SMTP_READ_CHUNK)
			return 0;
	}
}

/* 1 when done, 0 when it needs I/O, -1 when failed (session freed). */
static int
smtp_io_handshake(struct smtp_session *s)
{
	int	 r;

	r = tls_handshake(s->tls);
	if (r == TLS_WANT_POLLIN || r == TLS_WANT_POLLOUT) {
		s->tls_want = r;
		return 0;
	}
	s->tls_want = 0;
	if (r == -1) {
		log_info("smtp session=%s event=tls-failed address=%s "
		    "error=\"%s\"", s->id_str, s->addr, tls_error(s->tls));
		smtp_io_free(s);
		return -1;
	}
	s->state = S_CMD;
	smtp_session_tls_done(s);
	return 1;
}

/* Start the server side of TLS on the socket.  -1 on failure. */
int
smtp_io_starttls(struct smtp_session *s)
{
	if (tls_accept_socket(s->lctx->tls, &s->tls, s->fd) == -1) {
		log_warnx("smtp session=%s event=tls-accept error=\"%s\"",
		    s->id_str, tls_error(s->lctx->tls));
		return -1;
	}
	s->state = S_TLS_ACCEPT;
	smtp_io_timer(s);
	return 0;
}

/*
 * The one place where a session moves on: run the state machine over
 * buffered input, flush replies unless an answer is pending (so that a
 * pipelined batch goes out in one write), close after QUIT, and set the
 * events.  May free the session.
 */
void
smtp_io_pump(struct smtp_session *s)
{
	if (s->state == S_TLS_ACCEPT) {
		switch (smtp_io_handshake(s)) {
		case -1:
			return;
		case 0:
			smtp_io_update(s);
			return;
		}
	}
	if (!s->quit && !s->starttls)
		smtp_session_process(s);
	if (s->wait == W_NONE || s->quit) {
		if (smtp_io_write(s) == -1) {
			smtp_io_free(s);
			return;
		}
	}
	if (s->out.len == 0) {
		if (s->quit) {
			smtp_io_free(s);
			return;
		}
		if (s->starttls) {
			s->starttls = 0;
			if (smtp_io_starttls(s) == -1) {
				smtp_io_free(s);
				return;
			}
			smtp_io_pump(s);
			return;
		}
	}
	smtp_io_update(s);
}

void
smtp_io_flush(struct smtp_session *s)
{
	smtp_io_pump(s);
}

static void
smtp_io_update(struct smtp_session *s)
{
	int	 want_read, want_write;

	if (s->state == S_TLS_ACCEPT) {
		want_read = s->tls_want == TLS_WANT_POLLIN;
		want_write = s->tls_want == TLS_WANT_POLLOUT;
	} else {
		want_read = s->wait == W_NONE && !s->quit && !s->starttls &&
		    s->state != S_CONNECTING;
		want_write = s->write_on && s->out.len > 0;
	}
	if (want_read && !s->read_on)
		event_add(&s->ev_read, NULL);
	else if (!want_read && s->read_on)
		event_del(&s->ev_read);
	s->read_on = want_read;
	event_del(&s->ev_write);
	if (want_write)
		event_add(&s->ev_write, NULL);
}

static void
smtp_io_on_read(int fd, short ev, void *arg)
{
	struct smtp_session	*s = arg;

	(void)fd;
	(void)ev;
	if (s->state == S_TLS_ACCEPT) {
		smtp_io_pump(s);
		return;
	}
	if (smtp_io_read(s) == -1) {
		log_debug("smtp session=%s event=eof", s->id_str);
		smtp_io_free(s);
		return;
	}
	if (s->state == S_DATA || s->state == S_BDAT)
		smtp_io_timer(s);
	smtp_io_pump(s);
}

static void
smtp_io_on_write(int fd, short ev, void *arg)
{
	struct smtp_session	*s = arg;

	(void)fd;
	(void)ev;
	if (s->state == S_TLS_ACCEPT) {
		smtp_io_pump(s);
		return;
	}
	if (smtp_io_write(s) == -1) {
		smtp_io_free(s);
		return;
	}
	smtp_io_pump(s);
}

static void
smtp_io_on_timer(int fd, short ev, void *arg)
{
	struct smtp_session	*s = arg;
	struct timeval		 tv = { 10, 0 };

	(void)fd;
	(void)ev;
	if (s->quit || s->state == S_TLS_ACCEPT) {
		smtp_io_free(s);
		return;
	}
	smtp_session_timeout(s);
	evtimer_add(&s->ev_timer, &tv);	/* last chance to read the 421 */
	smtp_io_pump(s);
}

void
smtp_io_start(struct smtp_session *s)
{
	event_set(&s->ev_read, s->fd, EV_READ | EV_PERSIST, smtp_io_on_read,
	    s);
	event_set(&s->ev_write, s->fd, EV_WRITE, smtp_io_on_write, s);
	evtimer_set(&s->ev_timer, smtp_io_on_timer, s);
	smtp_io_timer(s);
}
