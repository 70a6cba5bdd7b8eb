// Run inside a pod (`meshctl exec -n NS POD -- <repo>/node_modules/.bin/node <repo>/test/waypoint/load-client.ts
// --url URL --n N --concurrency C [--header k:v]... [--timeout-ms MS] [--method M]`): N HTTP/1.1 requests, at most C
// in flight over a keep-alive Agent of C sockets, each bounded by its own deadline. The pod's network namespace and
// DNS apply, so ztunnel captures this traffic like any app's. Prints one JSON line (LoadSummary): counts by status,
// by the `version` field of JSON bodies and by client-side error, the headers of the first response of each status,
// and latency percentiles in ms. Exits 0 whatever the responses were (the test judges them); 2 on bad arguments.
import http from 'node:http';
import { parseArgs } from 'node:util';

/** One request's outcome as the client saw it. */
export interface Sample {
  /** HTTP status, or undefined when no response arrived (see error). */
  status?: number;
  /** `timeout`, or the socket error's code (ECONNRESET, ECONNREFUSED …). */
  error?: string;
  version?: string;
  headers?: Record<string, string>;
  ms: number;
}

export interface LoadSummary {
  n: number;
  statuses: Record<string, number>;
  errors: Record<string, number>;
  versions: Record<string, number>;
  /** Response headers of the first response seen with each status. */
  headers: Record<string, Record<string, string>>;
  /** Over every request, errors included. */
  latencyMs: { min: number; p50: number; p99: number; max: number };
}

/** Nearest-rank percentile of ascending `sorted` (0 when empty). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** `name:value` → [lower-case name, value]; the value may itself contain colons. */
export function parseHeader(text: string): [string, string] {
  const i = text.indexOf(':');
  if (i <= 0) throw new Error(`bad --header ${JSON.stringify(text)}: expected name:value`);
  return [text.slice(0, i).trim().toLowerCase(), text.slice(i + 1).trim()];
}

/** The `version` field of a JSON body, if there is one. */
export function versionOf(body: string): string | undefined {
  try {
    const v = (JSON.parse(body) as { version?: unknown }).version;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

export function summarize(samples: Sample[]): LoadSummary {
  const inc = (o: Record<string, number>, k: string): void => { o[k] = (o[k] ?? 0) + 1; };
  const s: LoadSummary = { n: samples.length, statuses: {}, errors: {}, versions: {}, headers: {}, latencyMs: { min: 0, p50: 0, p99: 0, max: 0 } };
  for (const x of samples) {
    if (x.status !== undefined) {
      const k = String(x.status);
      inc(s.statuses, k);
      if (x.headers && !s.headers[k]) s.headers[k] = x.headers;
    } else {
      inc(s.errors, x.error ?? 'unknown');
    }
    if (x.version !== undefined) inc(s.versions, x.version);
  }
  const ms = samples.map((x) => x.ms).sort((a, b) => a - b);
  const round = (v: number): number => Math.round(v * 10) / 10;
  s.latencyMs = { min: round(ms[0] ?? 0), p50: round(percentile(ms, 50)), p99: round(percentile(ms, 99)), max: round(ms.at(-1) ?? 0) };
  return s;
}

/** Bodies beyond this are counted but not kept (the sample apps answer a few hundred bytes). */
const MAX_BODY = 64 * 1024;

function once(agent: http.Agent, url: URL, method: string, headers: Record<string, string>, timeoutMs: number): Promise<Sample> {
  const start = performance.now();
  return new Promise<Sample>((resolve) => {
    let done = false;
    const finish = (s: Omit<Sample, 'ms'>): void => {
      if (done) return;
      done = true;
      resolve({ ...s, ms: performance.now() - start });
    };
    const signal = AbortSignal.timeout(timeoutMs);
    const req = http.request(url, { agent, method, headers, signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < MAX_BODY) chunks.push(c);
        size += c.length;
      });
      res.on('end', () => {
        const h: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : v;
        finish({ status: res.statusCode, headers: h, version: versionOf(Buffer.concat(chunks).toString('utf8')) });
      });
      res.on('error', (err: NodeJS.ErrnoException) => finish({ error: signal.aborted ? 'timeout' : (err.code ?? err.name) }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => finish({ error: signal.aborted ? 'timeout' : (err.code ?? err.name) }));
    req.end();
  });
}

export async function run(opts: { url: string; n: number; concurrency: number; headers: Record<string, string>; timeoutMs: number; method: string }): Promise<LoadSummary> {
  const url = new URL(opts.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const samples: Sample[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < opts.n) {
      next++;
      samples.push(await once(agent, url, opts.method, opts.headers, opts.timeoutMs));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.n) }, worker));
  } finally {
    agent.destroy();
  }
  return summarize(samples);
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      url: { type: 'string' },
      n: { type: 'string', default: '1' },
      concurrency: { type: 'string', default: '1' },
      header: { type: 'string', multiple: true, default: [] },
      'timeout-ms': { type: 'string', default: '10000' },
      method: { type: 'string', default: 'GET' },
    },
  });
  const n = Number(v.n);
  const concurrency = Number(v.concurrency);
  const timeoutMs = Number(v['timeout-ms']);
  if (!v.url || !(n >= 1) || !(concurrency >= 1) || !(timeoutMs > 0)) {
    console.error('usage: load-client.ts --url URL --n N --concurrency C [--header name:value]... [--timeout-ms MS] [--method M]');
    process.exit(2);
  }
  const headers = Object.fromEntries(v.header.map(parseHeader));
  console.log(JSON.stringify(await run({ url: v.url, n, concurrency, headers, timeoutMs, method: v.method.toUpperCase() })));
}

if (import.meta.main) await main();
