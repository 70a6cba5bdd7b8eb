// Prometheus metrics of the delta ADS server, under istiod's names so existing dashboards apply.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL } from '../../shared/proto/index.ts';

export interface XdsMetrics {
  connected: Gauge;
  pushes: Counter<'type'>;
  rejects: Counter<'type'>;
  convergence: Histogram;
}

/** istiod's metric form of a type URL: wds for addresses, wads for authorizations. */
export function metricType(typeUrl: string): string {
  if (typeUrl === ADDRESS_TYPE_URL) return 'wds';
  if (typeUrl === AUTHORIZATION_TYPE_URL) return 'wads';
  return typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
}

export function createXdsMetrics(registry: Registry): XdsMetrics {
  const registers = [registry];
  return {
    connected: new Gauge({ name: 'pilot_xds', help: 'Number of endpoints connected to this pilot using XDS.', registers }),
    pushes: new Counter({ name: 'pilot_xds_pushes', help: 'Pilot build and send errors for lds, rds, cds and eds.', labelNames: ['type'], registers }),
    rejects: new Counter({ name: 'pilot_total_xds_rejects', help: 'Total number of XDS responses from pilot rejected by proxy.', labelNames: ['type'], registers }),
    convergence: new Histogram({
      name: 'pilot_proxy_convergence_time',
      help: 'Delay in seconds between config change and a proxy receiving all required configuration.',
      buckets: [0.1, 0.5, 1, 3, 5, 10, 20, 30],
      registers,
    }),
  };
}
