// splice: copy bytes both ways between two duplexes (a client socket and an HBONE stream, say) until both
// directions have ended, with explicit backpressure and each direction's half-close passed on.
//
// Contract: resolves with the bytes copied each way once a's end has been written through to b *and* b's end to a.
// Any error (or a side closing before its direction finished) destroys both and rejects with SpliceError, which
// carries the byte counts so far. Net sockets are switched to half-open mode, since Node's default would end their
// write side as soon as their read side ends, cutting off the other direction.
import type { Duplex } from 'node:stream';
import { SpliceError } from './errors.ts';

export interface SpliceResult {
  aToB: number;
  bToA: number;
}

export function splice(a: Duplex, b: Duplex): Promise<SpliceResult> {
  for (const s of [a, b]) if (s.allowHalfOpen === false) s.allowHalfOpen = true;
  const counts = { aToB: 0, bToA: 0 };
  return new Promise<SpliceResult>((resolve, reject) => {
    let settled = false;
    let pending = 2;
    const cleanups: Array<() => void> = [];
    const finish = (err?: unknown): void => {
      if (settled) return;
      if (err === undefined && --pending > 0) return;
      settled = true;
      for (const c of cleanups) c();
      if (err !== undefined) {
        a.destroy();
        b.destroy();
        reject(new SpliceError(counts.aToB, counts.bToA, err));
      } else {
        resolve({ ...counts });
      }
    };
    // Errors after we settled still need a listener: an unhandled 'error' would crash the proxy.
    const onError = (err: Error): void => finish(err);
    a.on('error', onError);
    b.on('error', onError);
    cleanups.push(pump(a, b, (n) => (counts.aToB += n), finish), pump(b, a, (n) => (counts.bToA += n), finish));
  });
}

/** One direction. Calls done() once src ended and dst finished writing, done(err) on a premature close. */
function pump(src: Duplex, dst: Duplex, count: (n: number) => void, done: (err?: unknown) => void): () => void {
  let srcEnded = src.readableEnded;
  let dstFinished = false;
  const onData = (chunk: Buffer | string): void => {
    count(typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length);
    if (!dst.write(chunk)) src.pause();
  };
  const onDrain = (): void => {
    src.resume();
  };
  const onEnd = (): void => {
    srcEnded = true;
    dst.end();
  };
  const onFinish = (): void => {
    dstFinished = true;
    if (srcEnded) done();
  };
  // A close before our direction completed means data was cut off (RST, RST_STREAM, destroy()).
  const onSrcClose = (): void => {
    if (!srcEnded) done(new Error('the other side closed before sending its end of stream'));
  };
  const onDstClose = (): void => {
    if (!dstFinished) done(new Error('the other side closed before receiving our end of stream'));
  };
  src.on('data', onData);
  src.on('end', onEnd);
  src.on('close', onSrcClose);
  dst.on('drain', onDrain);
  dst.on('finish', onFinish);
  dst.on('close', onDstClose);
  if (srcEnded) onEnd();
  else src.resume();
  return () => {
    src.off('data', onData);
    src.off('end', onEnd);
    src.off('close', onSrcClose);
    dst.off('drain', onDrain);
    dst.off('finish', onFinish);
    dst.off('close', onDstClose);
  };
}
