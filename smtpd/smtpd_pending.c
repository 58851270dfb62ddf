/*
 * TEMPORARY link stand-ins for functions other issues provide
 * (config_define: the grammar, common/config.c; envelope_load: the
 * queue, common/envelope.c).  Weak, and after common/ in the archive, so
 * the real ones win once merged.  Delete this file when both have landed.
 */
#include <stddef.h>

#include "config.h"
#include "envelope.h"

__attribute__((weak)) int
config_define(const char *nameval)
{
	(void)nameval;
	return -1;
}

__attribute__((weak)) int
envelope_load(struct envelope *e, const char *text, size_t len, char *err,
    size_t errlen)
{
	(void)e;
	(void)text;
	(void)len;
	(void)err;
	(void)errlen;
	return -1;
}
