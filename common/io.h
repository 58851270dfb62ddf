/*
 * Blocking I/O helpers for file descriptors that are not driven by the
 * event loop (spool files, delivery children, sockets in a child).
 */
#ifndef SMTPD_IO_H
#define SMTPD_IO_H

#include <stddef.h>

/* Write all n bytes, retrying on EINTR and short writes; 0 or -1. */
int	io_write_all(int fd, const void *p, size_t n);

#endif
