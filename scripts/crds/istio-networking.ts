// networking.istio.io CRDs the mesh implements: VirtualService, DestinationRule, ServiceEntry, WorkloadEntry.
// Field names, types and enums follow Istio's API (istio.io/api networking/v1); sub-objects the mesh does not read
// (TLS settings, locality load balancing, ...) are kept as sent (opaque) so manifests written for Istio apply.
// Deliberately no bounds Istio's own CRDs do not have (e.g. route weights): the controller reports those in status.
import { arr, bool, crd, duration, enumOf, int32, map, num, obj, opaque, port, str, strMap, stringMatch, strs, uint32, type Schema } from './schema.ts';

const VERSIONS = ['v1', 'v1beta1', 'v1alpha3'];
const CATEGORIES = ['istio-io', 'networking-istio-io'];

const percent = (description: string): Schema => obj({ value: num() }, description);
const workloadSelector = obj({ matchLabels: strMap('Labels a workload must carry for the configuration to apply to it.') },
  'Selects the workloads (by labels, in the same namespace) the configuration applies to.');

const headerOps = obj({
  set: strMap('Overwrite these headers.'),
  add: strMap('Append these headers.'),
  remove: strs('Remove these headers.'),
});
const headers = obj({ request: headerOps, response: headerOps }, 'Header manipulation rules.');

const portSelector = obj({ number: port('Port number.') }, 'A port of the destination host.');
const destination = obj({
  host: str('The name of a service from the service registry (Kubernetes Service or ServiceEntry host); short names are relative to the rule\'s namespace.'),
  subset: str('Name of a subset defined in a DestinationRule for the host.'),
  port: portSelector,
}, 'A network addressable service to which the request or connection is sent.', { required: ['host'] });

const routeDestination = obj({
  destination,
  weight: int32('Relative share of traffic sent to this destination.'),
}, undefined, { required: ['destination'] });

const httpRouteDestination = obj({
  destination,
  weight: int32('Relative share of traffic sent to this destination.'),
  headers,
}, undefined, { required: ['destination'] });

const httpMatch = obj({
  name: str('Name of the match, appended to the route name in logs.'),
  uri: stringMatch('URI to match (case-sensitive unless ignoreUriCase).'),
  scheme: stringMatch('URI scheme to match.'),
  method: stringMatch('HTTP method to match.'),
  authority: stringMatch('HTTP authority to match.'),
  headers: map(stringMatch(), 'Request headers that must match (keys lower-case).'),
  port: port('Port the request is addressed to.'),
  sourceLabels: strMap('Labels the calling workload must carry.'),
  gateways: strs('Gateways the rule applies to.'),
  queryParams: map(stringMatch(), 'Query parameters that must match.'),
  ignoreUriCase: bool('Match the URI case-insensitively.'),
  withoutHeaders: map(stringMatch(), 'Request headers that must not match.'),
  sourceNamespace: str('Namespace of the calling workload.'),
  statPrefix: str('Prefix for the match\'s statistics.'),
});

const httpRoute = obj({
  name: str('Name of the route, for logs and delegation.'),
  match: arr(httpMatch, 'Conditions for the rule to apply; any one matching is enough.'),
  route: arr(httpRouteDestination, 'Destinations to forward to, split by weight.'),
  redirect: obj({
    uri: str(), authority: str(), port: port(), derivePort: enumOf(['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT']),
    scheme: str(), redirectCode: uint32(),
  }, 'Answer with an HTTP redirect instead of forwarding.'),
  directResponse: obj({
    status: uint32('HTTP status to answer with.'),
    body: obj({ string: str(), bytes: str(undefined, { format: 'binary' }) }),
  }, 'Answer directly instead of forwarding.', { required: ['status'] }),
  delegate: obj({ name: str(), namespace: str() }, 'Delegate to another VirtualService.'),
  rewrite: obj({
    uri: str(), authority: str(),
    uriRegexRewrite: obj({ match: str(), rewrite: str() }),
  }, 'Rewrite the URI or authority before forwarding.'),
  timeout: duration('Timeout for the whole request (all retries).'),
  retries: obj({
    attempts: int32('Number of retries.'),
    perTryTimeout: duration('Timeout per attempt.'),
    retryOn: str('Conditions to retry on (comma-separated).'),
    retryRemoteLocalities: bool(),
    backoff: duration('Base interval between retries.'),
  }, 'Retry policy.'),
  fault: obj({
    delay: obj({ fixedDelay: duration(), exponentialDelay: duration(), percentage: percent('Share of requests delayed.'), percent: int32() }),
    abort: obj({ httpStatus: int32(), grpcStatus: str(), http2Error: str(), percentage: percent('Share of requests aborted.') }),
  }, 'Fault injection.'),
  mirror: destination,
  mirrorPercent: uint32('Deprecated: use mirrorPercentage.'),
  mirrorPercentage: percent('Share of requests mirrored.'),
  mirrors: arr(obj({ destination, percentage: percent('Share of requests mirrored.') }, undefined, { required: ['destination'] })),
  corsPolicy: obj({
    allowOrigins: arr(stringMatch()), allowOrigin: strs(), allowMethods: strs(), allowHeaders: strs(), exposeHeaders: strs(),
    maxAge: duration(), allowCredentials: bool(),
    unmatchedPreflights: enumOf(['UNSPECIFIED', 'FORWARD', 'IGNORE']),
  }, 'Cross-origin resource sharing policy.'),
  headers,
});

const l4Match = obj({
  destinationSubnets: strs('IPv4 or IPv6 destination addresses with optional prefix length.'),
  port: port('Destination port.'),
  sourceLabels: strMap(), gateways: strs(), sourceNamespace: str(),
});
const tcpRoute = obj({ match: arr(l4Match), route: arr(routeDestination) });
const tlsRoute = obj({
  match: arr(obj({ sniHosts: strs('SNI names to match.'), destinationSubnets: strs(), port: port(), sourceLabels: strMap(), gateways: strs(), sourceNamespace: str() },
    undefined, { required: ['sniHosts'] })),
  route: arr(routeDestination),
}, undefined, { required: ['match'] });

export const virtualService = crd({
  group: 'networking.istio.io', kind: 'VirtualService', plural: 'virtualservices', shortNames: ['vs'], categories: CATEGORIES,
  versions: VERSIONS,
  description: 'Traffic routing rules for hosts: matched HTTP requests and TCP connections are routed, retried, rewritten or answered. In ambient mode a waypoint applies them to the services bound to it.',
  printerColumns: [
    { name: 'Gateways', type: 'string', jsonPath: '.spec.gateways', description: 'Gateways the rules apply to.' },
    { name: 'Hosts', type: 'string', jsonPath: '.spec.hosts', description: 'Destination hosts the rules apply to.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  spec: obj({
    hosts: strs('Destination hosts the rules apply to (short names are relative to the rule\'s namespace).'),
    gateways: strs('Gateways and sidecars the rules apply to (`mesh` for all sidecars/waypoints).'),
    http: arr(httpRoute, 'HTTP routing rules, first match wins.'),
    tls: arr(tlsRoute, 'Routing rules for unterminated TLS.'),
    tcp: arr(tcpRoute, 'Routing rules for opaque TCP.'),
    exportTo: strs('Namespaces the rules are visible to (`.` own, `*` all).'),
  }),
});

const loadBalancer = obj({
  simple: enumOf(['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST']),
  consistentHash: obj({
    httpHeaderName: str(),
    httpCookie: obj({ name: str(), path: str(), ttl: duration(), attributes: arr(obj({ name: str(), value: str() })) }, undefined, { required: ['name'] }),
    useSourceIp: bool(),
    httpQueryParameterName: str(),
    ringHash: opaque(), maglev: opaque(), minimumRingSize: uint32(),
  }),
  localityLbSetting: opaque(),
  warmupDurationSecs: duration(),
  warmup: opaque(),
}, 'Load balancing across the endpoints.');

const connectionPool = obj({
  tcp: obj({
    maxConnections: int32(), connectTimeout: duration(), tcpKeepalive: opaque(), maxConnectionDuration: duration(), idleTimeout: duration(),
  }),
  http: obj({
    http1MaxPendingRequests: int32(), http2MaxRequests: int32(), maxRequestsPerConnection: int32(), maxRetries: int32(),
    idleTimeout: duration(), h2UpgradePolicy: enumOf(['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE']), useClientProtocol: bool(),
    maxConcurrentStreams: int32(),
  }),
}, 'Connection limits to the upstream.');

const outlierDetection = obj({
  splitExternalLocalOriginErrors: bool(), consecutiveLocalOriginFailures: { ...uint32(), nullable: true },
  consecutiveGatewayErrors: { ...uint32(), nullable: true }, consecutive5xxErrors: { ...uint32(), nullable: true },
  consecutiveErrors: int32('Deprecated: use consecutive5xxErrors.'),
  interval: duration(), baseEjectionTime: duration(), maxEjectionPercent: int32(), minHealthPercent: int32(),
}, 'Ejection of failing endpoints from the load-balancing pool.');

const trafficPolicyFields = { loadBalancer, connectionPool, outlierDetection, tls: opaque('Client TLS settings.') };
const trafficPolicy = obj({
  ...trafficPolicyFields,
  portLevelSettings: arr(obj({ port: portSelector, ...trafficPolicyFields }), 'Policies for individual ports.'),
  tunnel: opaque(), proxyProtocol: opaque(), retryBudget: opaque(),
}, 'Policies applied to traffic to the host.');

export const destinationRule = crd({
  group: 'networking.istio.io', kind: 'DestinationRule', plural: 'destinationrules', shortNames: ['dr'], categories: CATEGORIES,
  versions: VERSIONS,
  description: 'Policies applied to traffic for a service after routing: load balancing, connection pools, outlier detection, and named subsets of its endpoints.',
  printerColumns: [
    { name: 'Host', type: 'string', jsonPath: '.spec.host', description: 'The service the rule applies to.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  spec: obj({
    host: str('The name of a service from the service registry.'),
    trafficPolicy,
    subsets: arr(obj({ name: str('Name of the subset, referenced from routes.'), labels: strMap('Labels selecting the subset\'s endpoints.'), trafficPolicy },
      undefined, { required: ['name'] }), 'Named groups of the service\'s endpoints.'),
    exportTo: strs(),
    workloadSelector,
  }, undefined, { required: ['host'] }),
});

const workloadEntryFields = {
  address: str('Address of the workload (IP or DNS name).', { maxLength: 256 }),
  ports: map(uint32(), 'Port name → port number on the workload.'),
  labels: strMap('Labels of the workload.'),
  network: str('Network the workload is on.'),
  locality: str('Locality of the workload.'),
  weight: uint32('Load-balancing weight.'),
  serviceAccount: str('Service account the workload runs as (its mesh identity).'),
};

export const serviceEntry = crd({
  group: 'networking.istio.io', kind: 'ServiceEntry', plural: 'serviceentries', shortNames: ['se'], categories: CATEGORIES,
  versions: VERSIONS,
  description: 'Adds a service to the mesh\'s registry: hosts and addresses with ports, resolved to static endpoints, DNS, or workloads selected by labels (WorkloadEntries and pods).',
  printerColumns: [
    { name: 'Hosts', type: 'string', jsonPath: '.spec.hosts', description: 'The hosts associated with the ServiceEntry.' },
    { name: 'Location', type: 'string', jsonPath: '.spec.location', description: 'Whether the service is external or part of the mesh.' },
    { name: 'Resolution', type: 'string', jsonPath: '.spec.resolution', description: 'How endpoints are resolved.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  spec: obj({
    hosts: strs('Hosts of the service.'),
    addresses: strs('Virtual IPs of the service.'),
    ports: arr(obj({
      number: port('Port number.'), protocol: str('Protocol: HTTP, HTTPS, GRPC, HTTP2, MONGO, TCP or TLS.'), name: str('Port name.'),
      targetPort: port('Port on the endpoints.'),
    }, undefined, { required: ['number', 'name'] }), 'Ports of the service.'),
    location: enumOf(['MESH_EXTERNAL', 'MESH_INTERNAL']),
    resolution: enumOf(['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN', 'DYNAMIC_DNS']),
    endpoints: arr(obj(workloadEntryFields), 'Static endpoints of the service.'),
    workloadSelector,
    exportTo: strs(),
    subjectAltNames: strs(),
    trafficDistribution: str(),
  }, undefined, { required: ['hosts'] }),
});

export const workloadEntry = crd({
  group: 'networking.istio.io', kind: 'WorkloadEntry', plural: 'workloadentries', shortNames: ['we'], categories: CATEGORIES,
  versions: VERSIONS,
  description: 'A workload that is not a pod (a VM, a bare-metal host): its address, labels, ports and identity. ServiceEntries and Services select it by labels.',
  printerColumns: [
    { name: 'Address', type: 'string', jsonPath: '.spec.address', description: 'Address of the workload.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  spec: obj(workloadEntryFields),
});

