/*
 * The delivery child, without the event loop: resolve who a delivery
 * runs as, fork a child that becomes that user and runs the action's
 * method, and turn what the child reported into a result.  mda.c drives
 * it from the parent's loop; unit tests call it directly.
 */
#ifndef SMTPD_MDA_CHILD_H
#define SMTPD_MDA_CHILD_H

#include <sys/types.h>
#include <limits.h>
#include <time.h>

#include "mda_deliver.h"

struct action;
struct envelope;

struct mda_user {
	char	 name[256];
	char	 home[PATH_MAX];
	uid_t	 uid;
	gid_t	 gid;
};

/*
 * Who the delivery runs as: started without root, the invoking user; as
 * root the envelope's local user (lka's choice), else the action's
 * `user NAME`, and never uid 0 ("550 5.2.0 delivery as root refused:
 * add an alias").
 * 0, or -1 with the result in *r and its line.
 */
int	mda_user_resolve(const struct action *, const struct envelope *,
	    struct mda_user *, enum mda_result *r, char *line, size_t len);

/* "maildir", "mbox", "mda", "lmtp", or "pipe" / "file" for an alias
 * target (mda_alias_target). */
const char	*mda_method(const struct action *, const struct envelope *);

/*
 * Fork the delivery child (its own process group): it keeps only the
 * message fd and the result pipe, becomes the user (setgroups, setresgid,
 * setresuid), and delivers.  lhlo is the LMTP client name.  Returns the
 * pid and the read end of the result pipe in *resfd (non-blocking), or
 * -1 with line set.
 */
pid_t	mda_child_spawn(int msgfd, const struct action *,
	    const struct envelope *, const struct mda_user *, time_t timeout,
	    const char *lhlo, int *resfd, char *line, size_t len);

/*
 * After the child exited with status: read its report from resfd (not
 * closed) and decide.  timedout: the parent killed it for the limit.
 */
enum mda_result	mda_child_result(int resfd, int status, int timedout,
		    time_t timeout, char *line, size_t len);

#endif
