/*
 * Unit tests of the delivery stream: line pieces across buffer
 * boundaries (a CRLF split by the buffer edge), the added headers, and
 * mboxrd escaping and dot-stuffing at every line start.
 */
#include "smtpd/mda_io.h"
#include "mda_test.h"

/* Copy text through mda_copy_message with flags into a file; return
 * its content. */
static char *
copy(const char *text, size_t len, int flags, size_t *outlen)
{
	struct mda_writer	*w;
	struct envelope		 e;
	int			 in, out, rerr;

	test_envelope(&e, "s@x", "r@y");
	in = msg_fd(text, len);
	ATF_REQUIRE((out = open("out", O_WRONLY | O_CREAT | O_TRUNC, 0600)) !=
	    -1);
	ATF_REQUIRE((w = malloc(sizeof *w)) != NULL);
	mda_writer_init(w, out, NULL, NULL);
	ATF_REQUIRE(mda_copy_message(in, w, &e, flags, &rerr) == 0);
	free(w);
	close(in);
	close(out);
	return slurp("out", outlen);
}

ATF_TC_WITHOUT_HEAD(crlf_at_buffer_edge);
ATF_TC_BODY(crlf_at_buffer_edge, tc)
{
	const size_t	 hdr = strlen("Return-Path: <s@x>\nDelivered-To: r@y\n");
	char		*in, *got;
	size_t		 n, len, k;

	/* Lines whose CR falls on the last byte of the read buffer, for
	 * the first fill and for later ones. */
	for (k = 0; k < 3; k++) {
		n = MDA_IOBUF - 1 + k;
		in = malloc(n + 2 + 8);
		ATF_REQUIRE(in != NULL);
		memset(in, 'q', n);
		memcpy(in + n, "\r\nFrom x\r\n", 10);
		got = copy(in, n + 10, MDA_COPY_MBOXRD, &len);
		ATF_CHECK_EQ_MSG(len, hdr + n + 1 + 8, "k=%zu len=%zu", k, len);
		ATF_CHECK_MSG(strchr(got, '\r') == NULL, "k=%zu: CR kept", k);
		ATF_CHECK_MSG(len > 9 && memcmp(got + len - 9, "\n>From x\n",
		    9) == 0, "k=%zu: tail [%s]", k, got + len - 9);
		free(got);
		free(in);
	}
}

ATF_TC_WITHOUT_HEAD(escaping);
ATF_TC_BODY(escaping, tc)
{
	const char	 in[] = "From a\r\n>From b\r\n.x\r\n..\r\n.\r\nFrom\r\n"
			     "x From y\r\n";
	char		*got;

	got = copy(in, sizeof in - 1, MDA_COPY_MBOXRD, NULL);
	ATF_CHECK_STREQ(got, "Return-Path: <s@x>\nDelivered-To: r@y\n"
	    ">From a\n>>From b\n.x\n..\n.\nFrom\nx From y\n");
	free(got);
	got = copy(in, sizeof in - 1, MDA_COPY_CRLF | MDA_COPY_DOTSTUFF, NULL);
	ATF_CHECK_STREQ(got, "Return-Path: <s@x>\r\nDelivered-To: r@y\r\n"
	    "From a\r\n>From b\r\n..x\r\n...\r\n..\r\nFrom\r\nx From y\r\n");
	free(got);
	/* Bare LF lines become CRLF for LMTP; a last line gets its end. */
	got = copy("a\nb", 3, MDA_COPY_CRLF, NULL);
	ATF_CHECK_STREQ(got, "Return-Path: <s@x>\r\nDelivered-To: r@y\r\n"
	    "a\r\nb\r\n");
	free(got);
	/* An empty message still gets the headers. */
	got = copy("", 0, 0, NULL);
	ATF_CHECK_STREQ(got, "Return-Path: <s@x>\nDelivered-To: r@y\n");
	free(got);
}

ATF_TC_WITHOUT_HEAD(header_values);
ATF_TC_BODY(header_values, tc)
{
	struct mda_writer	*w;
	struct envelope		 e;
	char			*got;
	int			 in, out, rerr;

	/* Envelope values cannot break out of their header line. */
	test_envelope(&e, "a\r\nX-Evil: 1", "r@y\nX-Evil: 2");
	in = msg_fd("B: c\n", 5);
	ATF_REQUIRE((out = open("out", O_WRONLY | O_CREAT | O_TRUNC, 0600)) !=
	    -1);
	ATF_REQUIRE((w = malloc(sizeof *w)) != NULL);
	mda_writer_init(w, out, NULL, NULL);
	ATF_REQUIRE(mda_copy_message(in, w, &e, 0, &rerr) == 0);
	close(out);
	got = slurp("out", NULL);
	ATF_CHECK_STREQ(got, "Return-Path: <a??X-Evil: 1>\n"
	    "Delivered-To: r@y?X-Evil: 2\nB: c\n");
	free(got);
	free(w);
	close(in);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, crlf_at_buffer_edge);
	ATF_TP_ADD_TC(tp, escaping);
	ATF_TP_ADD_TC(tp, header_values);
	return atf_no_error();
}
