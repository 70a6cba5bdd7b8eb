// Test helper process: serves the cluster DNS on <address>:53 (UDP + TCP) for the snapshot in argv[3]
// (JSON { services, slices }); prints "ready" once bound. Started with `ip netns exec <fabric>` by tests.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { DnsServer } from '../server.ts';

const address = process.argv[2] ?? '10.100.0.1';
const snapshot = JSON.parse(process.argv[3] ?? '{"services":[],"slices":[]}');
const server = new DnsServer();
server.update(snapshot.services, snapshot.slices);
const udp = createSocket('udp4');
udp.bind(53, address);
await once(udp, 'listening');
const tcp = createServer();
tcp.listen(53, address);
await once(tcp, 'listening');
server.serveUdp(udp);
server.serveTcp(tcp);
process.stdout.write('ready\n');
