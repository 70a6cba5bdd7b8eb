// Protocol detection for ports whose protocol is not declared (AUTO): read the first bytes of the tunnel and put them
// back. HTTP/2 prior knowledge starts with the connection preface; HTTP/1.x with a method token and a space. Anything
// else, or nothing within the deadline (a server-first protocol), is TCP.
import type { Duplex } from 'node:stream';
import type { PortProtocol } from '../../shared/waypoint/config.ts';

export type Detected = 'http1' | 'h2' | 'tcp';

const H2_PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];
const LONGEST = Math.max(H2_PREFACE.length, ...METHODS.map((m) => m.length + 1));

/** Pure: what the first bytes say, or undefined when more bytes are needed to tell. */
export function classify(head: Buffer): Detected | undefined {
  const text = head.toString('latin1');
  if (H2_PREFACE.startsWith(text)) return text.length >= H2_PREFACE.length ? 'h2' : undefined;
  if (text.startsWith(H2_PREFACE)) return 'h2';
  for (const m of METHODS) {
    const want = `${m} `;
    if (text.startsWith(want)) return 'http1';
    if (want.startsWith(text)) return head.length >= LONGEST ? 'tcp' : undefined;
  }
  return 'tcp';
}

/** What a declared protocol means for the downstream side; AUTO must be sniffed. */
export function declared(p: PortProtocol): Detected | undefined {
  if (p === 'HTTP') return 'http1';
  if (p === 'HTTP2' || p === 'GRPC') return 'h2';
  if (p === 'TCP') return 'tcp';
  return undefined;
}

/**
 * Read until classify() decides (or the stream ends / the deadline passes → tcp), then unshift what was read so the
 * next consumer sees the stream from its first byte.
 */
export function sniff(stream: Duplex, timeoutMs = 1000): Promise<Detected> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (d: Detected): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      if (chunks.length) stream.unshift(Buffer.concat(chunks));
      resolve(d);
    };
    const onReadable = (): void => {
      let c: Buffer | null;
      while (!done && (c = stream.read() as Buffer | null) !== null) {
        chunks.push(c);
        const d = classify(Buffer.concat(chunks));
        if (d) finish(d);
      }
    };
    const onEnd = (): void => finish('tcp');
    const timer = setTimeout(() => finish('tcp'), timeoutMs);
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    onReadable();
  });
}
