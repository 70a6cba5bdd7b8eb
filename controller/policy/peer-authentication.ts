// Owns PeerAuthentication → ztunnel policy, following Istio's ambient handling
// (pilot/pkg/serviceregistry/kube/controller/ambient/authorization.go):
// - STRICT is never converted one policy per resource. One static DENY policy,
//   `<root>/istio_converted_static_strict` (deny connections without a peer identity, i.e.
//   plaintext), is published, and each workload whose effective mode is STRICT lists it.
// - Only a workload-selector policy (not in the root namespace) with portLevelMtls is converted,
//   to `<ns>/converted_peer_authentication_<name>`: a DENY policy carrying the port exceptions, and
//   merged with the inherited STRICT mode so the workload lists it instead of the static one.
// - Effective mode: the oldest workload policy overrides the oldest namespace policy, which
//   overrides the oldest mesh-wide (root namespace, no selector) policy; UNSET inherits.
// - PERMISSIVE and DISABLE need nothing at L4 (ztunnel accepts plaintext unless denied; HBONE
//   between mesh workloads is always mTLS).
// A selector with empty matchLabels counts as no selector throughout.

import { PolicyInvalidError } from './errors.ts';
import { type Obj, describe, isObj, readEnum, readObj, readSelector } from './spec.ts';
import type { Authorization, Clause, Conversion, ConvertOptions, PolicyResource, Rule, StringMatch } from './types.ts';
import { DEFAULT_ROOT_NAMESPACE } from './types.ts';
import { selects, toPort } from './values.ts';

export const STATIC_STRICT_POLICY_NAME = 'istio_converted_static_strict';
export const CONVERTED_PEER_AUTHENTICATION_PREFIX = 'converted_peer_authentication_';

const MODES = ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'] as const;
type Mode = (typeof MODES)[number];

export interface ParsedPeerAuthentication {
  name: string;
  namespace: string;
  /** Undefined for namespace- and mesh-level policies (no selector or empty matchLabels). */
  selector?: Record<string, string>;
  mode: Mode;
  /** Sorted by port. */
  portLevelMtls: [number, Mode][];
  created: number;
}

const PRESENCE: StringMatch = { presence: {} };
const denyPlaintext = (): Clause => ({ matches: [{ notPrincipals: [{ ...PRESENCE }] }] });

/** The one DENY policy referenced by every workload whose effective mode is STRICT. */
export function staticStrictPolicy(opts: ConvertOptions = {}): { authorization: Authorization; resourceName: string } {
  const namespace = opts.rootNamespace ?? DEFAULT_ROOT_NAMESPACE;
  return {
    authorization: {
      name: STATIC_STRICT_POLICY_NAME,
      namespace,
      scope: 'WORKLOAD_SELECTOR',
      action: 'DENY',
      rules: [{ clauses: [denyPlaintext()] }],
    },
    resourceName: `${namespace}/${STATIC_STRICT_POLICY_NAME}`,
  };
}

function readMode(v: unknown, field: string): Mode {
  if (v === undefined || v === null) return 'UNSET';
  const o = readObj(v, field, ['mode']);
  return readEnum(o.mode, `${field}.mode`, MODES, 'UNSET');
}

function createdAt(t: string | Date | undefined): number {
  if (t === undefined) return Number.POSITIVE_INFINITY;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
}

/** Validates a PeerAuthentication; throws PolicyInvalidError. */
export function parsePeerAuthentication(pa: PolicyResource): ParsedPeerAuthentication {
  const meta: unknown = pa?.metadata;
  if (!isObj(meta) || typeof meta.name !== 'string' || meta.name === '' || typeof meta.namespace !== 'string' || meta.namespace === '') {
    throw new PolicyInvalidError('metadata', 'name and namespace are required');
  }
  const spec: Obj = pa.spec === undefined || pa.spec === null ? {} : readObj(pa.spec, 'spec', ['selector', 'mtls', 'portLevelMtls']);
  const labels = readSelector(spec.selector, 'spec.selector');
  const selector = labels !== undefined && Object.keys(labels).length > 0 ? labels : undefined;
  const mode = readMode(spec.mtls, 'spec.mtls');
  const portLevelMtls: [number, Mode][] = [];
  if (spec.portLevelMtls !== undefined && spec.portLevelMtls !== null) {
    if (!isObj(spec.portLevelMtls)) {
      throw new PolicyInvalidError('spec.portLevelMtls', `must be a map of port to { mode }, got ${describe(spec.portLevelMtls)}`);
    }
    for (const [k, v] of Object.entries(spec.portLevelMtls)) {
      const port = toPort(k);
      if (port === undefined) throw new PolicyInvalidError(`spec.portLevelMtls["${k}"]`, 'key must be a port number 1-65535');
      portLevelMtls.push([port, readMode(v, `spec.portLevelMtls["${k}"]`)]);
    }
    portLevelMtls.sort((a, b) => a[0] - b[0]);
    if (portLevelMtls.length > 0 && selector === undefined) {
      throw new PolicyInvalidError('spec.portLevelMtls', 'requires a selector with matchLabels; port-level mTLS applies to selected workloads only');
    }
  }
  return { name: meta.name, namespace: meta.namespace, selector, mode, portLevelMtls, created: createdAt(meta.creationTimestamp as string | Date | undefined) };
}

function tryParse(pa: PolicyResource): ParsedPeerAuthentication | undefined {
  try {
    return parsePeerAuthentication(pa);
  } catch {
    return undefined;
  }
}

/** The oldest of a list (ties by name, for determinism). */
function oldest(ps: ParsedPeerAuthentication[]): ParsedPeerAuthentication | undefined {
  let best: ParsedPeerAuthentication | undefined;
  for (const p of ps) {
    if (!best || p.created < best.created || (p.created === best.created && p.name < best.name)) best = p;
  }
  return best;
}

/** The governing mesh-wide and namespace-wide policies for `namespace`. */
function parents(all: ParsedPeerAuthentication[], namespace: string, rootNamespace: string): { mesh?: ParsedPeerAuthentication; ns?: ParsedPeerAuthentication } {
  const unselected = all.filter((p) => p.selector === undefined);
  return {
    mesh: oldest(unselected.filter((p) => p.namespace === rootNamespace)),
    ns: namespace === rootNamespace ? undefined : oldest(unselected.filter((p) => p.namespace === namespace)),
  };
}

export interface PeerAuthenticationOptions extends ConvertOptions {
  /** All PeerAuthentications (may include `pa`): the oldest namespace and mesh-wide ones are its parents. */
  peerAuthentications?: readonly PolicyResource[];
}

const convertedName = (name: string): string => `${CONVERTED_PEER_AUTHENTICATION_PREFIX}${name}`;

/** PeerAuthentication → its converted port-level policy (if any) and a status saying how it is enforced. Never throws. */
export function convertPeerAuthentication(pa: PolicyResource, opts: PeerAuthenticationOptions = {}): Conversion {
  const rootNamespace = opts.rootNamespace ?? DEFAULT_ROOT_NAMESPACE;
  let p: ParsedPeerAuthentication;
  try {
    p = parsePeerAuthentication(pa);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { status: { accepted: false, reason: 'Invalid', message: `invalid PeerAuthentication: ${message}` } };
  }
  const staticName = `${rootNamespace}/${STATIC_STRICT_POLICY_NAME}`;
  const scope = p.namespace === rootNamespace && p.selector === undefined ? 'mesh-wide' : p.selector === undefined ? 'namespace-wide' : 'workload';
  if (p.namespace === rootNamespace && p.selector !== undefined) {
    return { status: { accepted: false, reason: 'NotForZtunnel', message: 'a PeerAuthentication with a selector in the root namespace is ignored in ambient mode; move it to the workload\'s namespace' } };
  }
  if (p.portLevelMtls.length === 0) return { status: modeStatus(p.mode, scope, staticName) };

  const all = (opts.peerAuthentications ?? []).map(tryParse).filter((x): x is ParsedPeerAuthentication => x !== undefined);
  const { mesh, ns } = parents(all, p.namespace, rootNamespace);
  const authorization = convertPortLevel(p, ns?.mode, mesh?.mode);
  if (!authorization) {
    return { status: { accepted: true, reason: 'Accepted', message: `port-level modes add nothing to the effective mode; ${modeStatus(p.mode, scope, staticName).message}` } };
  }
  return {
    authorization,
    resourceName: `${p.namespace}/${authorization.name}`,
    status: { accepted: true, reason: 'Accepted', message: 'port-level mTLS converted to a ztunnel DENY policy for the selected workloads' },
  };
}

function modeStatus(mode: Mode, scope: string, staticName: string): { accepted: boolean; reason: string; message: string } {
  switch (mode) {
    case 'STRICT':
      return { accepted: true, reason: 'Accepted', message: `${scope} STRICT is enforced by ${staticName}, listed on each workload whose effective mode is STRICT` };
    case 'PERMISSIVE':
      return { accepted: true, reason: 'Accepted', message: `${scope} PERMISSIVE needs no ztunnel policy: ztunnel accepts mTLS (HBONE) and plaintext` };
    case 'DISABLE':
      return { accepted: true, reason: 'Accepted', message: `${scope} DISABLE needs no ztunnel policy: plaintext is accepted, and HBONE between mesh workloads always uses mTLS` };
    default:
      return { accepted: true, reason: 'Accepted', message: `${scope} UNSET inherits the parent mode` };
  }
}

/**
 * Istio's convertPeerAuthentication for a workload policy with port-level modes: the DENY policy
 * holding the port exceptions, or undefined when the ports change nothing.
 */
function convertPortLevel(p: ParsedPeerAuthentication, nsMode: Mode | undefined, meshMode: Mode | undefined): Authorization | undefined {
  // Istio's names: `rules` here are clauses of one AND-ed Rule; `groups` are the OR-ed Rules.
  const rules: Clause[] = [];
  const groups: Rule[] = [];
  if (p.mode === 'STRICT') rules.push(denyPlaintext());
  // The mode inherited from namespace, else mesh (UNSET inherits).
  const inheritedStrict = nsMode !== undefined && nsMode !== 'UNSET' ? nsMode === 'STRICT' : meshMode === 'STRICT';
  // Whether a STRICT port is already covered by the workload's own mode. Istio also skips it when a
  // PERMISSIVE workload policy sits under a STRICT mesh policy, leaving that port open; we only let
  // an UNSET workload inherit, so the port stays STRICT.
  const parentStrict = p.mode === 'STRICT' || (p.mode === 'UNSET' && inheritedStrict);
  let foundNonStrictPort = false;
  for (const [port, mode] of p.portLevelMtls) {
    if (mode === 'STRICT') {
      if (parentStrict) continue;
      // Groups are OR-ed: one per STRICT port.
      groups.push({ clauses: [{ matches: [{ notPrincipals: [{ ...PRESENCE }], destinationPorts: [port] }] }] });
    } else if (mode === 'PERMISSIVE' || mode === 'DISABLE') {
      if (p.mode === 'PERMISSIVE' || p.mode === 'DISABLE') continue;
      // Istio reads only the namespace mode when a namespace policy exists, so an UNSET namespace
      // under a STRICT mesh dropped the exemption and left the workload open; we use the inherited mode.
      if (p.mode === 'UNSET' && !inheritedStrict) continue;
      foundNonStrictPort = true;
      // Exempt the port from the deny: the group only matches other ports.
      rules.push({ matches: [{ notDestinationPorts: [port] }] });
    }
  }
  if (p.mode === 'STRICT' && !foundNonStrictPort) return undefined; // the static STRICT policy covers it
  if (rules.length === 0 && groups.length === 0) return undefined;
  // Under an inherited STRICT mode the workload lists this policy instead of the static one, so it
  // carries the STRICT rule itself.
  if (inheritedStrict && foundNonStrictPort) rules.push(denyPlaintext());
  if (rules.length > 0) groups.push({ clauses: rules });
  return { name: convertedName(p.name), namespace: p.namespace, scope: 'WORKLOAD_SELECTOR', action: 'DENY', rules: groups };
}

/**
 * Istio's convertedSelectorPeerAuthentications: the PeerAuthentication-derived resource names a
 * workload lists: the static STRICT policy when its effective mode is STRICT, and/or its workload
 * policy's converted port-level policy.
 */
export function peerAuthenticationPoliciesForWorkload(
  workloadLabels: Readonly<Record<string, string>>,
  namespace: string,
  peerAuthentications: readonly PolicyResource[],
  opts: ConvertOptions = {},
): string[] {
  const rootNamespace = opts.rootNamespace ?? DEFAULT_ROOT_NAMESPACE;
  const parsed = peerAuthentications.map(tryParse).filter((x): x is ParsedPeerAuthentication => x !== undefined);
  const { mesh, ns } = parents(parsed, namespace, rootNamespace);
  const workload = namespace === rootNamespace ? undefined : oldest(parsed.filter((p) =>
    p.namespace === namespace && p.selector !== undefined && selects(p.selector, workloadLabels)));

  let strict = mesh?.mode === 'STRICT';
  if (ns && ns.mode !== 'UNSET') strict = ns.mode === 'STRICT';
  let portKey: string | undefined;
  if (workload) {
    const key = `${workload.namespace}/${convertedName(workload.name)}`;
    if (workload.mode === 'STRICT') strict = true;
    if (workload.mode === 'PERMISSIVE' || workload.mode === 'DISABLE') strict = false;
    const modes = workload.portLevelMtls.map(([, m]) => m);
    if (modes.length > 0) {
      if (workload.mode === 'STRICT') {
        if (modes.some((m) => m === 'PERMISSIVE' || m === 'DISABLE')) { portKey = key; strict = false; }
      } else if (workload.mode === 'PERMISSIVE' || workload.mode === 'DISABLE') {
        if (modes.includes('STRICT')) portKey = key;
      } else if (strict) {
        // Istio checks only PERMISSIVE here (not DISABLE); we follow it.
        if (modes.includes('PERMISSIVE')) { portKey = key; strict = false; }
      } else if (modes.includes('STRICT')) {
        portKey = key;
      }
    }
  }
  const out = new Set<string>();
  if (strict) out.add(`${rootNamespace}/${STATIC_STRICT_POLICY_NAME}`);
  if (portKey) out.add(portKey);
  return [...out].sort();
}
