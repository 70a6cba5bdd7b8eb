// Rough loopback throughput of one HBONE stream (client pool → HBONE server → TCP sink), for the report and for
// noticing regressions by hand. Not a test. Run: node shared/hbone/throughput.ts [MiB]
import { once } from 'node:events';
import type net from 'node:net';
import { startBed, upstream } from './testbed.ts';

const mib = Number(process.argv[2] ?? 1024);
const bed = await startBed();
let received = 0;
const sink = await upstream((s: net.Socket) => {
  s.on('data', (d: Buffer) => (received += d.length));
  s.on('end', () => s.end());
});
const stream = await bed.open(sink.authority);
stream.resume();
const chunk = Buffer.alloc(1 << 20, 7);
const start = process.hrtime.bigint();
for (let i = 0; i < mib; i++) if (!stream.write(chunk)) await once(stream, 'drain');
stream.end();
await once(stream, 'close');
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
console.log(`| direction | MiB | seconds | MiB/s | Gbit/s |\n|---|---|---|---|---|`);
console.log(`| client → upstream, one stream | ${received / 2 ** 20} | ${seconds.toFixed(2)} | ${(mib / seconds).toFixed(0)} | ${((mib * 8 * 1.048576) / 1000 / seconds).toFixed(2)} |`);
await bed.close();
sink.close();
