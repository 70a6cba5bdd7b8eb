// Owns parsing networking.istio.io DestinationRule into TrafficPolicy with Istio's documented defaults and merge
// rules: LEAST_CONN is LEAST_REQUEST, PASSTHROUGH (no client-side balancing in a waypoint) is ROUND_ROBIN;
// connection-pool zeros mean "unset" (proto3); outlier detection defaults consecutive5xxErrors 5, interval 10s,
// baseEjectionTime 30s, maxEjectionPercent 10, minHealthPercent 0; a port-level policy replaces the destination's
// ("default values will be applied to fields omitted in port-level traffic policies"); a subset's policy overrides
// the destination's section by section, and at a port the subset's own port-level settings override that in turn
// (Istio's MergeSubsetTrafficPolicy: destination port-level, then subset, then subset port-level). `tls`, `tunnel`, locality and warmup
// settings are ignored: waypoints always speak HBONE upstream. A rule with a `workloadSelector` configures the
// selected client workloads' proxies and is left out of waypoints.

import type { ConnectionPool, LoadBalancer, OutlierDetection, TrafficPolicy } from '../../../shared/waypoint/config.ts';
import type { KubeObject } from '../verdict.ts';
import { type DestinationRuleSpec, type SubsetSpec, compact, objectInfo } from './model.ts';
import {
  type Obj, invalid, istioDurationMs, optBool, optInt, optIstioDurationMs, optObj, optStr, readEnum, readInt, readLabelName, readList,
  readObj, readStr, readStringMap,
} from './spec.ts';

const INT32 = 2 ** 31 - 1;
const SIMPLE = ['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST'] as const;

/** Parse and validate one DestinationRule; throws RouteConfigError. */
export function parseDestinationRule(o: KubeObject): DestinationRuleSpec {
  const info = objectInfo('DestinationRule', o);
  readStr(o.metadata.name, 'metadata.name');
  const spec = readObj(o.spec, 'spec');
  const host = readStr(spec.host, 'spec.host');
  const selector = optObj(spec.workloadSelector, 'spec.workloadSelector');
  const selective = Object.keys(readStringMap(selector?.matchLabels, 'spec.workloadSelector.matchLabels')).length > 0;
  const tp = optObj(spec.trafficPolicy, 'spec.trafficPolicy');
  const policy = tp ? readTrafficPolicy(tp, 'spec.trafficPolicy') : undefined;
  const ports = readPortLevel(tp, 'spec.trafficPolicy');
  const subsets: SubsetSpec[] = [];
  readList(spec.subsets, 'spec.subsets').forEach((s, i) => {
    const f = `spec.subsets[${i}]`;
    const so = readObj(s, f);
    const name = readLabelName(so.name, `${f}.name`);
    if (subsets.some((x) => x.name === name)) invalid(`${f}.name`, `subset ${JSON.stringify(name)} is defined twice`);
    const labels = readStringMap(so.labels, `${f}.labels`);
    const sp = optObj(so.trafficPolicy, `${f}.trafficPolicy`);
    const subsetPorts = readPortLevel(sp, `${f}.trafficPolicy`);
    subsets.push(compact({ name, labels, policy: sp ? readTrafficPolicy(sp, `${f}.trafficPolicy`) : undefined, ports: subsetPorts.length > 0 ? subsetPorts : undefined }));
  });
  return compact({ ...info, host, selective, policy, ports, subsets });
}

/** `portLevelSettings` of a TrafficPolicy at `f`, one entry per port. */
function readPortLevel(tp: Obj | undefined, f: string): Array<{ port: number; policy: TrafficPolicy }> {
  const ports: Array<{ port: number; policy: TrafficPolicy }> = [];
  readList(tp?.portLevelSettings, `${f}.portLevelSettings`).forEach((p, i) => {
    const pf = `${f}.portLevelSettings[${i}]`;
    const po = readObj(p, pf);
    const port = readInt(readObj(po.port, `${pf}.port`).number, `${pf}.port.number`, 1, 65535);
    if (ports.some((x) => x.port === port)) invalid(`${pf}.port.number`, `port ${port} is listed twice`);
    ports.push({ port, policy: readTrafficPolicy(po, pf) });
  });
  return ports;
}

/** The sections of a TrafficPolicy (or PortTrafficPolicy) a waypoint uses. */
function readTrafficPolicy(o: Obj, f: string): TrafficPolicy {
  return compact({
    loadBalancer: readLoadBalancer(o.loadBalancer, `${f}.loadBalancer`),
    connectionPool: readConnectionPool(o.connectionPool, `${f}.connectionPool`),
    outlierDetection: readOutlierDetection(o.outlierDetection, `${f}.outlierDetection`),
  });
}

function readLoadBalancer(v: unknown, f: string): LoadBalancer | undefined {
  const o = optObj(v, f);
  if (!o) return undefined;
  const hasSimple = o.simple !== undefined && o.simple !== null;
  const ch = optObj(o.consistentHash, `${f}.consistentHash`);
  if (hasSimple && ch) invalid(f, 'simple and consistentHash cannot both be set');
  if (hasSimple) {
    const simple = readEnum(o.simple, `${f}.simple`, SIMPLE);
    if (simple === 'UNSPECIFIED') return undefined;
    if (simple === 'LEAST_CONN') return { simple: 'LEAST_REQUEST' };
    if (simple === 'PASSTHROUGH') return { simple: 'ROUND_ROBIN' };
    return { simple };
  }
  if (!ch) return undefined;
  const keys = ['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'].filter((k) => ch[k] !== undefined && ch[k] !== null);
  if (keys.length !== 1) invalid(`${f}.consistentHash`, 'must set exactly one of httpHeaderName, httpCookie, useSourceIp and httpQueryParameterName');
  const key = keys[0];
  if (key === 'httpHeaderName') return { consistentHash: { header: readStr(ch.httpHeaderName, `${f}.consistentHash.httpHeaderName`).toLowerCase() } };
  if (key === 'httpQueryParameterName') return { consistentHash: { queryParameter: readStr(ch.httpQueryParameterName, `${f}.consistentHash.httpQueryParameterName`) } };
  if (key === 'useSourceIp') {
    if (!optBool(ch.useSourceIp, `${f}.consistentHash.useSourceIp`)) invalid(`${f}.consistentHash.useSourceIp`, 'must be true when it is the hash key');
    return { consistentHash: { sourceIp: true } };
  }
  const cf = `${f}.consistentHash.httpCookie`;
  const c = readObj(ch.httpCookie, cf);
  return {
    consistentHash: {
      cookie: compact({ name: readStr(c.name, `${cf}.name`), path: optStr(c.path, `${cf}.path`), ttlMs: optIstioDurationMs(c.ttl, `${cf}.ttl`, 0) }),
    },
  };
}

/** Istio treats 0 as unset for these counters (proto3); 0 for maxRequestsPerConnection already means unlimited. */
const positive = (n: number | undefined): number | undefined => (n ? n : undefined);

function readConnectionPool(v: unknown, f: string): ConnectionPool | undefined {
  const o = optObj(v, f);
  if (!o) return undefined;
  const tcp = optObj(o.tcp, `${f}.tcp`) ?? {};
  const http = optObj(o.http, `${f}.http`) ?? {};
  const pool = compact({
    maxConnections: positive(optInt(tcp.maxConnections, `${f}.tcp.maxConnections`, 0, INT32)),
    connectTimeoutMs: optIstioDurationMs(tcp.connectTimeout, `${f}.tcp.connectTimeout`, 1),
    http1MaxPendingRequests: positive(optInt(http.http1MaxPendingRequests, `${f}.http.http1MaxPendingRequests`, 0, INT32)),
    http2MaxRequests: positive(optInt(http.http2MaxRequests, `${f}.http.http2MaxRequests`, 0, INT32)),
    maxRequestsPerConnection: positive(optInt(http.maxRequestsPerConnection, `${f}.http.maxRequestsPerConnection`, 0, INT32)),
    maxRetries: positive(optInt(http.maxRetries, `${f}.http.maxRetries`, 0, INT32)),
    idleTimeoutMs: optIstioDurationMs(http.idleTimeout, `${f}.http.idleTimeout`, 0),
  });
  return Object.keys(pool).length > 0 ? pool : undefined;
}

function readOutlierDetection(v: unknown, f: string): OutlierDetection | undefined {
  const o = optObj(v, f);
  if (!o) return undefined;
  const gateway = optInt(o.consecutiveGatewayErrors, `${f}.consecutiveGatewayErrors`, 0, INT32);
  return compact({
    // "This feature defaults to 5 but can be disabled by setting the value to 0."
    consecutive5xxErrors: optInt(o.consecutive5xxErrors, `${f}.consecutive5xxErrors`, 0, INT32) ?? 5,
    // "disabled by default or when set to the value 0"
    consecutiveGatewayErrors: positive(gateway),
    intervalMs: o.interval === undefined || o.interval === null ? 10_000 : istioDurationMs(o.interval, `${f}.interval`, 1),
    baseEjectionTimeMs: o.baseEjectionTime === undefined || o.baseEjectionTime === null ? 30_000 : istioDurationMs(o.baseEjectionTime, `${f}.baseEjectionTime`, 1),
    maxEjectionPercent: optInt(o.maxEjectionPercent, `${f}.maxEjectionPercent`, 0, 100) ?? 10,
    minHealthPercent: optInt(o.minHealthPercent, `${f}.minHealthPercent`, 0, 100) ?? 0,
  });
}

/** Istio's subset merge: each section the subset sets replaces the destination's section whole. */
export function mergePolicy(base: TrafficPolicy | undefined, over: TrafficPolicy): TrafficPolicy {
  return compact({
    loadBalancer: over.loadBalancer ?? base?.loadBalancer,
    connectionPool: over.connectionPool ?? base?.connectionPool,
    outlierDetection: over.outlierDetection ?? base?.outlierDetection,
  });
}
