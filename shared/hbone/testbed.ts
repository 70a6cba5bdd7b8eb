// Loopback test bed for HBONE (tests and the throughput script): a test PKI, an HBONE server whose onConnect
// dials the CONNECT target on loopback and splices, and an open() helper with the usual request fields.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { silent } from '../log.ts';
import { testPki, type TestPki, type IssuedCert } from '../testing/certs.ts';
import { defaultSocketFactory } from '../socket/index.ts';
import type { SpiffeId } from '../spiffe.ts';
import { HbonePool, createHboneServer, respondConnect, rejectConnect, splice, type HboneConnectInfo, type HboneOpenRequest, type HboneServer, type TlsMaterial } from './index.ts';

export const factory = defaultSocketFactory();

export interface Bed {
  pki: TestPki;
  serverCert: IssuedCert;
  clientCert: IssuedCert;
  serverTls: { current: TlsMaterial };
  hbone: HboneServer;
  hbonePort: number;
  connects: HboneConnectInfo[];
  dials: number;
  pool: HbonePool;
  request(authority: string, over?: Partial<HboneOpenRequest>): HboneOpenRequest;
  open(authority: string, over?: Partial<HboneOpenRequest>): Promise<Duplex>;
  close(): Promise<void>;
}

export async function startBed(poolOpts: { maxStreamsPerConnection?: number; idleTimeoutMs?: number } = {}): Promise<Bed> {
  const pki = testPki();
  const serverCert = pki.issue({ ns: 'srv', sa: 'server' });
  const clientCert = pki.issue({ ns: 'cli', sa: 'client' });
  const serverTls = { current: { chainPem: serverCert.chainPem, keyPem: serverCert.keyPem, rootsPem: pki.rootPem } };
  const connects: HboneConnectInfo[] = [];
  const hbone = createHboneServer({
    tls: () => serverTls.current,
    log: silent,
    onConnect: (stream, info) => {
      connects.push(info);
      factory.connect({ host: info.target.host, port: info.target.port, timeoutMs: 2000 }).then((up) => {
        respondConnect(stream);
        splice(stream, up).catch(() => {});
      }, () => rejectConnect(stream, 503));
    },
  });
  await factory.listen({ host: '127.0.0.1', port: 0, server: hbone });
  const hbonePort = (hbone.address() as net.AddressInfo).port;
  const pool = new HbonePool({ log: silent, ...poolOpts });
  const bed: Bed = {
    pki, serverCert, clientCert, serverTls, hbone, hbonePort, connects, dials: 0, pool,
    request: (authority, over = {}) => ({
      poolKey: `${clientCert.identity}|${serverCert.identity}|127.0.0.1:${hbonePort}`,
      dial: () => {
        bed.dials++;
        return factory.connect({ host: '127.0.0.1', port: hbonePort, timeoutMs: 2000 });
      },
      tls: { chainPem: clientCert.chainPem, keyPem: clientCert.keyPem, rootsPem: pki.rootPem },
      expectedIdentity: serverCert.identity as SpiffeId,
      authority,
      headers: { forwarded: 'for=10.9.9.9', baggage: 'k8s.namespace.name=cli', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      ...over,
    }),
    open: (authority, over) => pool.open(bed.request(authority, over)),
    async close() {
      await pool.close(100);
      await new Promise<void>((r) => hbone.close(() => r()));
    },
  };
  return bed;
}

/** A loopback TCP server (half-open capable) that hands each connection to `handle`. */
export async function upstream(handle: (s: net.Socket) => void): Promise<{ authority: string; close(): void }> {
  const server = await factory.listen({ host: '127.0.0.1', port: 0 });
  server.on('connection', handle);
  return { authority: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, close: () => server.close() };
}

/** Echo: everything back, end when the client ends. */
export const echo = (s: net.Socket): void => {
  s.on('error', () => {});
  s.pipe(s);
};
