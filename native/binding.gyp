# netsock: the N-API addon (plain C, Linux only) behind shared/netsock/. See native/src/netsock.h.
{
  "targets": [
    {
      "target_name": "netsock",
      "sources": ["src/addon.c", "src/sock.c", "src/errname.c"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden"]
    }
  ]
}
