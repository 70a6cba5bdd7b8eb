// The pool's decision for one open: which existing connection takes the new stream, or whether to wait for a dial
// already under way, or to dial. Pure; table-tested in choose.test.ts.

export interface ConnView {
  /** Streams open or reserved on this connection. */
  active: number;
  /** min(our maxStreamsPerConnection, the peer's SETTINGS_MAX_CONCURRENT_STREAMS). */
  maxStreams: number;
  /** GOAWAY received, errored, or closing: takes no new streams. */
  draining: boolean;
}

export type Choice = { use: number } | { wait: true } | { dial: true };

/**
 * Prefer the busiest connection that still has room, so load packs onto few connections and the rest go idle and
 * close. With no room anywhere, join a dial in flight (it will have room for everyone who waited on it unless
 * more than maxStreams did, in which case the latecomers choose again); else dial.
 */
export function chooseConnection(conns: readonly ConnView[], dialing: boolean): Choice {
  let best = -1;
  for (let i = 0; i < conns.length; i++) {
    const c = conns[i]!;
    if (c.draining || c.active >= c.maxStreams) continue;
    if (best < 0 || c.active > conns[best]!.active) best = i;
  }
  if (best >= 0) return { use: best };
  return dialing ? { wait: true } : { dial: true };
}
