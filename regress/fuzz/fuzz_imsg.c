/*
 * Fuzz target for the imsg channel (common/imsg.c): the input is written
 * as a peer's byte stream into a real channel, which must frame it, hand
 * out whole messages or report a bad frame, and never misread; every
 * message is then read with a getter sequence chosen by its own bytes.
 * libFuzzer entry point; without -DFUZZ_LIBFUZZER it also builds as a
 * program that feeds each file named on the command line (or stdin).
 * fuzz-sources: common/imsg.c common/buf.c common/log.c
 */
#include <sys/socket.h>

#include <event.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	 fuzz_closed;

static void
fuzz_read(struct mreader *r, uint8_t op)
{
	const char	*s;
	const void	*d;
	size_t		 n;
	uint32_t	 u32;
	uint64_t	 u64;
	int64_t		 i64;

	switch (op % 5) {
	case 0:
		(void)m_get_u32(r, &u32);
		break;
	case 1:
		(void)m_get_u64(r, &u64);
		break;
	case 2:
		(void)m_get_int(r, &i64);
		break;
	case 3:
		if (m_get_str(r, &s) == 0)
			(void)strlen(s);	/* NUL-terminated in bounds */
		break;
	case 4:
		if (m_get_data(r, &d, &n) == 0 && n > IMSG_MAX_SIZE)
			abort();
		break;
	}
}

static void
fuzz_on_msg(struct imsgchan *c, struct imsg *imsg, void *arg)
{
	struct mreader	 r;
	size_t		 i;

	(void)c;
	(void)arg;
	if (imsg->len > IMSG_MAX_SIZE - IMSG_HDR_SIZE)
		abort();
	m_msg(&r, imsg);
	for (i = 0; i < 8 && i < imsg->len; i++)
		fuzz_read(&r, imsg->data[imsg->len - 1 - i]);
	if (m_end(&r) == 0 && r.left != 0)
		abort();
}

static void
fuzz_on_close(struct imsgchan *c, const char *why, void *arg)
{
	(void)c;
	(void)why;
	(void)arg;
	fuzz_closed = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 init;
	struct imsgchan	*c;
	struct timeval	 tv;
	long		 flen;
	size_t		 off, done = 0;
	ssize_t		 n;
	int		 sv[2], i;

	if (!init) {
		signal(SIGPIPE, SIG_IGN);
		event_init();
		init = 1;
	}
	/* The pure framer first: lengths stay within the input. */
	for (off = 0; off < size; off += (size_t)flen) {
		flen = imsg_frame_len(data + off, size - off);
		if (flen <= 0)
			break;
		if ((size_t)flen > size - off || flen < IMSG_HDR_SIZE)
			abort();
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return 0;
	fuzz_closed = 0;
	if (size == 0)
		close(sv[0]);
	c = imsgchan_new(sv[1], "fuzz", fuzz_on_msg, fuzz_on_close, NULL);
	for (i = 0; i < 10000 && !fuzz_closed; i++) {
		if (done < size) {
			n = write(sv[0], data + done, size - done);
			if (n > 0)
				done += (size_t)n;
			if (done == size)
				close(sv[0]);
		}
		tv.tv_sec = 0;
		tv.tv_usec = 1000;
		event_loopexit(&tv);
		event_loop(EVLOOP_ONCE);
	}
	if (done < size)
		close(sv[0]);
	if (!fuzz_closed)
		abort();	/* EOF was never reported */
	imsgchan_free(c);
	return 0;
}

#ifndef FUZZ_LIBFUZZER
int
main(int argc, char *argv[])
{
	static uint8_t	 data[1 << 20];
	FILE		*f;
	size_t		 n;
	int		 i;

	for (i = 1; i < argc || (argc == 1 && i == 1); i++) {
		f = argc > 1 ? fopen(argv[i], "rb") : stdin;
		if (f == NULL) {
			perror(argv[i]);
			return 1;
		}
		n = fread(data, 1, sizeof data, f);
		LLVMFuzzerTestOneInput(data, n);
		if (f != stdin)
			fclose(f);
	}
	return 0;
}
#endif
