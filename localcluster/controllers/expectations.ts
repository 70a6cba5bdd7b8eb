// Creations and deletions a controller issued but its informer has not seen yet, per owner.
// While an owner has unmet expectations it is not re-planned, so a lagging cache cannot cause
// duplicate pods. Expectations lapse after `ttlMs` (a lost event must not wedge the owner).
export class Expectations {
  /** owner key → pending pod names (creations and deletions) and when they lapse. */
  private readonly pending = new Map<string, { creates: Set<string>; deletes: Set<string>; until: number }>();
  private readonly ttlMs: number;
  constructor(ttlMs = 10_000) { this.ttlMs = ttlMs; }

  expect(owner: string, creates: string[], deletes: string[]): void {
    if (creates.length === 0 && deletes.length === 0) return;
    this.pending.set(owner, { creates: new Set(creates), deletes: new Set(deletes), until: Date.now() + this.ttlMs });
  }

  /** Forget a creation/deletion that failed, so it is not waited for. */
  forget(owner: string, name: string): void {
    const p = this.pending.get(owner);
    p?.creates.delete(name);
    p?.deletes.delete(name);
  }

  satisfied(owner: string, present: (name: string) => boolean): boolean {
    const p = this.pending.get(owner);
    if (!p) return true;
    const met = [...p.creates].every(present) && ![...p.deletes].some(present);
    if (met || Date.now() > p.until) { this.pending.delete(owner); return true; }
    return false;
  }
}
