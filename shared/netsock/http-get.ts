// A plain HTTP GET over a socket opened inside a network namespace (e.g. ztunnel's admin port on a node's
// localhost). Written by hand on purpose: Node's http client, given an agent, may dial its own socket from the
// caller's namespace. HTTP/1.0 with Connection: close, so the body is everything until the server closes.
import { connectTcp } from './tcp.ts';

export interface HttpGetResult {
  status: number;
  body: string;
}

/** Split a complete HTTP/1.x response into status and body. Pure. */
export function parseHttpResponse(raw: Buffer): HttpGetResult {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, end < 0 ? raw.length : end).toString('latin1');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  if (!m) throw new Error(`not an HTTP/1.x response: ${JSON.stringify(head.slice(0, 40))}`);
  return { status: Number(m[1]), body: end < 0 ? '' : raw.subarray(end + 4).toString('utf8') };
}

export async function httpGet(o: { netns?: string; host: string; port: number; path: string; timeoutMs?: number }): Promise<HttpGetResult> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const socket = await connectTcp({ netns: o.netns, host: o.host, port: o.port, timeoutMs });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`GET http://${o.host}:${o.port}${o.path} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once('end', () => {
      clearTimeout(timer);
      socket.destroy();
      try {
        resolve(parseHttpResponse(Buffer.concat(chunks)));
      } catch (err) {
        reject(err);
      }
    });
    socket.write(`GET ${o.path} HTTP/1.0\r\nHost: ${o.host}:${o.port}\r\nConnection: close\r\n\r\n`);
  });
}
