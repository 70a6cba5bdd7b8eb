// What every part of the waypoint's data path shares: the xDS state (workloads, services), the waypoint's own
// configuration, its identity and certificates, the HBONE client pool, and the request-path engines.
import type { Logger } from '../../shared/log.ts';
import type { XdsState } from '../../shared/state/index.ts';
import type { CertificateManager } from '../../shared/identity/index.ts';
import type { HbonePool } from '../../shared/hbone/index.ts';
import type { SocketFactory } from '../../shared/socket/index.ts';
import type { SpiffeId } from '../../shared/spiffe.ts';
import type { WaypointConfigStore } from '../store.ts';

export interface ProxyContext {
  /** `<namespace>/<gateway>` */
  name: string;
  namespace: string;
  trustDomain: string;
  clusterId: string;
  podIp: string;
  identity: SpiffeId;
  serviceAccount: string;
  state: XdsState;
  store: WaypointConfigStore;
  certs: CertificateManager;
  pool: HbonePool;
  factory: SocketFactory;
  log: Logger;
}
