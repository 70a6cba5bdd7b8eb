// The proxies' delta ADS client (I/O): one TLS gRPC stream to the control plane carrying a set of subscriptions
// (ztunnel: Addresses and Authorizations, wildcard; the waypoint: Addresses and its own WaypointConfig by name),
// applying each response to its subscription and ACKing it, NACKing what does not decode or validate (the store keeps
// its last good content), and reconnecting with backoff + jitter, resuming from the versions the stores hold. Stores
// are never cleared on disconnect: the data path keeps serving the last good view.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { AdsClient, type DeltaDiscoveryRequest, type DeltaDiscoveryResponse } from '../proto/index.ts';
import { errorMessage } from '../errors.ts';
import { XdsClosedError } from './errors.ts';
import { ackRequest, backoffDelay, DEFAULT_BACKOFF, initialRequest, nackRequest, responseResources, type Backoff, type RawResource, type XdsNode } from './protocol.ts';

/** One resource type the client keeps in step, and the store it feeds. */
export interface XdsSubscription {
  typeUrl: string;
  /** Resource names to subscribe to; default wildcard. */
  names?: readonly string[];
  /** Decode, validate and apply one response atomically; throw to NACK it (the store must then be unchanged). Returns the number of changed resources, for the log. */
  apply(upserts: RawResource[], removed: string[]): number;
  /** name → version held: sent as initial_resource_versions on (re)connect. */
  versions(): Record<string, string>;
}

export interface XdsClientOptions {
  /** `host:port` of the control plane (istiod's 15012). */
  address: string;
  /** TLS name the serving certificate must carry (e.g. istiod.istio-system.svc); also the :authority. */
  servername: string;
  /** PEM of the mesh root the serving certificate must chain to. */
  rootCaPem: string;
  /** Read on every (re)connect, so a rotated projected token is picked up; sent as `authorization: Bearer`. */
  token?: () => string;
  node: XdsNode;
  subscriptions: readonly XdsSubscription[];
  /** Called once, when every subscription has applied its first response (for a summary log line). */
  onSynced?: () => void;
  log: Logger;
  backoff?: Partial<Backoff>;
  /**
   * A stream that has not delivered its first response within this time is abandoned and retried (default 20 s).
   * The server answers the first request at once (even with nothing to send), so silence means the stream is stuck:
   * e.g. opened while the controller was still starting, or to an address that swallows packets.
   */
  firstResponseTimeoutMs?: number;
}

export interface XdsTypeDump {
  responses: number;
  /** Resources of this type the store holds. */
  resources: number;
  lastAck?: { nonce: string; at: string };
  lastNack?: { nonce: string; at: string; error: string };
  /** xDS name → version last applied (what the next reconnect reports as initial_resource_versions). */
  versions: Record<string, string>;
}

export interface XdsClientDump {
  address: string;
  servername: string;
  nodeId: string;
  connected: boolean;
  synced: boolean;
  connectedSince?: string;
  /** Streams opened so far (1 + reconnects). */
  streams: number;
  /** Consecutive failed attempts (reset by a response). */
  failedAttempts: number;
  nextRetryAt?: string;
  lastError?: { at: string; message: string };
  types: Record<string, XdsTypeDump>;
}

export interface XdsClient {
  /** Resolves once the first response of every subscription has been applied; rejects (XdsClosedError) if closed before. */
  synced: Promise<void>;
  /** A stream is up and has delivered a response. */
  connected(): boolean;
  close(): Promise<void>;
  dump(): XdsClientDump;
}

type Stream = grpc.ClientDuplexStream<Partial<DeltaDiscoveryRequest>, DeltaDiscoveryResponse>;

export function startXdsClient(opts: XdsClientOptions): XdsClient {
  const backoff: Backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
  const log = opts.log;
  const credentials = grpc.credentials.createSsl(Buffer.from(opts.rootCaPem));
  const channelOptions: grpc.ClientOptions = {
    'grpc.ssl_target_name_override': opts.servername,
    'grpc.default_authority': opts.servername,
    'grpc.keepalive_time_ms': 30_000,
    // Our own backoff paces reconnects; a shared subchannel would carry grpc-js's (up to 2 min) over to the next channel.
    'grpc.use_local_subchannel_pool': 1,
  };

  let closed = false;
  let client: AdsClient | undefined;
  let stream: Stream | undefined;
  let timer: NodeJS.Timeout | undefined;
  let firstResponseTimer: NodeJS.Timeout | undefined;
  let isConnected = false;
  let connectedSince: Date | undefined;
  let streams = 0;
  let failedAttempts = 0;
  let nextRetryAt: Date | undefined;
  let lastError: { at: Date; message: string } | undefined;
  const subs = new Map(opts.subscriptions.map((sub) => [sub.typeUrl, sub]));
  const subscribedTypes = new Set(subs.keys());
  const types = new Map(opts.subscriptions.map((sub) => [sub.typeUrl, { responses: 0, synced: false } as {
    responses: number; synced: boolean; lastAck?: { nonce: string; at: Date }; lastNack?: { nonce: string; at: Date; error: string };
  }]));

  let resolveSynced!: () => void;
  let rejectSynced!: (err: Error) => void;
  let isSynced = false;
  const synced = new Promise<void>((resolve, reject) => {
    resolveSynced = resolve;
    rejectSynced = reject;
  });
  synced.catch(() => {}); // a caller that never awaits it must not see an unhandled rejection at close

  function onResponse(s: Stream, r: DeltaDiscoveryResponse): void {
    if (s !== stream) return;
    clearTimeout(firstResponseTimer);
    if (!isConnected) {
      isConnected = true;
      connectedSince = new Date();
      log.info({ address: opts.address, streams }, 'xds connected');
    }
    failedAttempts = 0;
    const t = types.get(r.typeUrl);
    if (t) t.responses++;
    try {
      const d = responseResources(r, subscribedTypes);
      const changed = subs.get(r.typeUrl)!.apply(d.upserts, d.removed);
      s.write(ackRequest(r.typeUrl, r.nonce));
      if (t) t.lastAck = { nonce: r.nonce, at: new Date() };
      log.debug({ type: r.typeUrl, nonce: r.nonce, upserts: d.upserts.length, removed: d.removed.length, changed }, 'xds response applied');
      if (t && !t.synced) {
        t.synced = true;
        if (!isSynced && [...types.values()].every((x) => x.synced)) {
          isSynced = true;
          opts.onSynced?.();
          resolveSynced();
        }
      }
    } catch (err) {
      const message = errorMessage(err);
      s.write(nackRequest(r.typeUrl, r.nonce, message));
      if (t) t.lastNack = { nonce: r.nonce, at: new Date(), error: message };
      log.warn({ type: r.typeUrl, nonce: r.nonce, code: (err as { code?: string }).code, err: message }, 'xds response rejected; keeping the last good state');
    }
  }

  function onStreamEnd(s: Stream, why: string): void {
    if (s !== stream) return;
    stream = undefined;
    clearTimeout(firstResponseTimer);
    const wasConnected = isConnected;
    isConnected = false;
    connectedSince = undefined;
    client?.close();
    client = undefined;
    if (!closed) retry(why, wasConnected);
  }

  function retry(why: string, wasConnected: boolean): void {
    lastError = { at: new Date(), message: why };
    const delay = backoffDelay(failedAttempts++, backoff);
    nextRetryAt = new Date(Date.now() + delay);
    const fields = { address: opts.address, why, retryInMs: delay, failedAttempts };
    if (wasConnected) log.warn(fields, 'xds stream lost; serving the last good state until it resumes');
    else log.info(fields, 'xds connect failed; retrying');
    timer = setTimeout(connect, delay);
  }

  function connect(): void {
    timer = undefined;
    nextRetryAt = undefined;
    if (closed) return;
    const md = new grpc.Metadata();
    try {
      if (opts.token) md.set('authorization', `Bearer ${opts.token()}`);
    } catch (err) {
      // Retried like a failed connection: the kubelet may not have projected the token yet.
      retry(`cannot read the service account token: ${errorMessage(err)}`, false);
      return;
    }
    streams++;
    client = new AdsClient(opts.address, credentials, channelOptions);
    const s = client.DeltaAggregatedResources(md);
    stream = s;
    s.on('data', (r: DeltaDiscoveryResponse) => onResponse(s, r));
    // 'error' precedes 'status' for failures; 'status' alone when the server ends the stream cleanly.
    s.on('error', (err: grpc.ServiceError) => onStreamEnd(s, `${grpc.status[err.code] ?? err.code}: ${err.details || err.message}`));
    s.on('status', (st: grpc.StatusObject) => onStreamEnd(s, st.code === grpc.status.OK ? 'server ended the stream' : `${grpc.status[st.code]}: ${st.details}`));
    for (const sub of opts.subscriptions) s.write(initialRequest(sub.typeUrl, opts.node, sub.versions(), sub.names));
    const silenceMs = opts.firstResponseTimeoutMs ?? 20_000;
    firstResponseTimer = setTimeout(() => {
      if (s !== stream || isConnected) return;
      onStreamEnd(s, `no response within ${silenceMs} ms of opening the stream`);
      s.cancel();
    }, silenceMs);
  }

  connect();

  return {
    synced,
    connected: () => isConnected,
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(firstResponseTimer);
      if (timer) clearTimeout(timer);
      timer = undefined;
      const s = stream;
      stream = undefined;
      isConnected = false;
      s?.cancel();
      client?.close();
      client = undefined;
      if (!isSynced) rejectSynced(new XdsClosedError());
    },
    dump() {
      const iso = (d: Date | undefined) => d?.toISOString();
      const out: XdsClientDump = {
        address: opts.address, servername: opts.servername, nodeId: opts.node.id, connected: isConnected, synced: isSynced,
        streams, failedAttempts, types: {},
      };
      if (connectedSince) out.connectedSince = iso(connectedSince);
      if (nextRetryAt) out.nextRetryAt = iso(nextRetryAt);
      if (lastError) out.lastError = { at: lastError.at.toISOString(), message: lastError.message };
      for (const [typeUrl, t] of types) {
        const versions = subs.get(typeUrl)!.versions();
        const td: XdsTypeDump = { responses: t.responses, resources: Object.keys(versions).length, versions };
        if (t.lastAck) td.lastAck = { nonce: t.lastAck.nonce, at: t.lastAck.at.toISOString() };
        if (t.lastNack) td.lastNack = { nonce: t.lastNack.nonce, at: t.lastNack.at.toISOString(), error: t.lastNack.error };
        out.types[typeUrl] = td;
      }
      return out;
    },
  };
}
