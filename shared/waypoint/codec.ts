// Wire form of the waypoint configuration: the ambientmesh.waypoint.v1.WaypointConfig envelope (schema number + JSON
// of WaypointConfig) and the waypoint-side structural validation, so a malformed push is NACKed with a message naming
// the field and the waypoint keeps its last good configuration.
import { decodeMessage, encodeMessage } from '../proto/index.ts';
import { MeshError } from '../errors.ts';
import { WAYPOINT_CONFIG_SCHEMA, type WaypointConfig } from './config.ts';

const TYPE = 'ambientmesh.waypoint.v1.WaypointConfig';

export class InvalidWaypointConfigError extends MeshError {
  constructor(message: string) {
    super('WP_INVALID_CONFIG', message);
  }
}

export function encodeWaypointConfig(c: WaypointConfig): Buffer {
  return encodeMessage(TYPE, { schema: c.schema, json: JSON.stringify(c) });
}

/** Decode and validate; throws InvalidWaypointConfigError. */
export function decodeWaypointConfig(buf: Uint8Array): WaypointConfig {
  const env = decodeMessage<{ schema?: number; json?: string }>(TYPE, buf);
  if (env.schema !== WAYPOINT_CONFIG_SCHEMA) {
    throw new InvalidWaypointConfigError(`waypoint config schema ${env.schema ?? 0} is not the supported ${WAYPOINT_CONFIG_SCHEMA}; run the same version of controller and waypoint`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(env.json ?? '');
  } catch (err) {
    throw new InvalidWaypointConfigError(`waypoint config is not valid JSON: ${(err as Error).message}`);
  }
  const problem = waypointConfigProblem(parsed);
  if (problem) throw new InvalidWaypointConfigError(`invalid waypoint config: ${problem}`);
  return parsed as WaypointConfig;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown, min: number, max: number): boolean => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;

function listProblem(v: unknown, path: string, item: (x: unknown, p: string) => string | undefined): string | undefined {
  if (!Array.isArray(v)) return `${path}: must be a list`;
  for (let i = 0; i < v.length; i++) {
    const p = item(v[i], `${path}[${i}]`);
    if (p) return p;
  }
  return undefined;
}

function backendProblem(b: unknown, path: string): string | undefined {
  if (!isObj(b) || typeof b.service !== 'string' || !b.service.includes('/')) return `${path}.service: must be a namespace/hostname key`;
  if (b.port !== undefined && !isNum(b.port, 1, 65535)) return `${path}.port: must be 1..65535`;
  if ('weight' in b && !isNum(b.weight, 0, 1e6)) return `${path}.weight: must be a non-negative number`;
  if (b.invalidStatus !== undefined && !isNum(b.invalidStatus, 500, 599)) return `${path}.invalidStatus: must be 500..599`;
  return undefined;
}

function actionProblem(a: unknown, path: string): string | undefined {
  if (!isObj(a)) return `${path}: must be an object`;
  if (a.kind === 'forward') return listProblem(a.backends, `${path}.backends`, backendProblem);
  if (a.kind === 'redirect') return isObj(a.redirect) && isNum(a.redirect.status, 300, 399) ? undefined : `${path}.redirect.status: must be 3xx`;
  if (a.kind === 'respond') return isNum(a.status, 100, 599) ? undefined : `${path}.status: must be 100..599`;
  return `${path}.kind: must be forward, redirect or respond`;
}

function routeProblem(r: unknown, path: string): string | undefined {
  if (!isObj(r) || typeof r.id !== 'string') return `${path}.id: must be a string`;
  if (!Array.isArray(r.matches)) return `${path}.matches: must be a list`;
  for (const [i, m] of r.matches.entries()) {
    if (isObj(m) && m.source !== undefined) {
      const src = m.source;
      const strings = (v: unknown): boolean => v === undefined || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
      if (!isObj(src) || !strings(src.namespaces) || !strings(src.workloads)) return `${path}.matches[${i}].source: namespaces and workloads must be lists of strings`;
    }
    const re = isObj(m) && isObj(m.path) && typeof m.path.regex === 'string' ? m.path.regex : undefined;
    if (re !== undefined) {
      try {
        new RegExp(re);
      } catch {
        return `${path}.matches[${i}].path.regex: not a valid regular expression`;
      }
    }
  }
  if (r.timeoutMs !== undefined && !isNum(r.timeoutMs, 0, 1e9)) return `${path}.timeoutMs: must be ≥ 0`;
  if (r.retries !== undefined && !(isObj(r.retries) && isNum(r.retries.attempts, 0, 1000) && Array.isArray(r.retries.retryOn))) return `${path}.retries: needs attempts ≥ 0 and retryOn`;
  return actionProblem(r.action, `${path}.action`);
}

function listenerProblem(l: unknown, path: string): string | undefined {
  if (!isObj(l) || typeof l.service !== 'string') return `${path}.service: must be a namespace/hostname key`;
  return listProblem(l.ports, `${path}.ports`, (p, pp) => (isObj(p) && isNum(p.port, 1, 65535) && typeof p.protocol === 'string' ? undefined : `${pp}: needs port 1..65535 and protocol`))
    ?? listProblem(l.http, `${path}.http`, routeProblem)
    ?? listProblem(l.tcp, `${path}.tcp`, (t, tp) => (isObj(t) ? listProblem(t.backends, `${tp}.backends`, backendProblem) : `${tp}: must be an object`));
}

function policyProblem(p: unknown, path: string): string | undefined {
  if (!isObj(p) || typeof p.name !== 'string' || typeof p.namespace !== 'string') return `${path}: needs namespace and name`;
  if (!isObj(p.target) || !(p.target.all === true || Array.isArray(p.target.services))) return `${path}.target: must be {all: true} or {services: [...]}`;
  return undefined;
}

/** The first structural problem of a decoded WaypointConfig, as `field: what is wrong`, or undefined. */
export function waypointConfigProblem(c: unknown): string | undefined {
  if (!isObj(c)) return 'config: must be an object';
  if (typeof c.namespace !== 'string' || typeof c.name !== 'string') return 'namespace/name: must be strings';
  return listProblem(c.services, 'services', listenerProblem)
    ?? listProblem(c.destinations, 'destinations', (d, p) => (isObj(d) && typeof d.service === 'string' && Array.isArray(d.subsets) ? undefined : `${p}: needs service and subsets`))
    ?? listProblem(c.authorization, 'authorization', policyProblem)
    ?? listProblem(c.authentication, 'authentication', policyProblem)
    ?? listProblem(c.rateLimits, 'rateLimits', policyProblem);
}
