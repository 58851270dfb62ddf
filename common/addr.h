/*
 * RFC 5321 mailbox and path parsing (dot-atom and quoted local parts,
 * domains, IPv4/IPv6 address literals, UTF-8 under SMTPUTF8) and RFC 3461
 * xtext decoding.  Pure functions: no global state, no allocation.
 */
#ifndef SMTPD_ADDR_H
#define SMTPD_ADDR_H

#include <stddef.h>

#define ADDR_LOCAL_MAX	64	/* RFC 5321 4.5.3.1.1 */
#define ADDR_DOMAIN_MAX	255	/* RFC 5321 4.5.3.1.2 */
#define ADDR_PATH_MAX	256	/* RFC 5321 4.5.3.1.3, brackets included */

/* Flags for the parsers. */
#define ADDR_UTF8	0x01	/* SMTPUTF8 was given: UTF-8 allowed */

/* Results. */
#define ADDR_OK		0
#define ADDR_ESYNTAX	(-1)	/* 553 5.1.3 / 501 5.1.7 */
#define ADDR_E8BIT	(-2)	/* UTF-8 without SMTPUTF8: 553 5.6.7 */
#define ADDR_ELENGTH	(-3)	/* too long */

struct mailaddr {
	char	local[ADDR_LOCAL_MAX * 4 + 3];	/* as written, quotes kept */
	char	domain[ADDR_DOMAIN_MAX + 1];	/* "" for a bare local part */
	int	domain_literal;			/* [1.2.3.4] or [IPv6:...] */
	int	utf8;				/* has non-ASCII octets */
};

/*
 * Parse an RFC 5321 Mailbox (local-part "@" domain) of exactly len
 * bytes.  Returns ADDR_OK or an ADDR_E* code.
 */
int	addr_parse_mailbox(const char *, size_t, int flags, struct mailaddr *);

/*
 * Parse a Path as found after "MAIL FROM:" or "RCPT TO:": "<" [A-d-l ":"]
 * Mailbox ">" (the source route is checked and dropped, RFC 5321 C.1).
 * With allow_null, "<>" is accepted and gives an empty mailaddr.  With
 * allow_postmaster, "<postmaster>" (no domain) is accepted.
 */
int	addr_parse_path(const char *, size_t, int flags, int allow_null,
	    int allow_postmaster, struct mailaddr *);

/* "local@domain" (or "" for the null path) into out; -1 if too small. */
int	addr_format(const struct mailaddr *, char *out, size_t outlen);

/* 1 if s[0..len) is well-formed UTF-8 (no overlongs, no surrogates). */
int	addr_utf8_valid(const char *, size_t);

/*
 * Decode RFC 3461 xtext ("+HH" escapes; printable ASCII except '+' and
 * '=' otherwise) into out (NUL-terminated).  Returns the decoded length,
 * -1 if malformed or out is too small, -2 if it decodes to CR, LF or NUL
 * (501 5.5.4).
 */
long	addr_xtext_decode(const char *, size_t, char *out, size_t outlen);

#endif
