// shared/hbone (ztunnel and the waypoint): the HBONE tunnel (HTTP/2 CONNECT inside mutual TLS 1.3 with SPIFFE identities). Client side: a
// pool of connections per (source, destination identity, destination address); server side: the :15008 listener's
// HTTP/2 server; and splice, which joins a tunnel stream to a socket.
export { HbonePool, type HbonePoolOptions, type HboneOpenRequest, type HboneConnectionInfo } from './pool.ts';
export { createHboneServer, respondConnect, rejectConnect, type HboneServer, type HboneServerOptions, type HboneConnectInfo } from './server.ts';
export { splice, type SpliceResult } from './splice.ts';
export { spiffeIdsOf, parseAuthority, isSpiffeId } from './identity.ts';
export { chooseConnection, type ConnView, type Choice } from './choose.ts';
export type { TlsMaterial } from './tls.ts';
export { STREAM_WINDOW, SESSION_WINDOW } from './tls.ts';
export {
  HboneRejectedError, HboneTlsError, HboneConnectError, HbonePoolClosedError, SpliceError,
} from './errors.ts';
