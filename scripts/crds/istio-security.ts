// security.istio.io CRDs: AuthorizationPolicy, PeerAuthentication, RequestAuthentication, with Istio's field names,
// types and enums (istio.io/api security/v1). The controller validates the meaning (which fields ztunnel can enforce
// at L4, principals' syntax) and reports it in status.
import { arr, bool, crd, duration, enumOf, map, obj, str, strMap, strs, type Schema } from './schema.ts';

const VERSIONS = ['v1', 'v1beta1'];
const CATEGORIES = ['istio-io', 'security-istio-io'];

const selector = obj({ matchLabels: strMap('Labels a workload must carry for the policy to apply to it.') },
  'Selects the workloads (by labels, in the policy\'s namespace) the policy applies to. Absent: every workload in the namespace (all namespaces in the root namespace).');
const targetRef = obj({
  group: str('API group of the target (gateway.networking.k8s.io, or empty for Service).'),
  kind: str('Kind of the target: Gateway, Service or ServiceEntry.'),
  name: str('Name of the target.'),
  namespace: str('Namespace of the target (must be the policy\'s own).'),
}, 'A resource the policy attaches to (waypoints enforce it).', { required: ['kind', 'name'] });

const source = obj({
  principals: strs('Peer identities (`<trust-domain>/ns/<ns>/sa/<sa>`), `*` prefix/suffix wildcards allowed.'),
  notPrincipals: strs(),
  requestPrincipals: strs('JWT `<iss>/<sub>` identities.'),
  notRequestPrincipals: strs(),
  namespaces: strs('Namespaces of the peer identity.'),
  notNamespaces: strs(),
  ipBlocks: strs('Source IPs or CIDRs.'),
  notIpBlocks: strs(),
  remoteIpBlocks: strs('Original client IPs or CIDRs (from X-Forwarded-For).'),
  notRemoteIpBlocks: strs(),
  serviceAccounts: strs('Service accounts (`<ns>/<sa>`) of the peer.'),
  notServiceAccounts: strs(),
});
const operation = obj({
  hosts: strs('HTTP hosts.'), notHosts: strs(),
  ports: strs('Destination ports.'), notPorts: strs(),
  methods: strs('HTTP methods (gRPC: always POST).'), notMethods: strs(),
  paths: strs('HTTP paths (gRPC: /package.Service/Method).'), notPaths: strs(),
});

const authorizationRule = obj({
  from: arr(obj({ source }), 'Sources; a request must match one of them.'),
  to: arr(obj({ operation }), 'Operations; a request must match one of them.'),
  when: arr(obj({ key: str('Attribute name, e.g. request.headers[x-token] or source.ip.'), values: strs(), notValues: strs() },
    undefined, { required: ['key'] }), 'Further conditions; all must match.'),
});

export const authorizationPolicy = crd({
  group: 'security.istio.io', kind: 'AuthorizationPolicy', plural: 'authorizationpolicies', shortNames: ['ap'], categories: CATEGORIES,
  versions: VERSIONS,
  description: 'Access control for workloads: ALLOW, DENY, AUDIT or CUSTOM rules over sources, operations and conditions. ztunnel enforces the L4 parts; a waypoint enforces policies attached to it with targetRefs.',
  printerColumns: [
    { name: 'Action', type: 'string', jsonPath: '.spec.action', description: 'The operation to take.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  spec: obj({
    selector,
    targetRef,
    targetRefs: arr(targetRef, 'Resources the policy attaches to (waypoints enforce it).'),
    rules: arr(authorizationRule, 'Rules; a request matching any one of them matches the policy.'),
    action: enumOf(['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'], 'What to do with a matching request. Default ALLOW.'),
    provider: obj({ name: str() }, 'The extension provider for CUSTOM.'),
  }),
});

const mtls = (description: string): Schema => obj({
  mode: enumOf(['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'], 'UNSET inherits from the parent scope; STRICT refuses plaintext.'),
}, description);

export const peerAuthentication = crd({
  group: 'security.istio.io', kind: 'PeerAuthentication', plural: 'peerauthentications', shortNames: ['pa'], categories: CATEGORIES,
  versions: VERSIONS,
  description: 'Whether workloads accept plaintext: mesh-wide (root namespace), per namespace, per workload selector and per port.',
  printerColumns: [
    { name: 'Mode', type: 'string', jsonPath: '.spec.mtls.mode', description: 'Defines the mTLS mode used for peer authentication.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  spec: obj({
    selector,
    mtls: mtls('Mutual TLS mode for the selected workloads.'),
    portLevelMtls: map(mtls('Mutual TLS mode for one port.'), 'Port number (of the workload) → mode; needs a selector.'),
  }),
});

const jwtRule = obj({
  issuer: str('Issuer (iss claim) the rule accepts.'),
  audiences: strs('Accepted audiences (aud claim); absent: the service\'s hostnames.'),
  jwksUri: str('URL of the issuer\'s JSON Web Key Set.'),
  jwks: str('The JSON Web Key Set inline.'),
  fromHeaders: arr(obj({ name: str(), prefix: str() }, undefined, { required: ['name'] }), 'Headers to read the token from.'),
  fromParams: strs('Query parameters to read the token from.'),
  fromCookies: strs('Cookies to read the token from.'),
  outputPayloadToHeader: str(),
  forwardOriginalToken: bool(),
  outputClaimToHeaders: arr(obj({ header: str(), claim: str() })),
  timeout: duration('Timeout for fetching the JWKS.'),
}, undefined, { required: ['issuer'] });

export const requestAuthentication = crd({
  group: 'security.istio.io', kind: 'RequestAuthentication', plural: 'requestauthentications', shortNames: ['ra'], categories: CATEGORIES,
  versions: VERSIONS,
  description: 'JWT validation for requests to the selected workloads or waypoint: invalid tokens are refused, valid ones give request principals that AuthorizationPolicies can use.',
  spec: obj({
    selector,
    targetRef,
    targetRefs: arr(targetRef),
    jwtRules: arr(jwtRule, 'Accepted token issuers and how to find and check their tokens.'),
  }),
});
