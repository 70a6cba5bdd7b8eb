// Per-stream, per-type-URL state of the delta xDS protocol: subscriptions, what the client has
// (acknowledged name → version), the one response in flight, and what the client rejected. No I/O:
// the server feeds requests in and asks for the next response plan.
// `applyRequest` and `markSent` take ownership of the state they are given and update its collections in
// place: `known` holds every resource a client has (3000 at the benchmark's scale), and copying it on every
// ACK of every stream was the controller's largest source of garbage (issue 3's memory target).

/** A response sent and not yet ACKed/NACKed: name → version sent, or null for a removal. */
export interface InFlight {
  readonly nonce: string;
  readonly resources: ReadonlyMap<string, string | null>;
}

export interface TypeState {
  /** The first request for this type has been seen. */
  readonly started: boolean;
  readonly wildcard: boolean;
  /** Explicit subscriptions (besides wildcard). */
  readonly subscribed: ReadonlySet<string>;
  /** What the client has: name → version it acknowledged (or reported in initial_resource_versions). */
  readonly known: ReadonlyMap<string, string>;
  /** What the client rejected: name → version (null = a removal); not resent until it changes. */
  readonly rejected: ReadonlyMap<string, string | null>;
  readonly inFlight: InFlight | undefined;
  /** The next response must be sent even if empty (first request, new explicit subscriptions). */
  readonly mustRespond: boolean;
  /** Newly subscribed names: sent even if the client claims the same version. */
  readonly forced: ReadonlySet<string>;
  /**
   * Names to look at in the next plan: those the store changed since the last plan (`noteChanged`), or 'all' after
   * anything that can change the answer for every name (first request, wildcard change, NACK, resync). Planning
   * only these keeps a one-pod change from scanning all 3000 resources twice per stream.
   */
  readonly pending: ReadonlySet<string> | 'all';
}

export interface TypeRequest {
  resourceNamesSubscribe: readonly string[];
  resourceNamesUnsubscribe: readonly string[];
  initialResourceVersions: Readonly<Record<string, string>>;
  responseNonce: string;
  errorDetail?: { code?: number; message?: string } | undefined | null;
}

export type RequestOutcome =
  | { kind: 'initial' }
  | { kind: 'ack'; acked: InFlight }
  | { kind: 'nack'; nacked: InFlight; message: string }
  /** A nonce that is not the one in flight (an old response): only subscription changes apply. */
  | { kind: 'stale' }
  /** No nonce: a subscription change. */
  | { kind: 'subscription' };

export interface ResponsePlan {
  upserts: string[];
  removals: string[];
}

export const WILDCARD = '*';

export function initialTypeState(): TypeState {
  return {
    started: false, wildcard: false, subscribed: new Set(), known: new Map(), rejected: new Map(),
    inFlight: undefined, mustRespond: false, forced: new Set(), pending: 'all',
  };
}

/** Apply one DeltaDiscoveryRequest for this type; `state` is consumed (use the returned one). */
export function applyRequest(state: TypeState, req: TypeRequest): { state: TypeState; outcome: RequestOutcome } {
  const subscribed = state.subscribed as Set<string>;
  const forced = state.forced as Set<string>;
  const known = state.known as Map<string, string>;
  const rejected = state.rejected as Map<string, string | null>;
  let { wildcard, mustRespond, inFlight, pending } = state;
  let outcome: RequestOutcome;
  const note = (name: string): void => {
    if (pending !== 'all') (pending as Set<string>).add(name);
  };

  if (!state.started) {
    // Legacy wildcard: a first request naming nothing subscribes to everything.
    wildcard = req.resourceNamesSubscribe.length === 0 || req.resourceNamesSubscribe.includes(WILDCARD);
    for (const [name, version] of Object.entries(req.initialResourceVersions)) known.set(name, version);
    mustRespond = true;
    pending = 'all';
    outcome = { kind: 'initial' };
  } else if (req.responseNonce === '') {
    outcome = { kind: 'subscription' };
  } else if (!inFlight || req.responseNonce !== inFlight.nonce) {
    outcome = { kind: 'stale' };
  } else if (req.errorDetail && (req.errorDetail.code || req.errorDetail.message)) {
    for (const [name, version] of inFlight.resources) rejected.set(name, version);
    outcome = { kind: 'nack', nacked: inFlight, message: req.errorDetail.message ?? '' };
    pending = 'all';
    inFlight = undefined;
  } else {
    for (const [name, version] of inFlight.resources) {
      if (version === null) known.delete(name);
      else known.set(name, version);
      rejected.delete(name);
    }
    outcome = { kind: 'ack', acked: inFlight };
    inFlight = undefined;
  }

  for (const name of req.resourceNamesSubscribe) {
    if (name === WILDCARD) {
      if (!wildcard) pending = 'all';
      wildcard = true;
      continue;
    }
    subscribed.add(name);
    note(name);
    if (!state.started && known.has(name)) continue; // reconnect: the client already has it
    forced.add(name);
    mustRespond = true;
  }
  for (const name of req.resourceNamesUnsubscribe) {
    if (name === WILDCARD) {
      if (wildcard) pending = 'all';
      wildcard = false;
      continue;
    }
    subscribed.delete(name);
    forced.delete(name);
    known.delete(name); // the client dropped it; no removal notice owed
  }
  return { state: { started: true, wildcard, subscribed, known, rejected, inFlight, mustRespond, forced, pending }, outcome };
}

/** The store changed these names (or, with 'all', anything visible may have changed); `state` is consumed. */
export function noteChanged(state: TypeState, names: Iterable<string> | 'all'): TypeState {
  if (state.pending === 'all') return state;
  if (names === 'all') return { ...state, pending: 'all' };
  for (const n of names) (state.pending as Set<string>).add(n);
  return state;
}

/** Nothing was owed after looking at the pending names: forget them (`state` is consumed). */
export function settled(state: TypeState): TypeState {
  if (state.inFlight || !state.started) return state;
  if (state.pending === 'all') return { ...state, pending: new Set() };
  (state.pending as Set<string>).clear();
  return state;
}

/**
 * What to send next for this type, given the store's current name → version and a per-client
 * visibility predicate; undefined when nothing is owed or a response is already in flight.
 */
export function planResponse(
  state: TypeState,
  current: ReadonlyMap<string, { readonly version: string }>,
  visible: (name: string) => boolean = () => true,
): ResponsePlan | undefined {
  if (!state.started || state.inFlight) return undefined;
  const wanted = (name: string): boolean => (state.wildcard || state.subscribed.has(name)) && current.has(name) && visible(name);
  const upserts: string[] = [];
  const removals: string[] = [];
  const upsertIfOwed = (name: string, version: string): void => {
    if (state.forced.has(name)) upserts.push(name);
    else if (state.known.get(name) !== version && state.rejected.get(name) !== version) upserts.push(name);
  };
  const removeIfOwed = (name: string): void => {
    if (state.rejected.has(name) && state.rejected.get(name) === null) return;
    removals.push(name);
  };
  if (state.pending === 'all') {
    for (const [name, { version }] of current) if (wanted(name)) upsertIfOwed(name, version);
    for (const name of state.known.keys()) if (!wanted(name)) removeIfOwed(name);
  } else {
    // Forced names are always pending too: applyRequest notes every name it subscribes.
    for (const name of state.pending) {
      if (wanted(name)) upsertIfOwed(name, current.get(name)!.version);
      else if (state.known.has(name)) removeIfOwed(name);
    }
  }
  // Explicitly subscribed names that do not exist (for this client): say so with a removal.
  for (const name of state.forced) {
    if (!wanted(name) && !state.known.has(name)) removals.push(name);
  }
  if (upserts.length === 0 && removals.length === 0 && !state.mustRespond) return undefined;
  return { upserts: upserts.sort(), removals: removals.sort() };
}

/** Record that a response for `plan` went out under `nonce`; `state` is consumed (use the returned one). */
export function markSent(
  state: TypeState,
  nonce: string,
  plan: ResponsePlan,
  current: ReadonlyMap<string, { readonly version: string }>,
): TypeState {
  const resources = new Map<string, string | null>();
  for (const name of plan.upserts) resources.set(name, current.get(name)?.version ?? null);
  for (const name of plan.removals) resources.set(name, null);
  (state.forced as Set<string>).clear();
  return { ...state, inFlight: { nonce, resources }, mustRespond: false, pending: new Set() };
}
