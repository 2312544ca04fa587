#ifndef SHOPFLOOR_CLINUX_H
#define SHOPFLOOR_CLINUX_H
// Linux interfaces that Glibc's Swift module does not export.
#include <stddef.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <netinet/tcp.h>
#include <errno.h>

static inline int shopfloor_errno(void) { return errno; }
// accept4 is declared only under _GNU_SOURCE, which would change glibc's headers for this module
// alone and clash with other modules' view of them; declare it directly.
extern int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);
#include <sys/prctl.h>
/// Names the calling thread (15 bytes kept) for `top -H` and perf; prctl is variadic, so not callable from Swift.
static inline void shopfloor_name_thread(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }
#endif
