// Container logs: `<logsDir>/<ns>_<pod>_<uid>/<container>.log`, read back as a Readable, optionally
// only the last lines, optionally following the file until the pod is gone from this node.
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PodLogOptions } from './types.ts';
import { containerNotFound } from './errors.ts';

export interface LivePod { dir: string; containers: string[]; alive(): boolean }

/** Keep the last n lines of text (a trailing newline does not count as an empty line). */
export function tailText(text: string, n: number | undefined): string {
  if (n === undefined) return text;
  if (n <= 0) return '';
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const kept = lines.slice(-n);
  return kept.length ? kept.join('\n') + '\n' : '';
}

function newestDir(logsDir: string, prefix: string): string | undefined {
  let best: { dir: string; mtime: number } | undefined;
  let entries: string[];
  try { entries = fs.readdirSync(logsDir); } catch { return undefined; }
  for (const e of entries) {
    if (!e.startsWith(prefix)) continue;
    const dir = path.join(logsDir, e);
    const mtime = fs.statSync(dir).mtimeMs;
    if (!best || mtime > best.mtime) best = { dir, mtime };
  }
  return best?.dir;
}

const pollMs = 200;

/** The pod's log stream, or undefined when this node has no logs for the pod (another node may). */
export function openPodLogs(logsDir: string, ns: string, pod: string, opts: PodLogOptions, live: LivePod | undefined): Readable | undefined {
  const dir = live?.dir ?? newestDir(logsDir, `${ns}_${pod}_`);
  if (!dir) return undefined;
  let container = opts.container;
  if (container === undefined) {
    container = live?.containers[0] ?? fs.readdirSync(dir).find((f) => f.endsWith('.log'))?.slice(0, -4);
    if (container === undefined) return undefined;
  } else if (live && !live.containers.includes(container)) {
    throw containerNotFound(ns, pod, container);
  }
  const file = path.join(dir, `${container}.log`);
  const readAll = (): Buffer => { try { return fs.readFileSync(file); } catch { return Buffer.alloc(0); } };
  const first = readAll();
  const head = tailText(first.toString('utf8'), opts.tailLines);
  if (!opts.follow || !live) return Readable.from([head], { objectMode: false });
  let closed = false;
  async function* follow(): AsyncGenerator<Buffer | string> {
    if (head) yield head;
    let offset = first.length;
    while (!closed) {
      const size = (() => { try { return fs.statSync(file).size; } catch { return offset; } })();
      if (size > offset) {
        const fd = fs.openSync(file, 'r');
        try {
          const buf = Buffer.alloc(size - offset);
          fs.readSync(fd, buf, 0, buf.length, offset);
          offset = size;
          yield buf;
        } finally { fs.closeSync(fd); }
        continue;
      }
      if (!live!.alive()) return;
      await sleep(pollMs);
    }
  }
  const stream = Readable.from(follow(), { objectMode: false });
  stream.once('close', () => { closed = true; });
  return stream;
}
