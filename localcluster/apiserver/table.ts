// Server-side printing: objects → meta.k8s.io/v1 Table with kubectl's usual columns (pure).
type Obj = Record<string, any>;

interface Column { name: string; type: string; format?: string; description?: string; priority: number; cell: (o: Obj, now: number) => unknown }

/** kubectl's HumanDuration (k8s.io/apimachinery/pkg/util/duration). */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (h < 24 * 8) return h % 24 === 0 ? `${Math.floor(h / 24)}d` : `${Math.floor(h / 24)}d${h % 24}h`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24)}d`;
  const y = Math.floor(h / 24 / 365);
  if (y < 8) return `${y}y${Math.floor(h / 24) % 365}d`;
  return `${y}y`;
}

const age = (o: Obj, now: number): string => {
  const t = Date.parse(o.metadata?.creationTimestamp ?? '');
  return Number.isNaN(t) ? '<unknown>' : humanDuration(now - t);
};
const col = (name: string, cell: Column['cell'], priority = 0, type = 'string', format?: string): Column =>
  ({ name, type, priority, cell, ...(format ? { format } : {}) });
const NAME = col('Name', (o) => o.metadata?.name ?? '', 0, 'string', 'name');
const AGE = col('Age', age);

function podStatus(p: Obj): string {
  if (p.metadata?.deletionTimestamp) return 'Terminating';
  let reason: string = p.status?.reason ?? p.status?.phase ?? 'Unknown';
  for (const cs of (p.status?.initContainerStatuses ?? []) as Obj[]) {
    if (cs.state?.terminated?.exitCode === 0) continue;
    if (cs.state?.waiting?.reason && cs.state.waiting.reason !== 'PodInitializing') return `Init:${cs.state.waiting.reason}`;
    if (cs.state?.terminated) return `Init:${cs.state.terminated.reason ?? 'Error'}`;
  }
  for (const cs of (p.status?.containerStatuses ?? []) as Obj[]) {
    if (cs.state?.waiting?.reason) reason = cs.state.waiting.reason;
    else if (cs.state?.terminated?.reason) reason = cs.state.terminated.reason;
  }
  if (!p.status?.containerStatuses && p.status?.phase === 'Pending' && p.spec?.nodeName) reason = 'ContainerCreating';
  return reason;
}

function servicePorts(s: Obj): string {
  const ports: Obj[] = s.spec?.ports ?? [];
  if (!ports.length) return '<none>';
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

function selectorString(sel: Obj | undefined): string {
  if (!sel) return '<none>';
  const m = sel.matchLabels ?? sel;
  const parts = Object.entries(m).filter(([, v]) => typeof v === 'string').map(([k, v]) => `${k}=${String(v)}`);
  return parts.length ? parts.join(',') : '<none>';
}

const PRINTERS: Record<string, Column[]> = {
  default: [NAME, AGE],
  pod: [
    NAME,
    col('Ready', (o) => `${(o.status?.containerStatuses ?? []).filter((c: Obj) => c.ready).length}/${(o.spec?.containers ?? []).length}`),
    col('Status', podStatus),
    col('Restarts', (o) => (o.status?.containerStatuses ?? []).reduce((a: number, c: Obj) => a + (c.restartCount ?? 0), 0), 0, 'string'),
    AGE,
    col('IP', (o) => o.status?.podIP ?? '<none>', 1),
    col('Node', (o) => o.spec?.nodeName ?? '<none>', 1),
    col('Nominated Node', (o) => o.status?.nominatedNodeName ?? '<none>', 1),
    col('Readiness Gates', (o) => (o.spec?.readinessGates?.length ? `0/${o.spec.readinessGates.length}` : '<none>'), 1),
  ],
  service: [
    NAME,
    col('Type', (o) => o.spec?.type ?? 'ClusterIP'),
    col('Cluster-IP', (o) => o.spec?.clusterIP ?? '<none>'),
    col('External-IP', (o) => (o.status?.loadBalancer?.ingress ?? []).map((i: Obj) => i.ip ?? i.hostname).join(',') || (o.spec?.externalName ?? '<none>')),
    col('Port(s)', servicePorts),
    AGE,
    col('Selector', (o) => selectorString(o.spec?.selector), 1),
  ],
  deployment: [
    NAME,
    col('Ready', (o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`),
    col('Up-to-date', (o) => o.status?.updatedReplicas ?? 0, 0, 'integer'),
    col('Available', (o) => o.status?.availableReplicas ?? 0, 0, 'integer'),
    AGE,
    col('Containers', (o) => (o.spec?.template?.spec?.containers ?? []).map((c: Obj) => c.name).join(','), 1),
    col('Images', (o) => (o.spec?.template?.spec?.containers ?? []).map((c: Obj) => c.image).join(','), 1),
    col('Selector', (o) => selectorString(o.spec?.selector), 1),
  ],
  daemonset: [
    NAME,
    col('Desired', (o) => o.status?.desiredNumberScheduled ?? 0, 0, 'integer'),
    col('Current', (o) => o.status?.currentNumberScheduled ?? 0, 0, 'integer'),
    col('Ready', (o) => o.status?.numberReady ?? 0, 0, 'integer'),
    col('Up-to-date', (o) => o.status?.updatedNumberScheduled ?? 0, 0, 'integer'),
    col('Available', (o) => o.status?.numberAvailable ?? 0, 0, 'integer'),
    col('Node Selector', (o) => selectorString(o.spec?.template?.spec?.nodeSelector)),
    AGE,
  ],
  replicaset: [
    NAME,
    col('Desired', (o) => o.spec?.replicas ?? 0, 0, 'integer'),
    col('Current', (o) => o.status?.replicas ?? 0, 0, 'integer'),
    col('Ready', (o) => o.status?.readyReplicas ?? 0, 0, 'integer'),
    AGE,
    col('Containers', (o) => (o.spec?.template?.spec?.containers ?? []).map((c: Obj) => c.name).join(','), 1),
    col('Images', (o) => (o.spec?.template?.spec?.containers ?? []).map((c: Obj) => c.image).join(','), 1),
    col('Selector', (o) => selectorString(o.spec?.selector), 1),
  ],
  node: [
    NAME,
    col('Status', (o) => {
      const ready = (o.status?.conditions ?? []).find((c: Obj) => c.type === 'Ready');
      const s = ready?.status === 'True' ? 'Ready' : 'NotReady';
      return o.spec?.unschedulable ? `${s},SchedulingDisabled` : s;
    }),
    col('Roles', (o) => Object.keys(o.metadata?.labels ?? {}).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.split('/')[1]).join(',') || '<none>'),
    AGE,
    col('Version', (o) => o.status?.nodeInfo?.kubeletVersion ?? ''),
    col('Internal-IP', (o) => (o.status?.addresses ?? []).find((a: Obj) => a.type === 'InternalIP')?.address ?? '<none>', 1),
  ],
  namespace: [NAME, col('Status', (o) => o.status?.phase ?? 'Active'), AGE],
  configmap: [NAME, col('Data', (o) => Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length, 0, 'integer'), AGE],
  secret: [NAME, col('Type', (o) => o.type ?? 'Opaque'), col('Data', (o) => Object.keys(o.data ?? {}).length, 0, 'integer'), AGE],
  serviceaccount: [NAME, col('Secrets', (o) => (o.secrets ?? []).length, 0, 'integer'), AGE],
  event: [
    col('Last Seen', (o, now) => {
      const t = Date.parse(o.lastTimestamp ?? o.eventTime ?? o.metadata?.creationTimestamp ?? '');
      return Number.isNaN(t) ? '<unknown>' : humanDuration(now - t);
    }),
    col('Type', (o) => o.type ?? ''),
    col('Reason', (o) => o.reason ?? ''),
    col('Object', (o) => `${String(o.involvedObject?.kind ?? '').toLowerCase()}/${o.involvedObject?.name ?? ''}`),
    col('Message', (o) => o.message ?? ''),
    { ...NAME, priority: 1 },
  ],
  endpointslice: [
    NAME,
    col('AddressType', (o) => o.addressType ?? ''),
    col('Ports', (o) => (o.ports ?? []).map((p: Obj) => p.port).join(',') || '<unset>'),
    col('Endpoints', (o) => (o.endpoints ?? []).flatMap((e: Obj) => e.addresses ?? []).slice(0, 3).join(',') || '<unset>'),
    AGE,
  ],
  lease: [NAME, col('Holder', (o) => o.spec?.holderIdentity ?? ''), AGE],
};

export function columnsFor(printer: string): Column[] {
  return PRINTERS[printer] ?? PRINTERS.default!;
}

/** The object form kubectl expects in a row: PartialObjectMetadata unless includeObject=Object (or None). */
function rowObject(o: Obj, includeObject: string): Obj | undefined {
  if (includeObject === 'None') return undefined;
  if (includeObject === 'Object') return o;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

export function toTable(printer: string, objs: Obj[], opts: { resourceVersion?: string; continue?: string; includeObject?: string; withColumns?: boolean; now?: number }): Obj {
  const cols = columnsFor(printer);
  const now = opts.now ?? Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: opts.resourceVersion ?? '', ...(opts.continue ? { continue: opts.continue } : {}) },
    columnDefinitions: opts.withColumns === false ? [] : cols.map((c) => ({
      name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? c.name, priority: c.priority,
    })),
    rows: objs.map((o) => {
      const obj = rowObject(o, opts.includeObject ?? 'Metadata');
      return { cells: cols.map((c) => c.cell(o, now)), ...(obj ? { object: obj } : {}) };
    }),
  };
}
