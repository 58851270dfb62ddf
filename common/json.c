/* JSON string escaping (json.h). */
#include <stddef.h>
#include <stdint.h>

#include "json.h"

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if invalid. */
static size_t
utf8_len(const unsigned char *p)
{
	size_t	 n, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;	/* also stops at the NUL */
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* overlong, surrogates, beyond U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

void
json_str(struct buf *b, const char *s)
{
	const unsigned char	*p = (const unsigned char *)(s ? s : "");
	size_t			 n;

	buf_addc(b, '"');
	while (*p) {
		switch (*p) {
		case '"':
			buf_addstr(b, "\\\"");
			p++;
			continue;
		case '\\':
			buf_addstr(b, "\\\\");
			p++;
			continue;
		case '\n':
			buf_addstr(b, "\\n");
			p++;
			continue;
		case '\r':
			buf_addstr(b, "\\r");
			p++;
			continue;
		case '\t':
			buf_addstr(b, "\\t");
			p++;
			continue;
		}
		if (*p < 0x20 || *p == 0x7f) {
			buf_printf(b, "\\u%04x", *p);
			p++;
		} else if ((n = utf8_len(p)) == 0) {
			buf_addstr(b, "\\ufffd");
			p++;
		} else {
			buf_add(b, p, n);
			p += n;
		}
	}
	buf_addc(b, '"');
}
