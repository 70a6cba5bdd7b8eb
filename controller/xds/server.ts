// gRPC I/O of the delta ADS server: accepts DeltaAggregatedResources streams, authenticates them,
// feeds requests into the pure per-type state (state.ts), and pushes debounced incremental responses
// from the resource store (store.ts), one response in flight per type per stream.
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import { logger, type Logger } from '../../shared/log.ts';
import { errorMessage } from '../../shared/errors.ts';
import { adsServiceDefinition, type DeltaDiscoveryRequest, type DeltaDiscoveryResponse } from '../../shared/proto/index.ts';
import { ResourceStore, type ResourceUpsert, type StoredResource } from './store.ts';
import { applyRequest, initialTypeState, markSent, noteChanged, planResponse, settled, type TypeState } from './state.ts';
import { createXdsMetrics, metricType, type XdsMetrics } from './metrics.ts';
import { XdsUnauthenticatedError } from './errors.ts';

export type AdsCall = grpc.ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;

/** Who is on the other end of a stream, as established by `authenticate`. */
export interface AdsClientIdentity {
  id: string;
}

export interface DeltaAdsOptions {
  /** Debounce window for store updates, in ms (bursts within it coalesce into one push). Default 100. */
  debounceMs?: number;
  /** Resolve the stream's client identity from metadata/peer; reject (or throw) to refuse the stream. Default: peer address. */
  authenticate?: (call: AdsCall) => Promise<AdsClientIdentity>;
  /** Per-client visibility of a resource; default everything is visible to everyone. */
  filter?: (client: AdsClientIdentity, typeUrl: string, name: string) => boolean;
  /** Registry for istiod-named metrics; none registered when omitted. */
  registry?: Registry;
  log?: Logger;
}

export interface ConnectedClient {
  streamId: string;
  id: string;
  nodeId: string | undefined;
  peer: string;
  connectedAt: Date;
  types: Record<string, { wildcard: boolean; subscribed: string[]; known: number; inFlightNonce: string | undefined; rejected: number }>;
}

export interface DeltaAds {
  /** Service definition and implementation: `server.addService(ads.definition, ads.service)`. */
  readonly definition: typeof adsServiceDefinition;
  readonly service: grpc.UntypedServiceImplementation;
  /** Upsert/remove encoded resources of one type; returns the names that actually changed. */
  update(typeUrl: string, upserts: readonly ResourceUpsert[], removals: readonly string[]): string[];
  /** Current resources of one type. */
  resources(typeUrl: string): ReadonlyMap<string, StoredResource>;
  /** Re-evaluate every stream (e.g. after the `filter`'s inputs changed), debounced like an update. */
  resync(): void;
  connectedClients(): ConnectedClient[];
  /** End every stream and stop timers. */
  close(): void;
}

interface Slot {
  state: TypeState;
  /** Earliest store change not yet sent on this slot (for convergence time). */
  changedSince: number | undefined;
  /** Change time carried by the response in flight. */
  inFlightChangedSince: number | undefined;
}

interface Conn {
  streamId: string;
  call: AdsCall;
  client: AdsClientIdentity | undefined;
  nodeId: string | undefined;
  peer: string;
  connectedAt: Date;
  slots: Map<string, Slot>;
  closed: boolean;
}

export function createDeltaAds(opts: DeltaAdsOptions = {}): DeltaAds {
  const log = opts.log ?? logger('controller.xds');
  const debounceMs = opts.debounceMs ?? 100;
  const authenticate = opts.authenticate ?? (async (call: AdsCall) => ({ id: call.getPeer() }));
  const metrics: XdsMetrics | undefined = opts.registry ? createXdsMetrics(opts.registry) : undefined;
  const store = new ResourceStore();
  const conns = new Set<Conn>();
  const dirty = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let streamSeq = 0;
  let nonceSeq = 0;
  const noncePrefix = randomBytes(4).toString('hex');
  let closed = false;

  function slotOf(conn: Conn, typeUrl: string): Slot {
    let slot = conn.slots.get(typeUrl);
    if (!slot) {
      slot = { state: initialTypeState(), changedSince: undefined, inFlightChangedSince: undefined };
      conn.slots.set(typeUrl, slot);
    }
    return slot;
  }

  function push(conn: Conn, typeUrl: string): void {
    if (conn.closed || !conn.client) return;
    const slot = slotOf(conn, typeUrl);
    const current = store.resources(typeUrl);
    const client = conn.client;
    const visible = opts.filter ? (name: string) => opts.filter!(client, typeUrl, name) : undefined;
    const plan = planResponse(slot.state, current, visible);
    if (!plan) {
      slot.state = settled(slot.state);
      return;
    }
    const nonce = `${noncePrefix}-${++nonceSeq}`;
    const response: DeltaDiscoveryResponse = {
      typeUrl,
      nonce,
      systemVersionInfo: '',
      resources: plan.upserts.map((name) => {
        const r = current.get(name)!;
        return { name, version: r.version, resource: { typeUrl, value: r.resource } };
      }),
      removedResources: plan.removals,
    };
    slot.state = markSent(slot.state, nonce, plan, current);
    slot.inFlightChangedSince = slot.changedSince;
    slot.changedSince = undefined;
    metrics?.pushes.inc({ type: metricType(typeUrl) });
    log.debug({ stream: conn.streamId, client: client.id, type: typeUrl, nonce, upserts: plan.upserts.length, removals: plan.removals.length }, 'xds push');
    conn.call.write(response);
  }

  function onRequest(conn: Conn, req: DeltaDiscoveryRequest): void {
    if (conn.closed) return;
    if (req.node?.id && !conn.nodeId) conn.nodeId = req.node.id;
    if (!req.typeUrl) {
      log.warn({ stream: conn.streamId }, 'delta discovery request without type_url ignored');
      return;
    }
    const slot = slotOf(conn, req.typeUrl);
    const { state, outcome } = applyRequest(slot.state, req);
    slot.state = state;
    if (outcome.kind === 'nack') {
      metrics?.rejects.inc({ type: metricType(req.typeUrl) });
      log.warn({ stream: conn.streamId, client: conn.client?.id, node: conn.nodeId, type: req.typeUrl, nonce: req.responseNonce, error: outcome.message,
        resources: [...outcome.nacked.resources.keys()].slice(0, 20) }, 'xds response rejected by client');
      slot.inFlightChangedSince = undefined;
    } else if (outcome.kind === 'ack') {
      if (slot.inFlightChangedSince !== undefined) metrics?.convergence.observe((Date.now() - slot.inFlightChangedSince) / 1000);
      slot.inFlightChangedSince = undefined;
    }
    push(conn, req.typeUrl);
  }

  function flush(): void {
    timer = undefined;
    const types = [...dirty];
    dirty.clear();
    for (const conn of conns) for (const t of types) if (conn.slots.has(t)) push(conn, t);
  }

  function schedule(typeUrls: Iterable<string>): void {
    if (closed) return;
    const now = Date.now();
    for (const t of typeUrls) {
      dirty.add(t);
      for (const conn of conns) {
        const slot = conn.slots.get(t);
        if (slot && slot.changedSince === undefined) slot.changedSince = now;
      }
    }
    timer ??= setTimeout(flush, debounceMs);
  }

  function drop(conn: Conn, why: string): void {
    if (conn.closed) return;
    conn.closed = true;
    if (conns.delete(conn)) metrics?.connected.dec();
    log.info({ stream: conn.streamId, client: conn.client?.id, node: conn.nodeId, why }, 'xds stream closed');
  }

  function handle(call: AdsCall): void {
    const conn: Conn = {
      streamId: String(++streamSeq), call, client: undefined, nodeId: undefined, peer: call.getPeer(),
      connectedAt: new Date(), slots: new Map(), closed: false,
    };
    if (closed) {
      call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'xds server is shutting down' });
      return;
    }
    const queued: DeltaDiscoveryRequest[] = [];
    call.on('data', (req: DeltaDiscoveryRequest) => {
      if (conn.client) onRequest(conn, req);
      else queued.push(req);
    });
    call.on('end', () => {
      drop(conn, 'client ended stream');
      call.end();
    });
    call.on('cancelled', () => drop(conn, 'cancelled'));
    call.on('error', (err: unknown) => drop(conn, errorMessage(err)));
    call.on('close', () => drop(conn, 'closed'));
    Promise.resolve().then(() => authenticate(call)).then(
      (client) => {
        if (conn.closed) return;
        conn.client = client;
        conns.add(conn);
        metrics?.connected.inc();
        log.info({ stream: conn.streamId, client: client.id, peer: conn.peer }, 'xds stream connected');
        for (const req of queued.splice(0)) onRequest(conn, req);
      },
      (err: unknown) => {
        const e = err instanceof XdsUnauthenticatedError ? err : new XdsUnauthenticatedError(errorMessage(err), { cause: err });
        log.warn({ stream: conn.streamId, peer: conn.peer, code: e.code, err: e.message }, 'xds stream refused');
        conn.closed = true;
        call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: e.message });
      },
    );
  }

  return {
    definition: adsServiceDefinition,
    service: { DeltaAggregatedResources: handle as grpc.handleBidiStreamingCall<DeltaDiscoveryRequest, DeltaDiscoveryResponse> },
    update(typeUrl, upserts, removals) {
      const changed = store.update(typeUrl, upserts, removals);
      if (changed.length > 0) {
        for (const conn of conns) {
          const slot = conn.slots.get(typeUrl);
          if (slot) slot.state = noteChanged(slot.state, changed);
        }
        schedule([typeUrl]);
      }
      return changed;
    },
    resources: (typeUrl) => store.resources(typeUrl),
    resync() {
      const types = new Set(store.typeUrls());
      for (const conn of conns) {
        for (const [t, slot] of conn.slots) {
          types.add(t);
          slot.state = noteChanged(slot.state, 'all');
        }
      }
      schedule(types);
    },
    connectedClients() {
      return [...conns].map((c) => ({
        streamId: c.streamId, id: c.client?.id ?? '', nodeId: c.nodeId, peer: c.peer, connectedAt: c.connectedAt,
        types: Object.fromEntries([...c.slots].map(([t, s]) => [t, {
          wildcard: s.state.wildcard, subscribed: [...s.state.subscribed], known: s.state.known.size,
          inFlightNonce: s.state.inFlight?.nonce, rejected: s.state.rejected.size,
        }])),
      }));
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      for (const conn of [...conns]) {
        drop(conn, 'server closing');
        conn.call.end();
      }
    },
  };
}

export interface XdsServerOptions {
  ads: DeltaAds;
  /** Loopback by default. */
  host?: string;
  port?: number;
  /** TLS server credentials from the CA (grpc.ServerCredentials.createSsl); insecure only in tests. */
  credentials: grpc.ServerCredentials;
  /** Extra grpc.Server options. */
  serverOptions?: grpc.ServerOptions;
}

export interface XdsServer {
  server: grpc.Server;
  port: number;
  address: string;
  close(): Promise<void>;
}

/** Start a grpc.Server serving the delta ADS on host:port. */
export async function startXdsServer(o: XdsServerOptions): Promise<XdsServer> {
  const host = o.host ?? '127.0.0.1';
  const server = new grpc.Server({ 'grpc.keepalive_time_ms': 30_000, ...o.serverOptions });
  server.addService(o.ads.definition, o.ads.service);
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${hostPart}:${o.port ?? 0}`, o.credentials, (err, p) => (err ? reject(err) : resolve(p)));
  });
  return {
    server,
    port,
    address: `${hostPart}:${port}`,
    close: () => new Promise<void>((resolve) => {
      o.ads.close();
      const force = setTimeout(() => server.forceShutdown(), 2000);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    }),
  };
}
