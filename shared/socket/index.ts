// shared/socket: the only place the proxies create sockets. `defaultSocketFactory()` for loopback and tests,
// `inPodSocketFactory(netns, { mark })` for sockets inside a captured pod's namespace.
export type { ConnectOptions, ListenOptions, SocketFactory } from './types.ts';
export { defaultSocketFactory } from './default.ts';
export { inPodSocketFactory } from './inpod.ts';
export { SocketConnectTimeoutError } from './errors.ts';
