/*
 * The N-API face of netsock (plain C against node_api.h, NAPI_VERSION 8). Parses and validates
 * JavaScript arguments into plain structs for sock.c, and turns its failures into errors shaped like
 * Node's system errors: Error{ code: 'EADDRINUSE', errno: -98, syscall: 'bind', address?, port?, path? }
 * with messages like "bind EADDRINUSE 10.0.0.1:80". Only shared/netsock/ loads this module.
 *
 *   openSocket({ netns?, type: 'tcp'|'udp', family: 4|6, address?, port?, listen?, backlog?,
 *                transparent?, mark?, reuseAddr?, reusePort?, freebind? }) -> fd
 *   originalDst(fd) -> { address, port, family: 4|6 }
 *   setMark(fd, mark), getMark(fd) -> mark, setTransparent(fd, family, on)
 */
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "netsock.h"

/* A failed N-API call: keep the pending exception, else throw one describing the failure. */
static napi_value napi_failed(napi_env env) {
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  const char *msg = info && info->error_message ? info->error_message : "n-api call failed";
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, "ERR_NETSOCK_NAPI", msg);
  return NULL;
}

#define CALL(x)                                  \
  do {                                           \
    if ((x) != napi_ok) return napi_failed(env); \
  } while (0)

/* Same, for helpers returning int (-1 = exception pending). */
#define CALL_INT(x)                \
  do {                             \
    if ((x) != napi_ok) {          \
      napi_failed(env);            \
      return -1;                   \
    }                              \
  } while (0)

static int type_error(napi_env env, const char *code, const char *msg) {
  napi_throw_type_error(env, code, msg);
  return -1;
}

static int set_str(napi_env env, napi_value obj, const char *key, const char *value) {
  napi_value v;
  CALL_INT(napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v));
  CALL_INT(napi_set_named_property(env, obj, key, v));
  return 0;
}

static int set_int(napi_env env, napi_value obj, const char *key, int32_t value) {
  napi_value v;
  CALL_INT(napi_create_int32(env, value, &v));
  CALL_INT(napi_set_named_property(env, obj, key, v));
  return 0;
}

static napi_value throw_sys(napi_env env, const ns_error *e) {
  const char *code = ns_errno_name(e->err);
  char msg[PATH_MAX + 128];
  if (e->path) {
    snprintf(msg, sizeof msg, "%s %s %s", e->syscall, code, e->path);
  } else if (e->has_address) {
    snprintf(msg, sizeof msg, "%s %s %s:%d", e->syscall, code, e->address, e->port);
  } else {
    snprintf(msg, sizeof msg, "%s %s", e->syscall, code);
  }
  napi_value jcode, jmsg, err;
  CALL(napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &jcode));
  CALL(napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &jmsg));
  CALL(napi_create_error(env, jcode, jmsg, &err));
  if (set_int(env, err, "errno", -e->err) < 0) return NULL;
  if (set_str(env, err, "syscall", e->syscall) < 0) return NULL;
  if (e->path && set_str(env, err, "path", e->path) < 0) return NULL;
  if (e->has_address) {
    if (set_str(env, err, "address", e->address) < 0) return NULL;
    if (set_int(env, err, "port", e->port) < 0) return NULL;
  }
  napi_throw(env, err);
  return NULL;
}

/* Property lookup: 1 = present, 0 = absent (undefined or null), -1 = exception pending. */
static int get_prop(napi_env env, napi_value obj, const char *key, napi_value *out, napi_valuetype *type) {
  CALL_INT(napi_get_named_property(env, obj, key, out));
  CALL_INT(napi_typeof(env, *out, type));
  return (*type == napi_undefined || *type == napi_null) ? 0 : 1;
}

static int get_bool(napi_env env, napi_value obj, const char *key, int *out) {
  napi_value v;
  napi_valuetype t;
  int r = get_prop(env, obj, key, &v, &t);
  if (r <= 0) return r;
  if (t != napi_boolean) {
    char msg[96];
    snprintf(msg, sizeof msg, "openSocket: %s must be a boolean", key);
    return type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  }
  bool b;
  CALL_INT(napi_get_value_bool(env, v, &b));
  *out = b ? 1 : 0;
  return 1;
}

/* An integer number within [min, max]. */
static int to_int_in(napi_env env, napi_value v, const char *what, double min, double max, double *out) {
  napi_valuetype t;
  CALL_INT(napi_typeof(env, v, &t));
  double d = 0;
  if (t == napi_number) CALL_INT(napi_get_value_double(env, v, &d));
  /* Range first: it also rejects NaN and the infinities before the integer cast. */
  if (t != napi_number || !(d >= min && d <= max) || d != (double)(long long)d) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be an integer in [%.0f, %.0f]", what, min, max);
    return type_error(env, "ERR_OUT_OF_RANGE", msg);
  }
  *out = d;
  return 1;
}

static int get_int(napi_env env, napi_value obj, const char *key, double min, double max, double *out) {
  napi_value v;
  napi_valuetype t;
  int r = get_prop(env, obj, key, &v, &t);
  if (r <= 0) return r;
  char what[64];
  snprintf(what, sizeof what, "openSocket: %s", key);
  return to_int_in(env, v, what, min, max, out);
}

static int get_string(napi_env env, napi_value obj, const char *key, char *buf, size_t len) {
  napi_value v;
  napi_valuetype t;
  int r = get_prop(env, obj, key, &v, &t);
  if (r <= 0) return r;
  char msg[96];
  if (t != napi_string) {
    snprintf(msg, sizeof msg, "openSocket: %s must be a string", key);
    return type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  }
  size_t n = 0;
  CALL_INT(napi_get_value_string_utf8(env, v, buf, len, &n));
  if (n == 0 || n >= len - 1 || strlen(buf) != n) {
    snprintf(msg, sizeof msg, "openSocket: %s must be a non-empty string without NUL, shorter than %zu", key, len - 1);
    return type_error(env, "ERR_INVALID_ARG_VALUE", msg);
  }
  return 1;
}

static int fd_arg(napi_env env, napi_value v, int *fd) {
  double d;
  if (to_int_in(env, v, "fd", 0, INT_MAX, &d) < 0) return -1;
  *fd = (int)d;
  return 0;
}

static napi_value open_socket(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value opts;
  CALL(napi_get_cb_info(env, info, &argc, &opts, NULL, NULL));
  napi_valuetype t = napi_undefined;
  if (argc >= 1) CALL(napi_typeof(env, opts, &t));
  if (t != napi_object) {
    type_error(env, "ERR_INVALID_ARG_TYPE", "openSocket: options must be an object");
    return NULL;
  }

  ns_spec spec;
  memset(&spec, 0, sizeof spec);
  char netns[PATH_MAX];
  char type[8];
  char address[INET6_ADDRSTRLEN + 1];
  double family = 0, port = -1, backlog = 511, mark = 0;
  int r;

  if ((r = get_string(env, opts, "netns", netns, sizeof netns)) < 0) return NULL;
  if (r == 1) spec.netns = netns;

  if ((r = get_string(env, opts, "type", type, sizeof type)) < 0) return NULL;
  if (r == 1 && strcmp(type, "tcp") == 0) {
    spec.type = SOCK_STREAM;
  } else if (r == 1 && strcmp(type, "udp") == 0) {
    spec.type = SOCK_DGRAM;
  } else {
    type_error(env, "ERR_INVALID_ARG_VALUE", "openSocket: type must be 'tcp' or 'udp'");
    return NULL;
  }

  if ((r = get_int(env, opts, "family", 4, 6, &family)) < 0) return NULL;
  if (r == 0 || family == 5) {
    type_error(env, "ERR_INVALID_ARG_VALUE", "openSocket: family must be 4 or 6");
    return NULL;
  }
  spec.family = family == 4 ? AF_INET : AF_INET6;

  int has_address;
  if ((has_address = get_string(env, opts, "address", address, sizeof address)) < 0) return NULL;
  int has_port;
  if ((has_port = get_int(env, opts, "port", 0, 65535, &port)) < 0) return NULL;
  spec.bind = has_address || has_port;
  if (spec.family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)&spec.addr;
    in->sin_family = AF_INET;
    in->sin_port = htons(has_port ? (uint16_t)port : 0);
    in->sin_addr.s_addr = htonl(INADDR_ANY);
    spec.addrlen = sizeof *in;
    if (has_address && inet_pton(AF_INET, address, &in->sin_addr) != 1) {
      type_error(env, "ERR_INVALID_IP_ADDRESS", "openSocket: address is not an IPv4 address");
      return NULL;
    }
  } else {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&spec.addr;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(has_port ? (uint16_t)port : 0);
    in6->sin6_addr = in6addr_any;
    spec.addrlen = sizeof *in6;
    if (has_address && inet_pton(AF_INET6, address, &in6->sin6_addr) != 1) {
      type_error(env, "ERR_INVALID_IP_ADDRESS", "openSocket: address is not an IPv6 address");
      return NULL;
    }
  }

  if (get_bool(env, opts, "listen", &spec.listen) < 0) return NULL;
  if (spec.listen && spec.type != SOCK_STREAM) {
    type_error(env, "ERR_INVALID_ARG_VALUE", "openSocket: listen is only valid for tcp");
    return NULL;
  }
  if (get_int(env, opts, "backlog", 0, INT_MAX, &backlog) < 0) return NULL;
  spec.backlog = (int)backlog;
  if (get_bool(env, opts, "transparent", &spec.transparent) < 0) return NULL;
  if (get_bool(env, opts, "freebind", &spec.freebind) < 0) return NULL;
  if (get_bool(env, opts, "reuseAddr", &spec.reuse_addr) < 0) return NULL;
  if (get_bool(env, opts, "reusePort", &spec.reuse_port) < 0) return NULL;
  if ((r = get_int(env, opts, "mark", 0, UINT32_MAX, &mark)) < 0) return NULL;
  spec.has_mark = r;
  spec.mark = (uint32_t)mark;

  ns_error e;
  memset(&e, 0, sizeof e);
  int fd = ns_open_socket(&spec, &e);
  if (fd < 0) return throw_sys(env, &e);
  napi_value result;
  CALL(napi_create_int32(env, fd, &result));
  return result;
}

static napi_value original_dst(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CALL(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int fd;
  if (argc < 1 || fd_arg(env, argv[0], &fd) < 0) {
    if (argc < 1) type_error(env, "ERR_INVALID_ARG_TYPE", "originalDst(fd): fd is required");
    return NULL;
  }
  struct sockaddr_storage sa;
  ns_error e;
  memset(&e, 0, sizeof e);
  if (ns_original_dst(fd, &sa, &e) < 0) return throw_sys(env, &e);
  char buf[INET6_ADDRSTRLEN];
  int port = 0;
  if (ns_format_addr(&sa, buf, sizeof buf, &port) < 0) {
    e.err = EAFNOSUPPORT;
    e.syscall = "getsockopt";
    return throw_sys(env, &e);
  }
  napi_value obj;
  CALL(napi_create_object(env, &obj));
  if (set_str(env, obj, "address", buf) < 0) return NULL;
  if (set_int(env, obj, "port", port) < 0) return NULL;
  if (set_int(env, obj, "family", sa.ss_family == AF_INET ? 4 : 6) < 0) return NULL;
  return obj;
}

static napi_value set_mark(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CALL(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) {
    type_error(env, "ERR_INVALID_ARG_TYPE", "setMark(fd, mark): both arguments are required");
    return NULL;
  }
  int fd;
  double mark;
  if (fd_arg(env, argv[0], &fd) < 0) return NULL;
  if (to_int_in(env, argv[1], "mark", 0, UINT32_MAX, &mark) < 0) return NULL;
  ns_error e;
  memset(&e, 0, sizeof e);
  if (ns_set_mark(fd, (uint32_t)mark, &e) < 0) return throw_sys(env, &e);
  return NULL;
}

static napi_value get_mark(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CALL(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) {
    type_error(env, "ERR_INVALID_ARG_TYPE", "getMark(fd): fd is required");
    return NULL;
  }
  int fd;
  if (fd_arg(env, argv[0], &fd) < 0) return NULL;
  uint32_t mark = 0;
  ns_error e;
  memset(&e, 0, sizeof e);
  if (ns_get_mark(fd, &mark, &e) < 0) return throw_sys(env, &e);
  napi_value result;
  CALL(napi_create_uint32(env, mark, &result));
  return result;
}

static napi_value set_transparent(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CALL(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) {
    type_error(env, "ERR_INVALID_ARG_TYPE", "setTransparent(fd, family, on): all arguments are required");
    return NULL;
  }
  int fd;
  double family;
  bool on;
  if (fd_arg(env, argv[0], &fd) < 0) return NULL;
  if (to_int_in(env, argv[1], "family", 4, 6, &family) < 0) return NULL;
  if (family == 5) {
    type_error(env, "ERR_INVALID_ARG_VALUE", "setTransparent: family must be 4 or 6");
    return NULL;
  }
  if (napi_get_value_bool(env, argv[2], &on) != napi_ok) {
    type_error(env, "ERR_INVALID_ARG_TYPE", "setTransparent: on must be a boolean");
    return NULL;
  }
  ns_error e;
  memset(&e, 0, sizeof e);
  if (ns_set_transparent(fd, family == 4 ? AF_INET : AF_INET6, on, &e) < 0) return throw_sys(env, &e);
  return NULL;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
      {"openSocket", NULL, open_socket, NULL, NULL, NULL, napi_enumerable, NULL},
      {"originalDst", NULL, original_dst, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setMark", NULL, set_mark, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getMark", NULL, get_mark, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setTransparent", NULL, set_transparent, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CALL(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}
