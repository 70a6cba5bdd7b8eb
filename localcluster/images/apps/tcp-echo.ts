// Sample app `ambient-mesh/tcp-echo` (also istio/tcp-echo-server): a line echo server. Like Istio's,
// argv is `[ports] [prefix]`: ports comma-separated (default $PORT or 9000), each line received is
// answered `<prefix> <line>` (just `<line>` without a prefix). A lone non-numeric argument is the
// prefix. Prints one line per listener; exits 0 on SIGTERM/SIGINT.
import net from 'node:net';
import readline from 'node:readline';

const host = process.env.HOST ?? '0.0.0.0';
const args = process.argv.slice(2);
const portsArg = args.find((a) => /^\d+(,\d+)*$/.test(a));
const ports = (portsArg ?? process.env.PORT ?? '9000').split(',').map(Number);
const prefix = args.find((a) => a !== portsArg);
const sockets = new Set<net.Socket>();

const servers = ports.map((port) => {
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    const rl = readline.createInterface({ input: sock });
    rl.on('line', (line) => { sock.write(prefix === undefined ? `${line}\n` : `${prefix} ${line}\n`); });
  });
  server.listen(port, host, () => {
    const a = server.address() as net.AddressInfo;
    console.log(`tcp-echo listening on ${a.address}:${a.port}`);
  });
  return server;
});

function shutdown(): void {
  for (const s of sockets) s.destroy();
  let open = servers.length;
  for (const s of servers) s.close(() => { if (--open === 0) process.exit(0); });
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
