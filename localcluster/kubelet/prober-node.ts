// A Prober whose HTTP and TCP probes start in the *node's* network namespace, as a real kubelet's do
// (so a mesh that captures pod traffic must let node probes through). Sockets come from the native
// addon (shared/netsock): no process is spawned per probe. Exec probes run in the pod's netns.
//
// The HTTP GET is written by hand on the socket opened inside the netns. Node's http client is not
// used on purpose: given an agent it silently dials its own connection from the daemon's (root)
// namespace, which must never happen.
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { connectTcp } from '../../shared/netsock/index.ts';
import { defaultProber } from './prober.ts';
import { probeTimeout, KubeletError } from './errors.ts';
import type { Prober, HttpProbeSpec } from './types.ts';

/** The status code of an HTTP/1.x response head, or undefined while the status line is incomplete. */
export function parseStatusLine(head: string): number | undefined {
  const eol = head.indexOf('\r\n');
  if (eol < 0) return undefined;
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head.slice(0, eol));
  if (!m) throw new KubeletError('KUBELET_PROBE_FAILED', `probe got a response that is not HTTP/1.x: ${JSON.stringify(head.slice(0, 40))}`);
  return Number(m[1]);
}

export function probeRequest(spec: Pick<HttpProbeSpec, 'host' | 'port' | 'path' | 'headers'>): string {
  const headers: Record<string, string> = { Host: `${spec.host.includes(':') ? `[${spec.host}]` : spec.host}:${spec.port}`, 'User-Agent': 'kube-probe/1.34', Accept: '*/*', Connection: 'close', ...spec.headers };
  const path = spec.path?.startsWith('/') ? spec.path : `/${spec.path ?? ''}`;
  return `GET ${path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
}

function readStatus(stream: Duplex, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let head = '';
    const timer = setTimeout(() => done(probeTimeout('http', timeoutMs)), timeoutMs);
    const done = (err: Error | undefined, code?: number): void => {
      clearTimeout(timer);
      stream.removeAllListeners('data');
      stream.destroy();
      if (err) reject(err);
      else resolve(code!);
    };
    stream.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      try {
        const code = parseStatusLine(head);
        if (code !== undefined) done(undefined, code);
        else if (head.length > 8192) done(new KubeletError('KUBELET_PROBE_FAILED', 'probe response status line too long'));
      } catch (err) {
        done(err as Error);
      }
    });
    stream.once('error', (err) => done(err));
    stream.once('end', () => done(new KubeletError('KUBELET_PROBE_FAILED', 'connection closed before an HTTP status line')));
  });
}

export function nodeProber(nodeNetns: string): Prober {
  return {
    async http(spec) {
      const socket = await connectTcp({ netns: nodeNetns, host: spec.host, port: spec.port, timeoutMs: spec.timeoutMs });
      // HTTPS: TLS over the same socket, unverified, as the kubelet does.
      const stream: Duplex = spec.scheme === 'HTTPS' ? tls.connect({ socket, rejectUnauthorized: false }) : socket;
      const status = readStatus(stream, spec.timeoutMs);
      stream.write(probeRequest(spec));
      return await status;
    },
    async tcp(spec) {
      const socket = await connectTcp({ netns: nodeNetns, host: spec.host, port: spec.port, timeoutMs: spec.timeoutMs });
      socket.destroy();
    },
    exec: (spec) => defaultProber.exec(spec),
  };
}
