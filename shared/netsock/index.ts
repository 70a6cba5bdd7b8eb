// netsock: sockets in other network namespaces and the socket options a transparent proxy needs
// (SO_ORIGINAL_DST, SO_MARK, IP_TRANSPARENT), backed by the C addon in native/. The only module that
// loads the addon or touches raw file descriptors. Addresses are IP literals (no name resolution);
// `netns` is a name under /var/run/netns or an absolute path such as /proc/<pid>/ns/net.
export { listenTcp, connectTcp, type ListenTcpOptions, type ConnectTcpOptions } from './tcp.ts';
export { bindUdp, type BindUdpOptions } from './udp.ts';
export { originalDestination, setMark, getMark } from './fd.ts';
export { netnsPath } from './options.ts';
export { httpGet, parseHttpResponse, type HttpGetResult } from './http-get.ts';
export { addonAvailable, type Family, type OriginalDst } from './addon.ts';
export {
  NetsockAddonMissingError,
  NetsockBadAddressError,
  NetsockBadNetnsError,
  NetsockConnectTimeoutError,
  NetsockFamilyMismatchError,
  NetsockNoFdError,
} from './errors.ts';
