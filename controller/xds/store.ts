// Resource store for the delta ADS server: per type URL, name → encoded resource and its version
// (a short hash of the bytes, so re-upserting identical bytes is not a change).
import { createHash } from 'node:crypto';

export interface StoredResource {
  readonly version: string;
  readonly resource: Buffer;
}

export interface ResourceUpsert {
  name: string;
  resource: Buffer;
}

/** Short, stable content hash used as the xDS resource version. */
export function resourceVersion(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64url').slice(0, 12);
}

export class ResourceStore {
  readonly #types = new Map<string, Map<string, StoredResource>>();

  /** Apply upserts and removals; returns the names whose version changed or that were removed. */
  update(typeUrl: string, upserts: readonly ResourceUpsert[], removals: readonly string[]): string[] {
    let byName = this.#types.get(typeUrl);
    if (!byName) {
      byName = new Map();
      this.#types.set(typeUrl, byName);
    }
    const changed: string[] = [];
    for (const { name, resource } of upserts) {
      const version = resourceVersion(resource);
      if (byName.get(name)?.version === version) continue;
      byName.set(name, { version, resource });
      changed.push(name);
    }
    for (const name of removals) {
      if (byName.delete(name)) changed.push(name);
    }
    return changed;
  }

  /** Current resources of one type (live view; do not mutate). */
  resources(typeUrl: string): ReadonlyMap<string, StoredResource> {
    return this.#types.get(typeUrl) ?? new Map();
  }

  typeUrls(): string[] {
    return [...this.#types.keys()];
  }
}
