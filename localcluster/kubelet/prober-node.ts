// A Prober whose HTTP and TCP probes start in the *node's* network namespace, as a real kubelet's do
// (so a mesh that captures pod traffic must let node probes through). Sockets come from the native
// addon (shared/netsock): no process is spawned per probe. Exec probes run in the pod's netns.
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { connectTcp } from '../../shared/netsock/index.ts';
import { defaultProber } from './prober.ts';
import { probeTimeout } from './errors.ts';
import type { Prober } from './types.ts';

export function nodeProber(nodeNetns: string): Prober {
  return {
    async http(spec) {
      const socket = await connectTcp({ netns: nodeNetns, host: spec.host, port: spec.port, timeoutMs: spec.timeoutMs });
      return await new Promise<number>((resolve, reject) => {
        const mod = spec.scheme === 'HTTPS' ? https : http;
        const req = mod.request(
          {
            host: spec.host, port: spec.port, path: spec.path || '/', method: 'GET', agent: false, rejectUnauthorized: false,
            headers: { 'user-agent': 'kube-probe/1.34', ...spec.headers },
            // The connection already exists (opened inside the node's netns); HTTPS wraps it in TLS
            // without verifying, as the kubelet does.
            createConnection: () => (spec.scheme === 'HTTPS' ? tls.connect({ socket, rejectUnauthorized: false }) : socket),
          },
          (res) => {
            res.resume();
            res.once('end', () => socket.destroy());
            resolve(res.statusCode ?? 0);
          },
        );
        req.setTimeout(spec.timeoutMs, () => req.destroy(probeTimeout('http', spec.timeoutMs)));
        req.once('error', (err) => {
          socket.destroy();
          reject(err);
        });
        req.end();
      });
    },
    async tcp(spec) {
      const socket = await connectTcp({ netns: nodeNetns, host: spec.host, port: spec.port, timeoutMs: spec.timeoutMs });
      socket.destroy();
    },
    exec: (spec) => defaultProber.exec(spec),
  };
}
