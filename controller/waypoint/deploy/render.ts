// The objects a waypoint Gateway (class istio-waypoint) becomes: a ServiceAccount, a Deployment and a ClusterIP
// Service, named after the Gateway, with Istio's labels for managed waypoints (so tools that know Istio's find them)
// and an owner reference to the Gateway (deleting it deletes them). Pure: (Gateway, options) → objects, plus the
// listener check that decides whether a Gateway is a waypoint this controller can deploy at all.
//
// Each rendered object carries a hash of itself (RENDER_HASH): the reconciler replaces a live object only when that
// hash changed, instead of comparing with what the API server returns (which adds defaults and other controllers'
// fields, so a field-by-field comparison would never settle).
import { createHash } from 'node:crypto';
import type {
  V1Deployment, V1EnvVar, V1ObjectMeta, V1OwnerReference, V1PodTemplateSpec, V1ResourceRequirements, V1Service,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { DATAPLANE_MODE, GATEWAY_NAME, HBONE_PORT, WAYPOINT_CLASS } from '../../../shared/ambient/keys.ts';

export { WAYPOINT_CLASS, GATEWAY_NAME, HBONE_PORT };

/** Istio's GatewayClass controller for waypoints (GatewayClass `istio-waypoint`). */
export const WAYPOINT_CONTROLLER = 'istio.io/mesh-controller';
/** Istio marks the objects its gateway controllers manage with this label … */
export const MANAGED_LABEL = 'gateway.istio.io/managed';
/** … and this value for waypoints. */
export const MANAGED_VALUE = 'istio.io-mesh-controller';
export const GATEWAY_CLASS_LABEL = 'gateway.networking.k8s.io/gateway-class-name';
/** Istio's older gateway-name label; still set so selectors written for older Istio releases find the pods. */
export const ISTIO_GATEWAY_NAME = 'istio.io/gateway-name';
export const REVISION_LABEL = 'istio.io/rev';
export const RENDER_HASH = 'ambient-mesh.io/rendered-hash';
export const STATUS_PORT = 15021;
export const METRICS_PORT = 15020;
export const TOKEN_DIR = '/var/run/secrets/tokens';
export const ROOT_CA_DIR = '/var/run/secrets/istio';

export interface GatewayListener {
  name?: string;
  port?: number;
  protocol?: string;
  hostname?: string;
  tls?: unknown;
  allowedRoutes?: unknown;
}

/** The fields of a Gateway API Gateway this folder reads (structural, so informer objects and literals fit). */
export interface WaypointGateway {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec?: {
    gatewayClassName?: string;
    listeners?: GatewayListener[];
    infrastructure?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  };
  status?: GatewayStatus;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

export interface ListenerStatus {
  name: string;
  supportedKinds: Array<{ group?: string; kind: string }>;
  attachedRoutes: number;
  conditions: Condition[];
}

export interface GatewayStatus {
  addresses?: Array<{ type?: string; value: string }>;
  conditions?: Condition[];
  listeners?: ListenerStatus[];
}

export interface WaypointRenderOptions {
  /** The waypoint image, e.g. `ghcr.io/ambient-mesh/ambient-mesh:0.1.0` (the one image; `args: [waypoint]` picks the component). */
  image: string;
  /** The controller's xDS address, e.g. `istiod.istio-system.svc:15012`. */
  xdsAddress: string;
  caAddress: string;
  trustDomain: string;
  clusterId: string;
  /** The controller's namespace: the TLS name its certificate carries is `istiod.<ns>.svc`. */
  controlPlaneNamespace: string;
  /** Istio revision the waypoint belongs to (`istio.io/rev`); default `default`. */
  revision?: string;
  /** Container resources; default Istio's waypoint defaults (100m/128Mi requested, 2 CPU/1Gi limit). */
  resources?: V1ResourceRequirements;
}

export interface RenderedWaypoint {
  serviceAccount: V1ServiceAccount;
  deployment: V1Deployment;
  service: V1Service;
}

/** A listener a waypoint cannot serve, with the field path and what to do. */
export interface ListenerProblem {
  index: number;
  name: string;
  reason: 'UnsupportedProtocol' | 'PortUnavailable' | 'Invalid';
  message: string;
}

export type WaypointVerdict =
  | { ok: true; listener: { name: string; port: number } }
  | { ok: false; message: string; problems: ListenerProblem[] };

const WANT = `a waypoint has exactly one listener {name: mesh, port: ${HBONE_PORT}, protocol: HBONE}`;

/**
 * Whether a waypoint Gateway's listeners are what a waypoint serves: exactly one, port 15008, protocol HBONE, no TLS
 * settings (HBONE is terminated with the mesh certificate). Istio checks the same port and protocol
 * (`Expected a single listener on port 15008 with protocol "HBONE"`).
 */
export function checkWaypointListeners(gw: WaypointGateway): WaypointVerdict {
  const listeners = gw.spec?.listeners ?? [];
  if (listeners.length === 0) return { ok: false, message: `spec.listeners: empty; ${WANT}`, problems: [] };
  const problems: ListenerProblem[] = [];
  listeners.forEach((l, index) => {
    const name = l.name ?? '';
    const at = `spec.listeners[${index}]`;
    if (index > 0) {
      problems.push({ index, name, reason: 'Invalid', message: `${at}: a waypoint takes a single listener (got ${listeners.length}); ${WANT}` });
    } else if (l.protocol !== 'HBONE') {
      problems.push({ index, name, reason: 'UnsupportedProtocol', message: `${at}.protocol: ${JSON.stringify(l.protocol ?? '')} is not supported on a waypoint; use HBONE` });
    } else if (l.port !== HBONE_PORT) {
      problems.push({ index, name, reason: 'PortUnavailable', message: `${at}.port: a waypoint listens on ${HBONE_PORT} (got ${l.port ?? 'none'})` });
    } else if (l.tls !== undefined && l.tls !== null) {
      problems.push({ index, name, reason: 'Invalid', message: `${at}.tls: not supported on a waypoint (HBONE uses the mesh certificate); remove it` });
    }
  });
  if (problems.length) return { ok: false, message: problems.map((p) => p.message).join('; '), problems };
  return { ok: true, listener: { name: listeners[0]!.name ?? 'mesh', port: HBONE_PORT } };
}

const OMITTED_ANNOTATIONS = new Set([
  'kubectl.kubernetes.io/last-applied-configuration', 'gateway.istio.io/name-override', 'gateway.istio.io/service-account',
  'gateway.istio.io/controller-version',
]);

function infraAnnotations(gw: WaypointGateway): Record<string, string> {
  return Object.fromEntries(Object.entries(gw.spec?.infrastructure?.annotations ?? {}).filter(([k]) => !OMITTED_ANNOTATIONS.has(k)));
}

/** A Service port name (DNS label) from a listener name; `mesh` when nothing usable is left. */
export function portName(listener: string | undefined): string {
  const s = (listener ?? '').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return s || 'mesh';
}

/** Sorted-key JSON, so hashes and comparisons do not depend on the order maps arrive in. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The hash stamped on a rendered object (its annotation excluded). */
export function renderHash(obj: { metadata?: V1ObjectMeta }): string {
  const { [RENDER_HASH]: _drop, ...annotations } = obj.metadata?.annotations ?? {};
  const copy = { ...obj, metadata: { ...obj.metadata, annotations } };
  return createHash('sha256').update(canonical(copy)).digest('hex').slice(0, 16);
}

function stamp<T extends { metadata?: V1ObjectMeta }>(obj: T): T {
  obj.metadata = { ...obj.metadata, annotations: { ...obj.metadata?.annotations, [RENDER_HASH]: renderHash(obj) } };
  return obj;
}

export function ownerReference(gw: WaypointGateway): V1OwnerReference {
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', name: gw.metadata?.name ?? '', uid: gw.metadata?.uid ?? '', controller: true };
}

const DEFAULT_RESOURCES: V1ResourceRequirements = { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '2', memory: '1Gi' } };

const field = (name: string, fieldPath: string): V1EnvVar => ({ name, valueFrom: { fieldRef: { fieldPath } } });

/** The ServiceAccount, Deployment and Service of a waypoint Gateway (see the file header). */
export function renderWaypoint(gw: WaypointGateway, o: WaypointRenderOptions): RenderedWaypoint {
  const name = gw.metadata?.name ?? '';
  const namespace = gw.metadata?.namespace ?? '';
  const infraLabels = gw.spec?.infrastructure?.labels ?? {};
  const annotations = infraAnnotations(gw);
  // Our keys win over infrastructure labels: the selector and the managed marker must hold.
  const own = { [GATEWAY_NAME]: name, [ISTIO_GATEWAY_NAME]: name, [GATEWAY_CLASS_LABEL]: WAYPOINT_CLASS };
  const labels = { ...infraLabels, ...own, [MANAGED_LABEL]: MANAGED_VALUE };
  const meta = (): V1ObjectMeta => ({
    name, namespace, labels: { ...labels }, ...(Object.keys(annotations).length ? { annotations: { ...annotations } } : {}),
    ownerReferences: [ownerReference(gw)],
  });
  const listenerPort = portName(gw.spec?.listeners?.[0]?.name);
  const meshPort = listenerPort === 'status-port' ? 'mesh' : listenerPort;

  const serviceAccount: V1ServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta() };

  const template: V1PodTemplateSpec = {
    metadata: {
      // Defaults first, infrastructure labels may override them (Istio lets `istio.io/dataplane-mode` be set this
      // way), the gateway's identity labels last.
      labels: {
        'sidecar.istio.io/inject': 'false',
        [DATAPLANE_MODE]: 'none',
        'service.istio.io/canonical-name': name,
        'service.istio.io/canonical-revision': 'latest',
        ...infraLabels,
        ...own,
        [MANAGED_LABEL]: MANAGED_VALUE,
      },
      annotations: {
        ...annotations,
        [REVISION_LABEL]: o.revision || 'default',
        'prometheus.io/path': '/stats/prometheus',
        'prometheus.io/port': String(METRICS_PORT),
        'prometheus.io/scrape': 'true',
      },
    },
    spec: {
      serviceAccountName: name,
      containers: [{
        name: 'istio-proxy',
        image: o.image,
        args: ['waypoint'],
        ports: [
          { name: 'hbone', containerPort: HBONE_PORT, protocol: 'TCP' },
          { name: 'status-port', containerPort: STATUS_PORT, protocol: 'TCP' },
          { name: 'metrics', containerPort: METRICS_PORT, protocol: 'TCP' },
        ],
        env: [
          field('POD_NAME', 'metadata.name'),
          field('POD_NAMESPACE', 'metadata.namespace'),
          field('INSTANCE_IP', 'status.podIP'),
          field('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
          field('NODE_NAME', 'spec.nodeName'),
          { name: 'GATEWAY_NAME', value: name },
          { name: 'XDS_ADDRESS', value: o.xdsAddress },
          { name: 'CA_ADDRESS', value: o.caAddress },
          { name: 'CONTROL_PLANE_NAME', value: `istiod.${o.controlPlaneNamespace}.svc` },
          { name: 'TRUST_DOMAIN', value: o.trustDomain },
          { name: 'CLUSTER_ID', value: o.clusterId },
          { name: 'TOKEN_FILE', value: `${TOKEN_DIR}/istio-token` },
          { name: 'ROOT_CA_FILE', value: `${ROOT_CA_DIR}/root-cert.pem` },
        ],
        readinessProbe: {
          httpGet: { path: '/healthz/ready', port: STATUS_PORT, scheme: 'HTTP' },
          initialDelaySeconds: 0, periodSeconds: 2, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 4,
        },
        resources: o.resources ?? DEFAULT_RESOURCES,
        securityContext: {
          privileged: false, allowPrivilegeEscalation: false, runAsNonRoot: true, runAsUser: 1337, runAsGroup: 1337,
          capabilities: { drop: ['ALL'] },
        },
        volumeMounts: [
          { name: 'istio-token', mountPath: TOKEN_DIR, readOnly: true },
          { name: 'istiod-ca-cert', mountPath: ROOT_CA_DIR, readOnly: true },
        ],
      }],
      volumes: [
        { name: 'istio-token', projected: { sources: [{ serviceAccountToken: { audience: 'istio-ca', expirationSeconds: 43200, path: 'istio-token' } }] } },
        { name: 'istiod-ca-cert', configMap: { name: 'istio-ca-root-cert' } },
      ],
    },
  };

  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(),
    // replicas is set at creation only (the reconciler keeps the live value), so an HPA or `kubectl scale` holds.
    spec: { replicas: 1, selector: { matchLabels: { [GATEWAY_NAME]: name } }, template },
  };

  const svcMeta = meta();
  // Istio's waypoint Service prefers endpoints close to the client.
  svcMeta.annotations = { 'networking.istio.io/traffic-distribution': 'PreferClose', ...svcMeta.annotations };
  const service: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: svcMeta,
    spec: {
      type: 'ClusterIP',
      selector: { [GATEWAY_NAME]: name },
      ports: [
        { name: 'status-port', port: STATUS_PORT, protocol: 'TCP', appProtocol: 'tcp' },
        { name: meshPort, port: HBONE_PORT, protocol: 'TCP', appProtocol: 'hbone' },
      ],
    },
  };

  return { serviceAccount: stamp(serviceAccount), deployment: stamp(deployment), service: stamp(service) };
}
