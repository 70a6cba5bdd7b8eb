/*
 * Plain socket syscalls behind the addon (no N-API here). The one subtle part is namespace switching:
 * setns(CLONE_NEWNET) changes only the calling thread, and the caller is Node's event-loop thread, so
 * every path out of ns_open_socket returns to the original namespace first. A socket keeps the
 * namespace it was created in for life, so only socket() strictly needs to run inside; configuration,
 * bind and listen run there too so that errors are reported while the context is still obvious.
 */
#include "netsock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* From linux/netfilter_ipv4.h and linux/netfilter_ipv6/ip6_tables.h (not included: they clash with
 * the libc headers). */
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif
#ifndef IPV6_TRANSPARENT
#define IPV6_TRANSPARENT 75
#endif
#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif

static const char SELF_NETNS[] = "/proc/thread-self/ns/net";

static int fail(ns_error *e, int err, const char *syscall) {
  e->err = err;
  e->syscall = syscall;
  return -1;
}

static void fail_with_address(ns_error *e, const ns_spec *spec) {
  int port = 0;
  if (ns_format_addr(&spec->addr, e->address, sizeof e->address, &port) == 0) {
    e->has_address = 1;
    e->port = port;
  }
}

static int setopt_int(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof value);
}

/* Creates and configures the socket in whatever namespace the thread is in now. */
static int create_configured(const ns_spec *spec, ns_error *e) {
  int v6 = spec->family == AF_INET6;
  int fd = socket(spec->family, spec->type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return fail(e, errno, "socket");

  const char *op = NULL;
  int about_address = 0;
  if (spec->reuse_addr && setopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) < 0) {
    op = "setsockopt";
  } else if (spec->reuse_port && setopt_int(fd, SOL_SOCKET, SO_REUSEPORT, 1) < 0) {
    op = "setsockopt";
  } else if (spec->transparent &&
             setopt_int(fd, v6 ? SOL_IPV6 : SOL_IP, v6 ? IPV6_TRANSPARENT : IP_TRANSPARENT, 1) < 0) {
    op = "setsockopt";
  } else if (spec->freebind &&
             setopt_int(fd, v6 ? SOL_IPV6 : SOL_IP, v6 ? IPV6_FREEBIND : IP_FREEBIND, 1) < 0) {
    op = "setsockopt";
  } else if (spec->has_mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &spec->mark, sizeof spec->mark) < 0) {
    op = "setsockopt";
  } else if (spec->bind && bind(fd, (const struct sockaddr *)&spec->addr, spec->addrlen) < 0) {
    op = "bind";
    about_address = 1;
  } else if (spec->listen && listen(fd, spec->backlog) < 0) {
    op = "listen";
    about_address = 1;
  }
  if (op) {
    int err = errno; /* before close() or inet_ntop() can overwrite it */
    close(fd);
    if (about_address) fail_with_address(e, spec);
    return fail(e, err, op);
  }
  return fd;
}

int ns_open_socket(const ns_spec *spec, ns_error *e) {
  if (!spec->netns) return create_configured(spec, e);

  int self = open(SELF_NETNS, O_RDONLY | O_CLOEXEC);
  if (self < 0) {
    e->path = SELF_NETNS;
    return fail(e, errno, "open");
  }
  int target = open(spec->netns, O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int err = errno;
    close(self);
    e->path = spec->netns;
    return fail(e, err, "setns");
  }
  if (setns(target, CLONE_NEWNET) < 0) {
    int err = errno;
    close(target);
    close(self);
    e->path = spec->netns;
    return fail(e, err, "setns");
  }
  close(target);

  int fd = create_configured(spec, e); /* on failure *e already holds the errno */

  if (setns(self, CLONE_NEWNET) < 0) {
    /* The event loop would keep running in a foreign namespace: every later socket, bind and DNS
     * lookup would silently happen there. Crash instead. */
    fprintf(stderr, "netsock: cannot return to the original network namespace: %s\n", strerror(errno));
    abort();
  }
  close(self);
  return fd;
}

int ns_original_dst(int fd, struct sockaddr_storage *out, ns_error *e) {
  struct sockaddr_storage local;
  socklen_t len = sizeof local;
  memset(&local, 0, sizeof local);
  if (getsockname(fd, (struct sockaddr *)&local, &len) < 0) return fail(e, errno, "getsockname");

  memset(out, 0, sizeof *out);
  int v4 = local.ss_family == AF_INET;
  if (local.ss_family == AF_INET6) {
    /* A dual-stack listener accepts IPv4 connections as v4-mapped; their conntrack entry is IPv4. */
    v4 = IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&local)->sin6_addr);
  } else if (!v4) {
    return fail(e, EAFNOSUPPORT, "getsockopt");
  }
  if (v4) {
    len = sizeof(struct sockaddr_in);
    if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, out, &len) < 0) return fail(e, errno, "getsockopt");
    out->ss_family = AF_INET;
  } else {
    len = sizeof(struct sockaddr_in6);
    if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, out, &len) < 0) return fail(e, errno, "getsockopt");
    out->ss_family = AF_INET6;
  }
  return 0;
}

int ns_set_mark(int fd, uint32_t mark, ns_error *e) {
  if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) < 0) return fail(e, errno, "setsockopt");
  return 0;
}

int ns_get_mark(int fd, uint32_t *mark, ns_error *e) {
  socklen_t len = sizeof *mark;
  if (getsockopt(fd, SOL_SOCKET, SO_MARK, mark, &len) < 0) return fail(e, errno, "getsockopt");
  return 0;
}

int ns_set_transparent(int fd, int family, int on, ns_error *e) {
  int v6 = family == AF_INET6;
  if (setopt_int(fd, v6 ? SOL_IPV6 : SOL_IP, v6 ? IPV6_TRANSPARENT : IP_TRANSPARENT, on ? 1 : 0) < 0)
    return fail(e, errno, "setsockopt");
  return 0;
}

int ns_format_addr(const struct sockaddr_storage *sa, char *buf, size_t len, int *port) {
  if (sa->ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    if (!inet_ntop(AF_INET, &in->sin_addr, buf, len)) return -1;
    *port = ntohs(in->sin_port);
    return 0;
  }
  if (sa->ss_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    if (!inet_ntop(AF_INET6, &in6->sin6_addr, buf, len)) return -1;
    *port = ntohs(in6->sin6_port);
    return 0;
  }
  return -1;
}
