// ztunnel data-path benchmark (on demand as root, not a test). A two-node local cluster, a client pod on node-1 and
// an echo/sink server pod on node-2, measured on the same path (pod IP to pod IP) three ways: direct, a stunnel mTLS
// pair run inside the two pod namespaces (if stunnel4 is installed), and through the two ztunnels. The namespace is
// enrolled from the start; the direct and stunnel paths use ports the pods exclude from capture (the
// ambient-mesh.io/exclude-*-ports annotations), so the three setups run side by side and the latency runs alternate
// between them in ROUND_SECONDS rounds (a noisy moment on these shared cores then falls on all three alike, not on
// whichever ran at the time). Open-loop latency at a fixed request rate, one-stream bulk throughput (setups
// alternated, median of BULK_REPS), proxy CPU per 1000 rps over the rounds of its setup, and ztunnel RSS. Prints a
// markdown table. The cluster is always torn down (`meshctl down`).
// BENCH_ZTUNNEL_NODE_OPTIONS and BENCH_ZTUNNEL_ENV ("K=V …") are set on the ztunnel DaemonSet before the runs (e.g. to
// take CPU profiles);
// BENCH_WARM_ECHOES (30000) closed-loop echoes go through each setup before the latency rounds.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '../test/support/eventually.ts';
import { Meshctl, netnsOf } from '../test/support/meshctl.ts';
import { captured, counterSum, execIn, pod, podNetns, waitReady, ztunnelMetrics, ztunnelOn, type PodFacts } from '../test/ztunnel/support.ts';
import { cpuSeconds, memoryMb, type Memory } from './proc.ts';

const RATE = Number(process.env.BENCH_RATE ?? 1000);
const CONNS = Number(process.env.BENCH_CONNS ?? 4);
/** Measured seconds per setup, in rounds of ROUND_SECONDS that alternate between the setups. */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUND_SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 2);
/** Echoes each setup carries, closed loop, before the latency rounds (JIT warm-up; see warmClient). */
const WARM_ECHOES = Number(process.env.BENCH_WARM_ECHOES ?? 30_000);
const SIZE = 100;
const BULK_MIB = Number(process.env.BENCH_BULK_MIB ?? 512);
const BULK_REPS = Number(process.env.BENCH_BULK_REPS ?? 3);
/** Captured: the ztunnel path. */
const ECHO_PORT = 9000;
const SINK_PORT = 9001;
/** Excluded from capture on both pods: the direct path, and stunnel's ports. */
const PLAIN_ECHO_PORT = 9002;
const PLAIN_SINK_PORT = 9003;
const STUNNEL_ECHO_PORT = 19443;
const STUNNEL_SINK_PORT = 19444;
const EXCLUDED = [PLAIN_ECHO_PORT, PLAIN_SINK_PORT, STUNNEL_ECHO_PORT, STUNNEL_SINK_PORT].join(',');

/** Echo (NODELAY) and sink (counts bytes, answers the count after the client's half-close), each on two ports. */
const SERVER = `
import socket, threading
def echo(c):
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while True:
        d = c.recv(65536)
        if not d: break
        c.sendall(d)
    c.close()
def sink(c):
    n = 0; buf = bytearray(1 << 20)
    while True:
        k = c.recv_into(buf)
        if not k: break
        n += k
    c.sendall(str(n).encode()); c.close()
def serve(port, fn):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('0.0.0.0', port)); s.listen(128)
    while True:
        c, _ = s.accept()
        threading.Thread(target=fn, args=(c,), daemon=True).start()
for port, fn in ((${SINK_PORT}, sink), (${PLAIN_ECHO_PORT}, echo), (${PLAIN_SINK_PORT}, sink)):
    threading.Thread(target=serve, args=(port, fn), daemon=True).start()
serve(${ECHO_PORT}, echo)
`;

interface Target { name: string; host: string; port: number }

/**
 * Open-loop client over several targets, in rounds: each round sends to one target for ROUND_SECONDS, the targets
 * taking turns (the first of each cycle rotates), until every target had SECONDS. Within a round request k is due
 * at t0 + k/RATE on connection k % CONNS whatever happened before, and its latency runs from that due time (so a
 * stall is charged to every request it delays). A sender thread sleeps to each due time (nanosleep precision); a
 * receiver thread epolls the target's sockets and matches echoes FIFO per connection. Prints per target the
 * percentiles, and each round's CLOCK_MONOTONIC window (for the CPU sampler).
 */
function latencyClient(targets: Target[]): string {
  return `
import socket, threading, time, select, json, collections, sys
sys.setswitchinterval(0.0001)
TARGETS, RATE, CONNS, DUR, ROUND, SIZE = ${JSON.stringify(targets.map((t) => [t.name, t.host, t.port]))}, ${RATE}, ${CONNS}, ${SECONDS}, ${ROUND_SECONDS}, ${SIZE}
payload = b'x' * SIZE
def connect(h, p):
    socks = [socket.create_connection((h, p), 10) for _ in range(CONNS)]
    for s in socks:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(payload); got = 0
        while got < SIZE:
            d = s.recv(SIZE - got)
            if not d: raise SystemExit('closed during warm-up')
            got += len(d)
    return socks
conns = {name: connect(h, p) for name, h, p in TARGETS}
def run_round(socks):
    pend = [collections.deque() for _ in socks]
    lat = []; total = int(ROUND * RATE)
    t0 = time.perf_counter() + 0.02
    end = t0 + ROUND + 10
    def recv():
        ep = select.epoll(); fds = {}
        for i, s in enumerate(socks):
            ep.register(s.fileno(), select.EPOLLIN); fds[s.fileno()] = i
        have = [0] * CONNS; n = 0
        while n < total and time.perf_counter() < end:
            for fd, _ in ep.poll(0.01):
                i = fds[fd]; d = socks[i].recv(65536)
                now = time.perf_counter()
                if not d: raise SystemExit('connection closed')
                have[i] += len(d)
                while have[i] >= SIZE:
                    have[i] -= SIZE; due = pend[i].popleft(); lat.append(now - due); n += 1
        ep.close()
    r = threading.Thread(target=recv); r.start()
    for k in range(total):
        due = t0 + k / RATE
        w = due - time.perf_counter()
        if w > 0: time.sleep(w)
        i = k % CONNS
        pend[i].append(due); socks[i].sendall(payload)
    r.join()
    return t0, time.perf_counter(), lat
lats = {name: [] for name, _, _ in TARGETS}
windows = []
cycles = max(1, round(DUR / ROUND))
names = [t[0] for t in TARGETS]
for c in range(cycles):
    for j in range(len(names)):
        name = names[(c + j) % len(names)]
        t0, t1, lat = run_round(conns[name])
        lats[name].extend(lat); windows.append([name, time.monotonic() - (time.perf_counter() - t0), time.monotonic() - (time.perf_counter() - t1)])
        time.sleep(0.05)
out = {}
for name, xs in lats.items():
    xs.sort()
    def pct(p): return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] * 1000
    out[name] = {'n': len(xs), 'expected': int(cycles * ROUND * RATE), 'p50': pct(50), 'p90': pct(90), 'p99': pct(99), 'p999': pct(99.9), 'max': xs[-1] * 1000}
print(json.dumps({'latency': out, 'windows': windows}))
`;
}

/** One stream: BULK_MIB MiB into the sink, timed until the sink's byte count comes back. */
function bulkClient(host: string, port: number): string {
  return `
import socket, os, time, json
s = socket.create_connection((${JSON.stringify(host)}, ${port}), 10)
chunk = memoryview(os.urandom(1 << 20))
t0 = time.perf_counter()
for _ in range(${BULK_MIB}): s.sendall(chunk)
s.shutdown(socket.SHUT_WR)
r = b''
while True:
    d = s.recv(64)
    if not d: break
    r += d
t1 = time.perf_counter()
print(json.dumps({'bytes': int(r), 'seconds': t1 - t0}))
`;
}

function workloads(): string {
  return `
apiVersion: v1
kind: Namespace
metadata: {name: bench, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: Pod
metadata:
  name: client
  namespace: bench
  labels: {app: client}
  annotations: {ambient-mesh.io/exclude-outbound-ports: "${EXCLUDED}"}
spec:
  nodeName: node-1
  containers: [{name: client, image: ambient-mesh/curl}]
---
apiVersion: v1
kind: Pod
metadata:
  name: server
  namespace: bench
  labels: {app: server}
  annotations: {ambient-mesh.io/exclude-inbound-ports: "${EXCLUDED}"}
spec:
  nodeName: node-2
  containers:
  - name: server
    image: python
    command: [python3, -c, ${JSON.stringify(SERVER)}]
    readinessProbe: {tcpSocket: {port: ${ECHO_PORT}}, periodSeconds: 1}
`;
}

interface Latency { n: number; expected: number; p50: number; p90: number; p99: number; p999: number; max: number }
interface Setup { name: string; target: Target; sinkPort: number; latency?: Latency; gbps?: number }

async function runPython(m: Meshctl, p: PodFacts, script: string, timeoutMs: number): Promise<any> {
  const r = await execIn(m, p, ['python3', '-c', script], timeoutMs);
  if (r.code !== 0) throw new Error(`python in ${p.name} exited ${r.code}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

/**
 * Closed-loop echoes as fast as they go over CONNS connections, `n` in all, before a latency run: V8 moves a Node
 * proxy's data path to its optimizing compiler after thousands of calls, and that burst of compiling is not the
 * steady state (the waypoint benchmark measured it as most of its p99). Every setup gets the same warm-up.
 */
function warmClient(host: string, port: number, n: number): string {
  return `
import socket, json
H, P, CONNS, N, SIZE = ${JSON.stringify(host)}, ${port}, ${CONNS}, ${n}, ${SIZE}
socks = [socket.create_connection((H, P), 10) for _ in range(CONNS)]
payload = b'x' * SIZE
for s in socks: s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for k in range(N // CONNS):
    for s in socks: s.sendall(payload)
    for s in socks:
        got = 0
        while got < SIZE:
            d = s.recv(SIZE - got)
            if not d: raise SystemExit('closed during warm-up')
            got += len(d)
for s in socks: s.close()
print(json.dumps({'echoes': N // CONNS * CONNS}))
`;
}

/**
 * Samples processes' CPU time every 50 ms on CLOCK_MONOTONIC (the clock of the latency client's round windows), so
 * each proxy's CPU can be taken over the rounds of its own setup.
 */
function cpuSampler(pids: number[]): { stop(): void; cpuIn(pid: number, from: number, to: number): number } {
  const samples = new Map<number, Array<[number, number]>>(pids.map((p) => [p, []]));
  const sample = (): void => {
    const t = Number(process.hrtime.bigint()) / 1e9;
    for (const [pid, xs] of samples) xs.push([t, cpuSeconds(pid)]);
  };
  sample();
  const timer = setInterval(sample, 50);
  /** CPU seconds at time t, interpolated between the samples around it. */
  const at = (xs: Array<[number, number]>, t: number): number => {
    let i = xs.findIndex(([ts]) => ts >= t);
    if (i < 0) i = xs.length - 1;
    if (i === 0) return xs[0]![1];
    const [t0, c0] = xs[i - 1]!;
    const [t1, c1] = xs[i]!;
    return t1 === t0 ? c1 : c0 + ((c1 - c0) * (t - t0)) / (t1 - t0);
  };
  return {
    stop: () => {
      clearInterval(timer);
      sample();
    },
    cpuIn: (pid, from, to) => at(samples.get(pid)!, to) - at(samples.get(pid)!, from),
  };
}

/** vCPU per 1000 rps of a process over the round windows of one setup (open loop: RATE throughout each round). */
function vcpuPer1k(sampler: ReturnType<typeof cpuSampler>, pid: number, windows: Array<[string, number, number]>, setup: string): number {
  let cpu = 0;
  let wall = 0;
  for (const [name, from, to] of windows) {
    if (name !== setup) continue;
    cpu += sampler.cpuIn(pid, from, to);
    wall += to - from;
  }
  return cpu / wall / (RATE / 1000);
}

/** The ztunnel processes in the ztunnel pod's network namespace (its pid list filtered by command line). */
function ztunnelPids(m: Meshctl, node: string): number[] {
  const out = spawnSync('ip', ['netns', 'pids', ztunnelOn(m, node).netns], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter(Boolean).map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('ztunnel/main.ts');
    } catch {
      return false;
    }
  });
}



/** Wait until something listens on the TCP port inside the namespace. */
async function listening(netns: string, port: number): Promise<void> {
  await eventually(() => spawnSync('ip', ['netns', 'exec', netns, 'ss', '-Hltn', `sport = :${port}`], { encoding: 'utf8' }).stdout.trim() !== '', 10_000);
}

async function main(): Promise<void> {
  const started = performance.now();
  const m = new Meshctl();
  const stunnels: ChildProcess[] = [];
  const results: Setup[] = [];
  let cpu: Array<{ label: string; vcpuPer1k: number }> | undefined;
  let stunnelCpu: Array<{ label: string; vcpuPer1k: number }> | undefined;
  let mem: Array<{ node: string } & Memory> | undefined;
  let stunnelMissing = false;
  const bulkRange = new Map<string, [number, number]>();
  let cid: string | undefined;
  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    for (const s of stunnels) {
      if (s.exitCode === null && s.signalCode === null && s.pid) {
        const exited = new Promise((r) => s.once('exit', r));
        process.kill(s.pid, 'SIGTERM');
        await Promise.race([exited, sleep(5000)]);
        if (s.exitCode === null && s.signalCode === null) process.kill(s.pid, 'SIGKILL');
      }
    }
    const r = await m.run(['down'], { timeoutMs: 120_000 });
    if (r.code !== 0) console.error(`meshctl down exited ${r.code}: ${r.stderr}`);
    rmSync(m.home, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => void cleanup().finally(() => process.exit(130)));
  }
  try {
    const t0 = performance.now();
    await m.ok(['up', '--nodes', '2'], { timeoutMs: 240_000 });
    cid = m.clusterId;
    // e.g. BENCH_ZTUNNEL_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/zprof" (the ztunnels write their profiles when
    // `down` stops them) or BENCH_ZTUNNEL_ENV="UV_USE_IO_URING=0".
    const zenv = [
      ...(process.env.BENCH_ZTUNNEL_NODE_OPTIONS ? [`NODE_OPTIONS=${process.env.BENCH_ZTUNNEL_NODE_OPTIONS}`] : []),
      ...(process.env.BENCH_ZTUNNEL_ENV?.split(/\s+/).filter(Boolean) ?? []),
    ];
    if (zenv.length) {
      const env = m.kubectl(['set', 'env', '-n', 'istio-system', 'daemonset/ztunnel', ...zenv]);
      if (env.code !== 0) throw new Error(`kubectl set env: ${env.stderr}`);
      const roll = m.kubectl(['rollout', 'status', '-n', 'istio-system', 'daemonset/ztunnel', '--timeout=120s']);
      if (roll.code !== 0) throw new Error(`rollout: ${roll.stderr}`);
    }
    await m.ok(['apply', '-f', '-'], { input: workloads() });
    await waitReady(m, 'bench', 2);
    const upSeconds = (performance.now() - t0) / 1000;
    const client = pod(m, 'bench', 'client');
    const server = pod(m, 'bench', 'server');
    if (client.node !== 'node-1' || server.node !== 'node-2') throw new Error(`pods on ${client.node}/${server.node}, expected node-1/node-2`);
    await eventually(() => captured(m, client) && captured(m, server), 60_000);
    // Captured is not enough: wait until a connection is seen by the destination ztunnel as mTLS.
    const opened = async () => counterSum(await ztunnelMetrics(m, 'node-2'), 'istio_tcp_connections_opened_total', { reporter: 'destination', connection_security_policy: 'mutual_tls' });
    const echoOnce = (port: number, host = server.ip) => execIn(m, client, ['python3', '-c', `import socket; s = socket.create_connection((${JSON.stringify(host)}, ${port}), 5); s.sendall(b'ping'); assert s.recv(4) == b'ping'`], 20_000);
    await eventually(async () => {
      const c0 = await opened();
      return (await echoOnce(ECHO_PORT)).code === 0 && (await opened()) > c0;
    }, 60_000, 500);
    // And the excluded port must bypass both ztunnels.
    const c0 = await opened();
    const plain = await echoOnce(PLAIN_ECHO_PORT);
    if (plain.code !== 0) throw new Error(`direct echo on the excluded port failed: ${plain.stderr}`);
    if ((await opened()) !== c0) throw new Error(`port ${PLAIN_ECHO_PORT} went through ztunnel; the exclude annotations did not apply`);
    console.error(`cluster ${cid} up with pods in ${upSeconds.toFixed(0)} s; client ${client.ip} → server ${server.ip}`);

    results.push({ name: 'direct', target: { name: 'direct', host: server.ip, port: PLAIN_ECHO_PORT }, sinkPort: PLAIN_SINK_PORT });
    const stunnelBin = spawnSync('sh', ['-c', 'command -v stunnel4 || command -v stunnel'], { encoding: 'utf8' }).stdout.trim();
    if (!stunnelBin) {
      stunnelMissing = true;
    } else {
      const dir = join(m.home, 'stunnel');
      spawnSync('mkdir', ['-p', dir]);
      const cert = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=bench', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { encoding: 'utf8' });
      if (cert.status !== 0) throw new Error(`openssl: ${cert.stderr}`);
      const svc = (name: string, accept: string, connect: string, isClient: boolean) => `[${name}]
client = ${isClient ? 'yes' : 'no'}
accept = ${accept}
connect = ${connect}
cert = ${join(dir, 'cert.pem')}
key = ${join(dir, 'key.pem')}
CAfile = ${join(dir, 'cert.pem')}
verifyPeer = yes
socket = l:TCP_NODELAY=1
socket = r:TCP_NODELAY=1
`;
      const global = 'foreground = yes\npid =\ndebug = 4\n';
      // The server side reaches the apps on loopback (never captured); the tunnel's own ports are excluded.
      writeFileSync(join(dir, 'server.conf'), global + svc('echo', `0.0.0.0:${STUNNEL_ECHO_PORT}`, `127.0.0.1:${PLAIN_ECHO_PORT}`, false) + svc('sink', `0.0.0.0:${STUNNEL_SINK_PORT}`, `127.0.0.1:${PLAIN_SINK_PORT}`, false));
      writeFileSync(join(dir, 'client.conf'), global + svc('echo', '127.0.0.1:19000', `${server.ip}:${STUNNEL_ECHO_PORT}`, true) + svc('sink', '127.0.0.1:19001', `${server.ip}:${STUNNEL_SINK_PORT}`, true));
      for (const [p, conf] of [[server, 'server.conf'], [client, 'client.conf']] as const) {
        // `ip netns exec` execs stunnel, so the child's pid is stunnel's own.
        const s = spawn('ip', ['netns', 'exec', podNetns(m, p), stunnelBin, join(dir, conf)], { stdio: ['ignore', 'ignore', 'pipe'] });
        let log = '';
        s.stderr!.on('data', (d) => (log = (log + d).slice(-4000)));
        s.once('exit', (c) => {
          if (c) console.error(`stunnel ${conf} exited ${c}: ${log}`);
        });
        stunnels.push(s);
      }
      await listening(podNetns(m, server), STUNNEL_ECHO_PORT);
      await listening(podNetns(m, client), 19000);
      results.push({ name: 'stunnel mTLS', target: { name: 'stunnel', host: '127.0.0.1', port: 19000 }, sinkPort: 19001 });
    }
    results.push({ name: 'ztunnel (2 hops)', target: { name: 'ztunnel', host: server.ip, port: ECHO_PORT }, sinkPort: SINK_PORT });
    const zpids = ['node-1', 'node-2'].map((node) => ({ node, pids: ztunnelPids(m, node) }));
    for (const z of zpids) if (z.pids.length !== 1) throw new Error(`${z.node}: expected one ztunnel process, found ${JSON.stringify(z.pids)}`);

    for (const r of results) {
      if (WARM_ECHOES <= 0) break;
      console.error(`warming ${r.name} …`);
      await runPython(m, client, warmClient(r.target.host, r.target.port, WARM_ECHOES), 300_000);
    }
    console.error(`latency: ${results.length} setups alternating in ${ROUND_SECONDS} s rounds …`);
    const stunnelPids = stunnels.map((x) => x.pid!);
    const sampler = cpuSampler([...zpids.map((z) => z.pids[0]!), ...stunnelPids]);
    const rounds = await runPython(m, client, latencyClient(results.map((r) => r.target)), results.length * SECONDS * 1000 + 120_000) as
      { latency: Record<string, Latency>; windows: Array<[string, number, number]> };
    sampler.stop();
    for (const r of results) r.latency = rounds.latency[r.target.name];
    cpu = zpids.map((z) => ({ label: z.node, vcpuPer1k: vcpuPer1k(sampler, z.pids[0]!, rounds.windows, 'ztunnel') }));
    if (stunnels.length === 2) {
      stunnelCpu = [{ label: 'client side', pid: stunnels[1]!.pid! }, { label: 'server side', pid: stunnels[0]!.pid! }]
        .map((x) => ({ label: x.label, vcpuPer1k: vcpuPer1k(sampler, x.pid, rounds.windows, 'stunnel') }));
    }

    // Bulk: the setups alternate, BULK_REPS times; each keeps its median.
    const bulk = new Map<string, number[]>(results.map((r) => [r.name, []]));
    for (let rep = 0; rep < BULK_REPS; rep++) {
      for (const r of results) {
        console.error(`bulk ${rep + 1}/${BULK_REPS} ${r.name} …`);
        const b = await runPython(m, client, bulkClient(r.target.host, r.sinkPort), 600_000) as { bytes: number; seconds: number };
        if (b.bytes !== BULK_MIB * 1048576) throw new Error(`${r.name}: the sink counted ${b.bytes} bytes, expected ${BULK_MIB * 1048576}`);
        bulk.get(r.name)!.push((b.bytes * 8) / b.seconds / 1e9);
      }
    }
    for (const r of results) {
      const xs = bulk.get(r.name)!.sort((x, y) => x - y);
      r.gbps = xs[Math.floor(xs.length / 2)];
      bulkRange.set(r.name, [xs[0]!, xs.at(-1)!]);
    }
    mem = zpids.map((z) => ({ node: z.node, ...memoryMb(z.pids[0]!) }));
  } finally {
    await cleanup();
  }

  const total = (performance.now() - started) / 1000;
  const left = cid ? netnsOf(cid) : [];
  const direct = results.find((r) => r.name === 'direct')!;
  const st = results.find((r) => r.name === 'stunnel mTLS');
  const z = results.find((r) => r.name.startsWith('ztunnel'))!;
  const ms = (x?: number) => (x === undefined ? 'n/a' : `${x.toFixed(3)} ms`);
  const plus = (x?: number) => (x === undefined ? 'n/a' : `${x >= 0 ? '+' : ''}${x.toFixed(3)} ms`);
  const cell = (s: Setup | undefined, f: (s: Setup) => string) => (s ? f(s) : stunnelMissing ? 'n/a: stunnel not installed (apt-get install -y stunnel4)' : 'n/a');
  const ok = (b: boolean) => (b ? '✅' : '❌');
  const added = (s: Setup | undefined, k: 'p50' | 'p99') => (s?.latency ? s.latency[k] - direct.latency![k] : undefined);
  const rows: string[][] = [];
  rows.push(['latency p50 (open loop)', ms(direct.latency?.p50), cell(st, (s) => ms(s.latency?.p50)), ms(z.latency?.p50), '', '']);
  rows.push(['latency p99', ms(direct.latency?.p99), cell(st, (s) => ms(s.latency?.p99)), ms(z.latency?.p99), '', '']);
  rows.push(['latency p99.9 / max', `${ms(direct.latency?.p999)} / ${ms(direct.latency?.max)}`, cell(st, (s) => `${ms(s.latency?.p999)} / ${ms(s.latency?.max)}`), `${ms(z.latency?.p999)} / ${ms(z.latency?.max)}`, '', '']);
  rows.push([`samples (${ROUND_SECONDS} s rounds, alternating)`, `${direct.latency?.n}/${direct.latency?.expected}`, cell(st, (s) => `${s.latency?.n}/${s.latency?.expected}`), `${z.latency?.n}/${z.latency?.expected}`, '', '']);
  const zp50 = added(z, 'p50');
  const zp99 = added(z, 'p99');
  rows.push(['added p50 vs direct', '—', cell(st, () => plus(added(st, 'p50'))), plus(zp50), '≤ +0.3 ms', ok(zp50 !== undefined && zp50 <= 0.3)]);
  rows.push(['added p99 vs direct', '—', cell(st, () => plus(added(st, 'p99'))), plus(zp99), '≤ +1 ms', ok(zp99 !== undefined && zp99 <= 1)]);
  const g = (x?: number) => (x === undefined ? 'n/a' : `${x.toFixed(2)} Gbit/s`);
  const gr = (s: Setup) => {
    const r = bulkRange.get(s.name);
    return `${g(s.gbps)}${r && BULK_REPS > 1 ? ` (${r[0].toFixed(2)}…${r[1].toFixed(2)})` : ''}`;
  };
  const ratio = st?.gbps ? z.gbps! / st.gbps : undefined;
  rows.push([`bulk, one stream, ${BULK_MIB} MiB into a sink (median of ${BULK_REPS})`, gr(direct), cell(st, gr), `${gr(z)}${ratio === undefined ? '' : ` (${ratio.toFixed(2)}× stunnel)`}`, '≥ 3 Gbit/s and ≥ 0.5× stunnel', ok((z.gbps ?? 0) >= 3 && (ratio === undefined || ratio >= 0.5))]);
  if (cpu) {
    const c = cpu as NonNullable<typeof cpu>;
    const worst = Math.max(...c.map((x) => x.vcpuPer1k));
    const sum = c.reduce((a, x) => a + x.vcpuPer1k, 0);
    const st = stunnelCpu as typeof cpu;
    const stCell = st ? `${st.map((x) => `${x.label} ${x.vcpuPer1k.toFixed(3)}`).join(', ')} (sum ${st.reduce((a, x) => a + x.vcpuPer1k, 0).toFixed(3)}) vCPU` : '—';
    rows.push([`proxy CPU per 1000 rps (at ${RATE} rps)`, '—', stCell, `${c.map((x) => `${x.label} ${x.vcpuPer1k.toFixed(3)}`).join(', ')} (sum ${sum.toFixed(3)}) vCPU`, '≤ 0.10 vCPU per ztunnel', ok(worst <= 0.1)]);
  }
  if (mem?.length) {
    const worst = Math.max(...mem.map((x) => x.rss));
    rows.push(['ztunnel RSS after the runs (peak; anonymous + file pages)', '—', '—', mem.map((x) => `${x.node} ${x.rss.toFixed(0)} MB (${x.hwm.toFixed(0)}; ${x.anon.toFixed(0)} + ${x.file.toFixed(0)})`).join(', '), '≤ 60 MB', ok(worst <= 60)]);
  }
  console.log(`\nztunnel data path: client pod on node-1 → server pod on node-2 by pod IP; ${RATE} req/s of ${SIZE} B over ${CONNS} connections, open loop, ${SECONDS} s per setup in ${ROUND_SECONDS} s rounds alternating between the setups.\n`);
  console.log('| measurement | direct | stunnel mTLS pair | through 2 ztunnels | target | ztunnel ok |\n|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log(`\nrun took ${total.toFixed(0)} s; namespaces left of cluster ${cid}: ${left.length ? left.join(' ') : 'none'}`);
  process.exit(0);
}

try {
  await main();
} catch (err) {
  console.error(err);
  process.exit(1);
}
