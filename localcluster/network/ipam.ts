// Per-node pod address allocation. Pure allocator over a /24 (lowest free address first, so freed addresses are
// reused) plus load/save of its allocations, so a restarted daemon never hands out a live address twice.
import { readFileSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { netErr } from './errors.ts';

export interface Allocation { uid: string; netns: string; namespace?: string; name?: string }

export class Ipam {
  readonly cidr: string;
  readonly #prefix: string;
  // address → owner; the only state, persisted as-is
  readonly #byIp = new Map<string, Allocation>();

  constructor(cidr: string, existing: Record<string, Allocation> = {}) {
    const m = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(cidr);
    if (!m) throw netErr.badConfig(`pod CIDR ${cidr} must be a /24 ending in .0`);
    this.cidr = cidr;
    this.#prefix = m[1]!;
    for (const [ip, a] of Object.entries(existing)) this.#byIp.set(ip, a);
  }

  /** Addresses .2 to .254; .0 and .255 are network/broadcast, .1 is kept free for a future node-side gateway. */
  allocate(owner: Allocation): string {
    for (const a of this.#byIp.values()) if (a.uid === owner.uid) throw netErr.duplicatePod(owner.uid);
    for (let host = 2; host <= 254; host++) {
      const ip = `${this.#prefix}.${host}`;
      if (!this.#byIp.has(ip)) {
        this.#byIp.set(ip, owner);
        return ip;
      }
    }
    throw netErr.exhausted(this.cidr);
  }

  /** Frees the address owned by `uid`; returns it, or undefined when the pod had none. */
  release(uid: string): string | undefined {
    for (const [ip, a] of this.#byIp) {
      if (a.uid === uid) {
        this.#byIp.delete(ip);
        return ip;
      }
    }
    return undefined;
  }

  find(uid: string): { ip: string; allocation: Allocation } | undefined {
    for (const [ip, allocation] of this.#byIp) if (allocation.uid === uid) return { ip, allocation };
    return undefined;
  }

  entries(): Array<[string, Allocation]> {
    return [...this.#byIp];
  }

  toJSON(): { cidr: string; allocations: Record<string, Allocation> } {
    return { cidr: this.cidr, allocations: Object.fromEntries(this.#byIp) };
  }
}

/** Write atomically (temp file + rename): a crash leaves the old or the new file, never half of one. */
export function saveIpam(file: string, ipam: Ipam): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(ipam.toJSON()) + '\n');
  renameSync(tmp, file);
}

/** Load a saved allocator; a missing file gives an empty one for `cidr`. */
export function loadIpam(file: string, cidr: string): Ipam {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Ipam(cidr);
    throw err;
  }
  const saved = JSON.parse(text) as { cidr: string; allocations: Record<string, Allocation> };
  if (saved.cidr !== cidr) throw netErr.badConfig(`saved IPAM ${file} is for ${saved.cidr}, not ${cidr}`);
  return new Ipam(cidr, saved.allocations);
}
