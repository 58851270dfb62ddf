/*
 * The local delivery methods, callable without the event loop: each runs
 * in the delivery child (already the recipient user), reads the message
 * from msgfd (pread from offset 0) and returns an mda_result with a full
 * reply line ("250 2.0.0 ...", "451 4.x.x ...", "550 5.x.x ...") in err.
 */
#ifndef SMTPD_MDA_DELIVER_H
#define SMTPD_MDA_DELIVER_H

#include <stddef.h>
#include <time.h>

struct envelope;

enum mda_result {
	MDA_OK,
	MDA_TEMPFAIL,
	MDA_PERMFAIL
};

#define MDA_ERR_MAX		1024	/* result lines */
#define MDA_STDERR_MAX		400	/* bytes of an mda command's stderr kept */
#define MDA_TIMEOUT_DEFAULT	600	/* seconds, when the config says 0 */
#define MDA_MBOX_LOCK_WAIT	30	/* seconds to wait for mbox locks */

/* Values for path and argument expansion (mda_expand.c). */
struct mda_vars {
	const char	*user;		/* %{user} */
	const char	*home;		/* ~ */
	const char	*rcpt;		/* %{rcpt}, .user and .domain derived */
	const char	*sender;	/* %{sender}, "" for <> */
};

/*
 * An alias expanded to "|command" or "/file" (lka_expand.c) arrives as
 * the envelope's rcpt; it is one only when rcpt differs from the address
 * given at RCPT, so a sender's own <|cmd@domain> is just an address.
 * Returns '|', '/' or 0.  Pure.
 */
int	mda_alias_target(const struct envelope *);
/* The address for Delivered-To, %{rcpt} and $RECIPIENT: the original
 * recipient for an alias target, else rcpt. */
const char *mda_rcpt(const struct envelope *);

/*
 * Expand `~` (leading only) and %{user} %{rcpt} %{rcpt.user}
 * %{rcpt.domain} %{sender} (%u = %{user}, %d = %{rcpt.domain}, %% = %)
 * in fmt into out.  Substituted values are made path-safe: '/', control
 * characters and a leading '.' become '_', so no address can add a path
 * component or a "..".  An unknown %{...}, a result that does not
 * fit and, when path is set, an empty substitution or a result holding
 * a ".." component are errors (-1, err set).  Pure.
 */
int	mda_expand(char *out, size_t outlen, const char *fmt,
	    const struct mda_vars *, int path, char *err, size_t errlen);

/*
 * Split a command line into an argument vector without a shell: words
 * are separated by blanks; '...' quotes literally; "..." quotes with \"
 * and \\ escapes; a backslash outside quotes takes the next character
 * literally.  Nothing else is special (no ; | & $ ` < > * expansion).
 * Returns a NULL-terminated vector (one allocation, free() it) or NULL
 * with err set (unterminated quote, empty command).  Pure.
 */
char  **mda_argv_split(const char *cmd, char *err, size_t errlen);

/* Make s safe for a one-line diagnostic: at most max bytes, newlines
 * become spaces, other unprintables \xHH, trailing blanks dropped. */
void	mda_diag_escape(char *dst, size_t dstlen, const char *s, size_t n,
	    size_t max);

/* Deliver into the maildir dir (created with tmp/new/cur if missing). */
enum mda_result	mda_maildir_deliver(int msgfd, const char *dir,
		    const struct envelope *, char *err, size_t errlen);
/* Append to the mbox file path (created 0600 if missing): fcntl lock,
 * dotlock path.lock (fcntl only where the directory is not writable,
 * e.g. an alias /file), "From " line, mboxrd escaping; on a failed write
 * the file is truncated back to its original size. */
enum mda_result	mda_mbox_deliver(int msgfd, const char *path,
		    const struct envelope *, char *err, size_t errlen);
/* Run cmd (split with mda_argv_split, each word expanded with vars)
 * with the message on stdin, for at most timeout seconds.  Exit 0: ok;
 * 75 (EX_TEMPFAIL), a signal or the timeout: tempfail; else permfail
 * with the command's stderr as diagnostic. */
enum mda_result	mda_cmd_deliver(int msgfd, const char *cmd,
		    const struct mda_vars *, const struct envelope *,
		    time_t timeout, char *err, size_t errlen);
/* LMTP to dest: an absolute unix socket path, or host:port ([v6]:port).
 * lhlo is the name sent in LHLO.  The per-recipient reply after DATA
 * decides the result. */
enum mda_result	mda_lmtp_deliver(int msgfd, const char *dest,
		    const char *lhlo, const struct envelope *, time_t timeout,
		    char *err, size_t errlen);

#endif
