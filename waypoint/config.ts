// The waypoint's startup configuration, from the environment the controller's rendered Deployment gives it (see
// controller/waypoint/deploy/render.ts). Bad configuration is a crash at startup naming the variable.
import { isIP } from 'node:net';
import { MeshError } from '../shared/errors.ts';
import { envReader, type Env } from '../shared/env.ts';

export class WaypointConfigError extends MeshError {
  constructor(message: string) {
    super('WP_BAD_ENV', message);
  }
}

export interface WaypointEnv {
  /** The Gateway this instance serves (`GATEWAY_NAME`) in `POD_NAMESPACE`. */
  gatewayName: string;
  namespace: string;
  podName: string;
  podIp: string;
  serviceAccount: string;
  xdsAddress: string;
  caAddress: string;
  controlPlaneName: string;
  trustDomain: string;
  clusterId: string;
  tokenFile: string;
  rootCaFile: string;
  hbonePort: number;
  adminPort: number;
  metricsPort: number;
  readinessPort: number;
  drainSeconds: number;
}

export function loadWaypointEnv(env: Env = process.env): WaypointEnv {
  const r = envReader(env, (m) => new WaypointConfigError(m), 'the waypoint Deployment sets it; check its pod template');
  const need = r.required;
  const num = (name: string, dflt: number, max?: number): number => r.number(name, dflt, max);
  const podIp = need('INSTANCE_IP');
  if (!isIP(podIp)) throw new WaypointConfigError(`INSTANCE_IP=${podIp} is not an IP address`);
  const xdsAddress = env.XDS_ADDRESS || 'istiod.istio-system.svc:15012';
  const gatewayName = need('GATEWAY_NAME');
  return {
    gatewayName,
    namespace: need('POD_NAMESPACE'),
    podName: need('POD_NAME'),
    podIp,
    serviceAccount: env.SERVICE_ACCOUNT || gatewayName,
    xdsAddress,
    caAddress: env.CA_ADDRESS || xdsAddress,
    controlPlaneName: env.CONTROL_PLANE_NAME || 'istiod.istio-system.svc',
    trustDomain: env.TRUST_DOMAIN || 'cluster.local',
    clusterId: env.CLUSTER_ID || 'Kubernetes',
    tokenFile: env.TOKEN_FILE || '/var/run/secrets/tokens/istio-token',
    rootCaFile: env.ROOT_CA_FILE || '/var/run/secrets/istio/root-cert.pem',
    hbonePort: num('HBONE_PORT', 15008),
    adminPort: num('ADMIN_PORT', 15000),
    metricsPort: num('METRICS_PORT', 15020),
    readinessPort: num('READINESS_PORT', 15021),
    drainSeconds: num('DRAIN_SECONDS', 5, 3600),
  };
}
