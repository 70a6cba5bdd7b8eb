// Admission (pure): metadata stamping, per-kind defaults and required-field validation for create and update.
// Inputs come as fresh copies; functions return the object to store or throw ApiError (422 Invalid, 409, ...).
// Simplified versus Kubernetes: Pod spec immutability is not enforced; status sent on create is kept (Pods get
// phase Pending when absent); metadata.finalizers are stored but never block deletion.
import { randomUUID } from 'node:crypto';
import type { KindInfo } from './kinds.ts';
import { labelSelectorMatches } from '../../shared/labels.ts';
import { ApiError, invalid, type Cause } from './status.ts';

type Obj = Record<string, any>;

export interface AdmissionContext {
  now: Date;
  /** ClusterIPs in use (by other Services), for allocation. */
  usedClusterIPs: Set<string>;
  serviceCidr: string;
  usedNodePorts: Set<number>;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// Kinds whose names must be DNS-1123 labels (they become DNS names or path segments).
const LABEL_NAMED = new Set(['Namespace', 'Service']);

export function validateName(kind: string, name: unknown): string | undefined {
  if (typeof name !== 'string' || name === '') return 'name or generateName is required';
  if (LABEL_NAMED.has(kind)) {
    if (name.length > 63 || !DNS_LABEL.test(name)) {
      return `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name'), at most 63 characters; got "${name}"`;
    }
  } else if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    return `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com'); got "${name}"`;
  }
  return undefined;
}

function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let s = '';
  for (let i = 0; i < 5; i++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
  return s;
}

// ---- IP allocation ----

function ipToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}
function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}
export function cidrRange(cidr: string): [first: number, last: number] {
  const [ip, bits] = cidr.split('/') as [string, string];
  const size = 2 ** (32 - Number(bits));
  const base = Math.floor(ipToInt(ip) / size) * size;
  return [base, base + size - 1];
}

/** Allocate a ClusterIP: the requested one if free and in range, else the lowest free address above .10. */
export function allocateClusterIP(cidr: string, used: Set<string>, requested?: string): string {
  const [first, last] = cidrRange(cidr);
  if (requested) {
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(requested)) throw new ApiError('Invalid', `spec.clusterIP: Invalid value: "${requested}": must be a valid IP address, "None" or empty`);
    const n = ipToInt(requested);
    if (n <= first || n >= last) throw new ApiError('Invalid', `spec.clusterIP: Invalid value: "${requested}": provided IP is not in the valid range ${cidr}`);
    if (used.has(requested)) throw new ApiError('Invalid', `spec.clusterIP: Invalid value: "${requested}": provided IP is already allocated`);
    return requested;
  }
  for (let n = first + 11; n < last; n++) {
    const ip = intToIp(n);
    if (!used.has(ip)) return ip;
  }
  throw new ApiError('InternalError', `no ClusterIP left in ${cidr}; delete unused Services or widen serviceCidr`);
}

function allocateNodePort(used: Set<number>, requested?: number): number {
  if (requested) {
    if (used.has(requested)) throw new ApiError('Invalid', `spec.ports.nodePort: Invalid value: ${requested}: provided port is already allocated`);
    return requested;
  }
  for (let p = 30000; p <= 32767; p++) if (!used.has(p)) { used.add(p); return p; }
  throw new ApiError('InternalError', 'no NodePort left in 30000-32767');
}

// ---- defaults ----

function defaultContainer(c: Obj): void {
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  if (!c.imagePullPolicy && typeof c.image === 'string') {
    const tag = c.image.includes('@') ? 'digest' : (c.image.split('/').pop()!.split(':')[1] ?? 'latest');
    c.imagePullPolicy = tag === 'latest' ? 'Always' : 'IfNotPresent';
  }
  for (const p of c.ports ?? []) p.protocol ??= 'TCP';
  c.resources ??= {};
}

function defaultPodSpec(spec: Obj): void {
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.serviceAccountName ??= spec.serviceAccount ?? 'default';
  spec.serviceAccount ??= spec.serviceAccountName;
  spec.terminationGracePeriodSeconds ??= 30;
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  spec.priority ??= 0;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) if (c && typeof c === 'object') defaultContainer(c);
}

function defaultService(svc: Obj, ctx: AdmissionContext, old?: Obj): void {
  const spec = (svc.spec ??= {});
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  if (spec.type !== 'ExternalName') {
    if (old?.spec?.clusterIP) {
      if (spec.clusterIP && spec.clusterIP !== old.spec.clusterIP) {
        throw invalid('Service', svc.metadata.name, '', [{ field: 'spec.clusterIP', message: 'field is immutable', reason: 'FieldValueInvalid' }]);
      }
      spec.clusterIP = old.spec.clusterIP;
    } else if (spec.clusterIP !== 'None') {
      spec.clusterIP = allocateClusterIP(ctx.serviceCidr, ctx.usedClusterIPs, spec.clusterIP || undefined);
    }
    spec.clusterIPs = [spec.clusterIP];
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
    spec.internalTrafficPolicy ??= 'Cluster';
  }
  const oldPorts: Obj[] = old?.spec?.ports ?? [];
  for (const p of spec.ports ?? []) {
    if (!p || typeof p !== 'object') continue;
    p.protocol ??= 'TCP';
    p.targetPort ??= p.port;
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
      const prev = oldPorts.find((o) => o.port === p.port && o.protocol === p.protocol)?.nodePort;
      p.nodePort = p.nodePort ?? prev ?? allocateNodePort(ctx.usedNodePorts);
    }
  }
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') spec.externalTrafficPolicy ??= 'Cluster';
  svc.status ??= { loadBalancer: {} };
}

function defaultWorkload(o: Obj, kind: string): void {
  const spec = (o.spec ??= {});
  if (kind === 'ReplicaSet') {
    spec.replicas ??= 1;
  } else if (kind === 'Deployment') {
    spec.replicas ??= 1;
    spec.strategy ??= { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } };
    spec.progressDeadlineSeconds ??= 600;
  } else {
    spec.updateStrategy ??= { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } };
  }
  if (kind !== 'ReplicaSet') spec.revisionHistoryLimit ??= 10;
  if (spec.template?.spec) defaultPodSpec(spec.template.spec);
  o.status ??= {};
}

function applyDefaults(kind: KindInfo, o: Obj, ctx: AdmissionContext, old?: Obj): void {
  switch (kind.group === '' || kind.group === 'apps' ? kind.kind : '') {
    case 'Pod':
      defaultPodSpec((o.spec ??= {}));
      o.status ??= {};
      o.status.phase ??= 'Pending';
      o.status.qosClass ??= 'BestEffort';
      break;
    case 'Service': defaultService(o, ctx, old); break;
    case 'Namespace':
      o.spec ??= { finalizers: ['kubernetes'] };
      o.status ??= { phase: 'Active' };
      o.metadata.labels = { ...o.metadata.labels, 'kubernetes.io/metadata.name': o.metadata.name };
      break;
    case 'Secret': o.type ??= 'Opaque'; break;
    case 'Deployment': case 'DaemonSet': case 'ReplicaSet': defaultWorkload(o, kind.kind); break;
  }
}

// ---- validation ----

function validatePodSpec(spec: Obj | undefined, prefix: string, causes: Cause[]): void {
  const containers = spec?.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    causes.push({ field: `${prefix}.containers`, message: 'Required value', reason: 'FieldValueRequired' });
    return;
  }
  const names = new Set<string>();
  containers.forEach((c: Obj, i: number) => {
    if (!c || typeof c !== 'object') { causes.push({ field: `${prefix}.containers[${i}]`, message: 'must be an object', reason: 'FieldValueInvalid' }); return; }
    if (!c.name) causes.push({ field: `${prefix}.containers[${i}].name`, message: 'Required value', reason: 'FieldValueRequired' });
    else if (names.has(c.name)) causes.push({ field: `${prefix}.containers[${i}].name`, message: `Duplicate value: "${c.name}"`, reason: 'FieldValueDuplicate' });
    else names.add(c.name);
    if (!c.image) causes.push({ field: `${prefix}.containers[${i}].image`, message: 'Required value', reason: 'FieldValueRequired' });
  });
}

function validate(kind: KindInfo, o: Obj): Cause[] {
  const causes: Cause[] = [];
  const nameErr = validateName(kind.kind, o.metadata?.name);
  if (nameErr) causes.push({ field: 'metadata.name', message: nameErr, reason: 'FieldValueInvalid' });
  for (const [field, m] of [['metadata.labels', o.metadata?.labels], ['metadata.annotations', o.metadata?.annotations]] as const) {
    if (m !== undefined && (typeof m !== 'object' || m === null || Array.isArray(m) || Object.values(m).some((v) => typeof v !== 'string'))) {
      causes.push({ field, message: 'must be a map of string keys to string values', reason: 'FieldValueInvalid' });
    }
  }
  if (kind.group === '' && kind.kind === 'Pod') validatePodSpec(o.spec, 'spec', causes);
  if (kind.group === '' && kind.kind === 'Service') {
    const ports = o.spec?.ports;
    const headless = o.spec?.clusterIP === 'None';
    if (o.spec?.type !== 'ExternalName' && !headless && (!Array.isArray(ports) || ports.length === 0)) {
      causes.push({ field: 'spec.ports', message: 'Required value', reason: 'FieldValueRequired' });
    }
    (Array.isArray(ports) ? ports : []).forEach((p: Obj, i: number) => {
      if (!Number.isInteger(p?.port) || p.port < 1 || p.port > 65535) {
        causes.push({ field: `spec.ports[${i}].port`, message: 'must be between 1 and 65535, inclusive', reason: 'FieldValueInvalid' });
      }
      if (ports.length > 1 && !p?.name) causes.push({ field: `spec.ports[${i}].name`, message: 'Required value: ports must be named when there is more than one', reason: 'FieldValueRequired' });
    });
  }
  if (kind.group === 'apps') {
    const sel = o.spec?.selector;
    const labels = o.spec?.template?.metadata?.labels ?? {};
    if (!sel || (!sel.matchLabels && !sel.matchExpressions)) {
      causes.push({ field: 'spec.selector', message: 'Required value', reason: 'FieldValueRequired' });
    } else if (!labelSelectorMatches(sel, labels)) {
      causes.push({ field: 'spec.template.metadata.labels', message: '`selector` does not match template `labels`', reason: 'FieldValueInvalid' });
    }
    validatePodSpec(o.spec?.template?.spec, 'spec.template.spec', causes);
  }
  return causes;
}

function throwIfInvalid(kind: KindInfo, o: Obj): void {
  const causes = validate(kind, o);
  if (causes.length) throw invalid(kind.kind, String(o.metadata?.name ?? ''), kind.group, causes);
}

function specOf(o: Obj): string {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
  return JSON.stringify(rest);
}

/** Prepare a new object for storage: metadata, generateName, defaults, validation. */
export function admitCreate(kind: KindInfo, o: Obj, namespace: string | undefined, ctx: AdmissionContext): Obj {
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new ApiError('BadRequest', 'request body must be a JSON or YAML object');
  const md = (o.metadata ??= {});
  if (typeof md !== 'object' || Array.isArray(md)) throw invalid(kind.kind, '', kind.group, [{ field: 'metadata', message: 'must be an object' }]);
  if (kind.namespaced) {
    if (md.namespace && namespace && md.namespace !== namespace) {
      throw new ApiError('BadRequest', `the namespace of the provided object (${md.namespace}) does not match the namespace sent on the request (${namespace})`);
    }
    md.namespace = namespace ?? md.namespace;
  } else {
    delete md.namespace;
  }
  if (!md.name && md.generateName) md.name = `${md.generateName}${randomSuffix()}`;
  md.uid = randomUUID();
  md.creationTimestamp = ctx.now.toISOString().replace(/\.\d+Z$/, 'Z');
  md.generation = 1;
  delete md.resourceVersion;
  delete md.deletionTimestamp;
  delete md.selfLink;
  applyDefaults(kind, o, ctx);
  throwIfInvalid(kind, o);
  return o;
}

/**
 * Prepare an update. `subresource` 'status' takes only the status from `o`; the main endpoint keeps the old
 * status for kinds with a status subresource. Identity metadata always comes from `old`.
 */
export function admitUpdate(kind: KindInfo, old: Obj, o: Obj, ctx: AdmissionContext, subresource?: string): Obj {
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new ApiError('BadRequest', 'request body must be a JSON or YAML object');
  const md = (o.metadata ??= {});
  const rv = md.resourceVersion;
  if (rv !== undefined && rv !== '' && String(rv) !== old.metadata.resourceVersion) {
    throw new ApiError('Conflict',
      `Operation cannot be fulfilled on ${kind.plural}${kind.group ? '.' + kind.group : ''} "${old.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
      { name: old.metadata.name, group: kind.group, kind: kind.plural });
  }
  if (md.name !== undefined && md.name !== old.metadata.name) {
    throw new ApiError('BadRequest', `the name of the object (${String(md.name)}) does not match the name on the URL (${old.metadata.name})`);
  }
  let next: Obj;
  if (subresource === 'status') {
    next = { ...structuredClone(old), status: o.status };
  } else {
    next = o;
    if (kind.status) next.status = structuredClone(old.status);
    next.metadata = {
      ...md, name: old.metadata.name, uid: old.metadata.uid, creationTimestamp: old.metadata.creationTimestamp,
      generation: old.metadata.generation ?? 1,
      ...(old.metadata.namespace ? { namespace: old.metadata.namespace } : {}),
    };
    if (old.metadata.deletionTimestamp) next.metadata.deletionTimestamp = old.metadata.deletionTimestamp;
    applyDefaults(kind, next, ctx, old);
    throwIfInvalid(kind, next);
    if (specOf(next) !== specOf(old)) next.metadata.generation = (old.metadata.generation ?? 1) + 1;
  }
  delete next.metadata.resourceVersion;
  return next;
}
