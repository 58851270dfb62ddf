/*
 * JSON output for control answers (smtpctl --json): one string escaper
 * for every process, so that every document smtpctl prints is valid
 * JSON whatever bytes an address or a remote reply carried.
 */
#ifndef SMTPD_JSON_H
#define SMTPD_JSON_H

#include "buf.h"

/*
 * Append s as a JSON string literal, quotes included.  Valid UTF-8 is
 * kept; control characters are escaped; a byte that is not part of a
 * valid UTF-8 sequence becomes U+FFFD.  NULL is "".
 */
void	json_str(struct buf *, const char *s);

#endif
