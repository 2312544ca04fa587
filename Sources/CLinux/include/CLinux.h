#ifndef SHOPFLOOR_CLINUX_H
#define SHOPFLOOR_CLINUX_H
// Linux interfaces that Glibc's Swift module does not export.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <netinet/tcp.h>
#include <errno.h>

static inline int shopfloor_errno(void) { return errno; }
static inline int shopfloor_accept4(int fd, int flags) { return accept4(fd, NULL, NULL, flags); }
#endif
