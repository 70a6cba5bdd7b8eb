// Pure helpers shared by the controllers: template hashes, label selectors, ownership, readiness,
// int-or-percent arithmetic.
import { createHash } from 'node:crypto';
import type { V1OwnerReference, V1Pod } from '@kubernetes/client-node';

/** Deterministic JSON: object keys sorted, undefined dropped. */
export function canonicalJson(v: unknown): string {
  if (v instanceof Date) return JSON.stringify(v.toISOString());
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

// Kubernetes' "safe" alphabet for generated names (no vowels, no confusable digits).
const alphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** Stable 10-character hash of any value (pod-template-hash / controller-revision-hash). */
export function stableHash(v: unknown): string {
  const digest = createHash('sha256').update(canonicalJson(v)).digest();
  let out = '';
  for (let i = 0; i < 10; i++) out += alphabet[(digest[i] as number) % alphabet.length];
  return out;
}

/** Five random characters of the safe alphabet, for pod names. */
export function randomSuffix(): string {
  let out = '';
  for (let i = 0; i < 5; i++) out += alphabet[Math.floor(Math.random() * alphabet.length)];
  return out;
}

export function controllerRef(obj: { metadata?: { ownerReferences?: V1OwnerReference[] } }): V1OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

export function isTerminal(pod: V1Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export function isTerminating(obj: { metadata?: { deletionTimestamp?: Date | string } }): boolean {
  return obj.metadata?.deletionTimestamp !== undefined && obj.metadata.deletionTimestamp !== null;
}

/** intstr: a number, or "N%" of total (rounded up or down). */
export function intOrPercent(v: number | string | undefined, total: number, fallback: string, roundUp: boolean): number {
  const raw = v ?? fallback;
  if (typeof raw === 'number') return raw;
  const m = /^(\d+)%$/.exec(raw);
  if (!m) return Number(raw) || 0;
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

export const nsName = (o: { metadata?: { namespace?: string; name?: string } }): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
