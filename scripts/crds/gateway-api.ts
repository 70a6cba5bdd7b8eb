// gateway.networking.k8s.io CRDs the mesh reads: GatewayClass, Gateway, HTTPRoute, GRPCRoute, TCPRoute and
// ReferenceGrant, with the Gateway API's field names, types, enums and limits (standard channel, plus the
// experimental fields the waypoint implements: HTTPRoute retry, TCPRoute). Not included: the Gateway API's CEL rules
// and defaulting (the controller applies the same defaults when it reads an object). On a cluster that already has
// the upstream Gateway API CRDs, install deploy/ without this folder (see README).
import { arr, crd, enumOf, int32, int64, obj, opaque, str, strMap, strs, type Schema } from './schema.ts';

const GROUP = 'gateway.networking.k8s.io';
const CATEGORIES = ['gateway-api'];
const ANNOTATIONS = { 'gateway.networking.k8s.io/bundle-version': 'v1.2.1', 'gateway.networking.k8s.io/channel': 'ambient-mesh' };

const name = (description?: string): Schema => str(description, { minLength: 1, maxLength: 253 });
const group = (): Schema => str('API group; empty for the core group.', { maxLength: 253 });
const kind = (): Schema => str('Kind of the referent.', { minLength: 1, maxLength: 63 });
const namespace = (): Schema => str('Namespace of the referent.', { minLength: 1, maxLength: 63 });
const portNumber = (): Schema => int32('Port number.', { minimum: 1, maximum: 65535 });
const hostname = (): Schema => str(undefined, { minLength: 1, maxLength: 253 });
const duration = (description: string): Schema => str(description, { pattern: '^([0-9]{1,5}(h|m|s|ms)){1,4}$' });

const condition = obj({
  type: str(undefined, { maxLength: 316 }),
  status: enumOf(['True', 'False', 'Unknown']),
  observedGeneration: int64(undefined, { minimum: 0 }),
  lastTransitionTime: str(undefined, { format: 'date-time' }),
  reason: str(undefined, { maxLength: 1024 }),
  message: str(undefined, { maxLength: 32768 }),
}, undefined, { required: ['type', 'status'] });
const conditions = arr(condition, 'Conditions written by the implementation.', { maxItems: 8, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });

const labelSelector = obj({
  matchLabels: strMap(),
  matchExpressions: arr(obj({ key: str(), operator: str(), values: strs() }, undefined, { required: ['key', 'operator'] })),
});

const parentRef = obj({
  group: group(), kind: kind(), namespace: namespace(), name: name('Name of the parent (a Gateway, or a Service for mesh routes).'),
  sectionName: str('A listener (Gateway) or port name (Service).', { minLength: 1, maxLength: 253 }),
  port: portNumber(),
}, undefined, { required: ['name'] });
const parentRefs = arr(parentRef, 'The Gateways (waypoints) or Services the route attaches to.', { maxItems: 32 });
const hostnames = arr(hostname(), 'Hostnames the route matches (Host header / :authority).', { maxItems: 16 });

const headerValue = obj({ name: str(undefined, { minLength: 1, maxLength: 256 }), value: str(undefined, { minLength: 1, maxLength: 4096 }) },
  undefined, { required: ['name', 'value'] });
const headerModifier = obj({
  set: arr(headerValue, undefined, { maxItems: 16 }),
  add: arr(headerValue, undefined, { maxItems: 16 }),
  remove: strs(undefined, { maxItems: 16 }),
});
const backendObjectRef = {
  group: group(), kind: kind(), name: name('Name of the backend (a Service).'), namespace: namespace(), port: portNumber(),
};
const fraction = obj({ numerator: int32(undefined, { minimum: 0 }), denominator: int32(undefined, { minimum: 1 }) }, undefined, { required: ['numerator'] });
const pathModifier = obj({
  type: enumOf(['ReplaceFullPath', 'ReplacePrefixMatch']),
  replaceFullPath: str(undefined, { maxLength: 1024 }),
  replacePrefixMatch: str(undefined, { maxLength: 1024 }),
}, undefined, { required: ['type'] });

const filterFields = {
  requestHeaderModifier: headerModifier,
  responseHeaderModifier: headerModifier,
  requestMirror: obj({ backendRef: obj(backendObjectRef, undefined, { required: ['name'] }), percent: int32(undefined, { minimum: 0, maximum: 100 }), fraction },
    'Mirror requests to another backend.', { required: ['backendRef'] }),
  extensionRef: obj({ group: group(), kind: kind(), name: name() }, undefined, { required: ['group', 'kind', 'name'] }),
};
const httpFilter = obj({
  type: enumOf(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'RequestRedirect', 'URLRewrite', 'ExtensionRef', 'CORS']),
  ...filterFields,
  requestRedirect: obj({
    scheme: enumOf(['http', 'https']), hostname: hostname(), path: pathModifier, port: portNumber(),
    statusCode: { type: 'integer', enum: [301, 302, 303, 307, 308] },
  }),
  urlRewrite: obj({ hostname: hostname(), path: pathModifier }),
  cors: opaque(),
}, undefined, { required: ['type'] });
const grpcFilter = obj({
  type: enumOf(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'ExtensionRef']),
  ...filterFields,
}, undefined, { required: ['type'] });

const backendRef = (filter: Schema): Schema => obj({
  ...backendObjectRef,
  weight: int32('Relative share of requests.', { minimum: 0, maximum: 1000000 }),
  filters: arr(filter, undefined, { maxItems: 16 }),
}, undefined, { required: ['name'] });

const headerMatch = obj({
  type: enumOf(['Exact', 'RegularExpression']),
  name: str(undefined, { minLength: 1, maxLength: 256 }),
  value: str(undefined, { minLength: 1, maxLength: 4096 }),
}, undefined, { required: ['name', 'value'] });

const httpRouteRule = obj({
  name: str('Name of the rule.', { minLength: 1, maxLength: 253 }),
  matches: arr(obj({
    path: obj({ type: enumOf(['Exact', 'PathPrefix', 'RegularExpression']), value: str(undefined, { maxLength: 1024 }) }),
    headers: arr(headerMatch, undefined, { maxItems: 16 }),
    queryParams: arr(headerMatch, undefined, { maxItems: 16 }),
    method: enumOf(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']),
  }), 'Conditions; a request matching any one selects the rule.', { maxItems: 64 }),
  filters: arr(httpFilter, undefined, { maxItems: 16 }),
  backendRefs: arr(backendRef(httpFilter), undefined, { maxItems: 16 }),
  timeouts: obj({
    request: duration('Timeout for the whole request, retries included.'),
    backendRequest: duration('Timeout for each request to a backend.'),
  }),
  retry: obj({
    codes: arr(int32(undefined, { minimum: 400, maximum: 599 }), 'HTTP status codes to retry.'),
    attempts: int32('Retries allowed.', { minimum: 0 }),
    backoff: duration('Interval between retries.'),
  }, 'Retry policy (experimental channel, GEP-1731).'),
  sessionPersistence: opaque(),
});

const grpcRouteRule = obj({
  name: str('Name of the rule.', { minLength: 1, maxLength: 253 }),
  matches: arr(obj({
    method: obj({
      type: enumOf(['Exact', 'RegularExpression']),
      service: str(undefined, { maxLength: 1024 }),
      method: str(undefined, { maxLength: 1024 }),
    }),
    headers: arr(headerMatch, undefined, { maxItems: 16 }),
  }), undefined, { maxItems: 64 }),
  filters: arr(grpcFilter, undefined, { maxItems: 16 }),
  backendRefs: arr(backendRef(grpcFilter), undefined, { maxItems: 16 }),
  sessionPersistence: opaque(),
});

const routeStatus = obj({
  parents: arr(obj({
    parentRef, controllerName: str(undefined, { minLength: 1, maxLength: 253 }), conditions,
  }, undefined, { required: ['parentRef', 'controllerName'] }), 'Status per parent, written by each implementation.', { maxItems: 32 }),
}, undefined, { required: ['parents'] });

const routePrinter = [
  { name: 'Hostnames', type: 'string', jsonPath: '.spec.hostnames' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

export const gatewayClass = crd({
  group: GROUP, kind: 'GatewayClass', plural: 'gatewayclasses', shortNames: ['gc'], categories: CATEGORIES, scope: 'Cluster',
  versions: ['v1', 'v1beta1', 'v1alpha2'], deprecated: ['v1alpha2'], annotations: ANNOTATIONS,
  description: 'A class of Gateways with a common implementation (controllerName). The mesh implements istio-waypoint.',
  printerColumns: [
    { name: 'Controller', type: 'string', jsonPath: '.spec.controllerName' },
    { name: 'Accepted', type: 'string', jsonPath: '.status.conditions[?(@.type=="Accepted")].status' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'Description', type: 'string', jsonPath: '.spec.description', description: '' },
  ],
  spec: obj({
    controllerName: str('The implementation of the class, e.g. istio.io/mesh-controller.', { minLength: 1, maxLength: 253 }),
    parametersRef: obj({ group: group(), kind: kind(), name: name(), namespace: namespace() }, undefined, { required: ['group', 'kind', 'name'] }),
    description: str(undefined, { maxLength: 64 }),
  }, undefined, { required: ['controllerName'] }),
  status: obj({ conditions, supportedFeatures: arr(obj({ name: str() }), undefined, { maxItems: 64 }) }),
});

const listener = obj({
  name: str('Name of the listener, unique in the Gateway.', { minLength: 1, maxLength: 253 }),
  hostname: hostname(),
  port: portNumber(),
  protocol: str('HTTP, HTTPS, TLS, TCP, UDP, or an implementation-specific protocol such as istio.io/HBONE.', { minLength: 1, maxLength: 255 }),
  tls: opaque(),
  allowedRoutes: obj({
    namespaces: obj({ from: enumOf(['All', 'Selector', 'Same']), selector: labelSelector }),
    kinds: arr(obj({ group: group(), kind: kind() }, undefined, { required: ['kind'] }), undefined, { maxItems: 8 }),
  }),
}, undefined, { required: ['name', 'port', 'protocol'] });

export const gateway = crd({
  group: GROUP, kind: 'Gateway', plural: 'gateways', shortNames: ['gtw'], categories: CATEGORIES,
  versions: ['v1', 'v1beta1', 'v1alpha2'], deprecated: ['v1alpha2'], annotations: ANNOTATIONS,
  description: 'A traffic-handling instance of a GatewayClass. With gatewayClassName istio-waypoint it is a waypoint: the controller deploys it and binds the namespace\'s services or workloads to it.',
  printerColumns: [
    { name: 'Class', type: 'string', jsonPath: '.spec.gatewayClassName' },
    { name: 'Address', type: 'string', jsonPath: '.status.addresses[*].value' },
    { name: 'Programmed', type: 'string', jsonPath: '.status.conditions[?(@.type=="Programmed")].status' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  spec: obj({
    gatewayClassName: str('Name of the GatewayClass.', { minLength: 1, maxLength: 253 }),
    listeners: arr(listener, 'Where the Gateway accepts traffic.', { minItems: 1, maxItems: 64 }),
    addresses: arr(obj({ type: str(undefined, { minLength: 1, maxLength: 253 }), value: str(undefined, { minLength: 1, maxLength: 253 }) }), undefined, { maxItems: 16 }),
    infrastructure: obj({ labels: strMap(), annotations: strMap(), parametersRef: obj({ group: group(), kind: kind(), name: name() }, undefined, { required: ['group', 'kind', 'name'] }) }),
  }, undefined, { required: ['gatewayClassName', 'listeners'] }),
  status: obj({
    addresses: arr(obj({ type: str(), value: str(undefined, { minLength: 1, maxLength: 253 }) }, undefined, { required: ['value'] }), undefined, { maxItems: 16 }),
    conditions,
    listeners: arr(obj({
      name: str(),
      supportedKinds: arr(obj({ group: group(), kind: kind() }, undefined, { required: ['kind'] }), undefined, { maxItems: 8 }),
      attachedRoutes: int32(),
      conditions,
    }, undefined, { required: ['name', 'supportedKinds', 'attachedRoutes', 'conditions'] }), undefined, { maxItems: 64 }),
  }),
});

export const httpRoute = crd({
  group: GROUP, kind: 'HTTPRoute', plural: 'httproutes', categories: CATEGORIES,
  versions: ['v1', 'v1beta1', 'v1alpha2'], deprecated: ['v1alpha2'], annotations: ANNOTATIONS,
  description: 'HTTP routing: requests to the parents (a waypoint, or a Service for mesh routing) are matched, filtered and sent to backends.',
  printerColumns: routePrinter,
  spec: obj({ parentRefs, hostnames, rules: arr(httpRouteRule, 'Routing rules.', { maxItems: 16 }) }),
  status: routeStatus,
});

export const grpcRoute = crd({
  group: GROUP, kind: 'GRPCRoute', plural: 'grpcroutes', categories: CATEGORIES,
  versions: ['v1', 'v1beta1', 'v1alpha2'], deprecated: ['v1alpha2'], annotations: ANNOTATIONS,
  description: 'gRPC routing by service and method.',
  printerColumns: routePrinter,
  spec: obj({ parentRefs, hostnames, rules: arr(grpcRouteRule, 'Routing rules.', { maxItems: 16 }) }),
  status: routeStatus,
});

export const tcpRoute = crd({
  group: GROUP, kind: 'TCPRoute', plural: 'tcproutes', categories: CATEGORIES,
  versions: ['v1alpha2'], annotations: ANNOTATIONS,
  description: 'TCP routing: connections to the parents are sent to backends (experimental channel).',
  printerColumns: [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
  spec: obj({
    parentRefs,
    rules: arr(obj({ name: str(undefined, { minLength: 1, maxLength: 253 }), backendRefs: arr(backendRef(opaque()), undefined, { minItems: 1, maxItems: 16 }) }),
      undefined, { minItems: 1, maxItems: 16 }),
  }, undefined, { required: ['rules'] }),
  status: routeStatus,
});

export const referenceGrant = crd({
  group: GROUP, kind: 'ReferenceGrant', plural: 'referencegrants', shortNames: ['refgrant'], categories: CATEGORIES,
  versions: ['v1beta1', 'v1alpha2'], deprecated: ['v1alpha2'], annotations: ANNOTATIONS, statusSubresource: false,
  description: 'Allows objects in other namespaces to reference objects in this one (e.g. a route\'s backendRef to a Service here).',
  printerColumns: [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
  spec: obj({
    from: arr(obj({ group: group(), kind: kind(), namespace: namespace() }, undefined, { required: ['group', 'kind', 'namespace'] }), undefined, { minItems: 1, maxItems: 16 }),
    to: arr(obj({ group: group(), kind: kind(), name: name() }, undefined, { required: ['group', 'kind'] }), undefined, { minItems: 1, maxItems: 16 }),
  }, undefined, { required: ['from', 'to'] }),
});

