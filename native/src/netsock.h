/*
 * netsock: socket operations the mesh needs and Node cannot do itself (Linux only).
 *
 * sock.c    plain syscalls, no N-API: open a socket inside another network namespace (enter, create,
 *           configure, bind, listen, always return to the caller's namespace), SO_ORIGINAL_DST, SO_MARK,
 *           IP(V6)_TRANSPARENT. Failures fill an ns_error instead of throwing.
 * errname.c errno -> "EADDRINUSE" names, so JavaScript sees Node-shaped system errors.
 * addon.c   the N-API face: argument parsing, ns_error -> Error{code, errno, syscall}.
 */
#ifndef NETSOCK_H
#define NETSOCK_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

/* Why a call failed: errno (positive), the syscall that failed, and what it was about. */
typedef struct {
  int err;
  const char *syscall;
  const char *path;                   /* netns path for setns/open failures, else NULL */
  int has_address;                    /* address/port are meaningful (bind, listen) */
  char address[INET6_ADDRSTRLEN];
  int port;
} ns_error;

/* Everything openSocket needs, already validated and parsed. */
typedef struct {
  const char *netns;                  /* path of a netns file; NULL = the calling thread's namespace */
  int type;                           /* SOCK_STREAM or SOCK_DGRAM */
  int family;                         /* AF_INET or AF_INET6 */
  int bind;                           /* bind to addr (address and/or port was given) */
  struct sockaddr_storage addr;
  socklen_t addrlen;
  int listen;
  int backlog;
  int transparent;
  int freebind;
  int reuse_addr;
  int reuse_port;
  int has_mark;
  uint32_t mark;
} ns_spec;

/* Opens, configures, binds (and listens) a socket; returns the fd or -1 with *e filled. The calling
 * thread is back in its own namespace when this returns (it aborts the process if it cannot be). */
int ns_open_socket(const ns_spec *spec, ns_error *e);

/* Pre-NAT destination of an accepted (REDIRECTed) connection; 0 or -1 with *e filled. */
int ns_original_dst(int fd, struct sockaddr_storage *out, ns_error *e);

int ns_set_mark(int fd, uint32_t mark, ns_error *e);
int ns_get_mark(int fd, uint32_t *mark, ns_error *e);
int ns_set_transparent(int fd, int family, int on, ns_error *e);

/* "10.0.0.1" / "fd00::1" and the port of an AF_INET/AF_INET6 address; 0 or -1 (unknown family). */
int ns_format_addr(const struct sockaddr_storage *sa, char *buf, size_t len, int *port);

const char *ns_errno_name(int err);

#endif
