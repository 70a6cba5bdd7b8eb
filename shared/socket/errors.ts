// Errors of ztunnel's socket factories (netsock's own errors pass through unchanged).
import { MeshError } from '../errors.ts';

export class SocketConnectTimeoutError extends MeshError {
  constructor(host: string, port: number, timeoutMs: number) {
    super('ZT_CONNECT_TIMEOUT', `connect to ${host}:${port} timed out after ${timeoutMs} ms; is the destination up and reachable?`);
  }
}
