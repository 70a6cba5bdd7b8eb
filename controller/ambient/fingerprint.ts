// A canonical text form of a projected Address, so "did what the client sees change?" is a string comparison.
import type { Address } from './address-types.ts';

function canonical(v: unknown): unknown {
  if (v instanceof Uint8Array) return `bytes:${Buffer.from(v).toString('hex')}`;
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = canonical(x);
    }
    return out;
  }
  return v;
}

/** Equal for two Addresses exactly when their wire content is equal (map key order and unset fields ignored). */
export function fingerprint(a: Address): string {
  return JSON.stringify(canonical(a));
}
