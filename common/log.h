/*
 * Logging: stderr in the foreground (-d), syslog facility mail otherwise.
 * One line per event, key=value pairs (STYLE.md "Logs").  Values that came
 * from outside go through log_escape() first.
 */
#ifndef SMTPD_LOG_H
#define SMTPD_LOG_H

#include <stdarg.h>
#include <stddef.h>

void	log_init(int foreground, int verbose);
void	log_setverbose(int);
int	log_getverbose(void);
void	log_procname(const char *);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2),
	    noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2),
	    noreturn));

/*
 * Copy src into dst (size dstlen) so that it is safe in a log line:
 * printable ASCII stays, '"' and '\\' are escaped, everything else becomes
 * \xHH.  Truncated with "..." if too long.  Returns dst.
 */
char	*log_escape(char *dst, size_t dstlen, const char *src, size_t srclen);

#endif
