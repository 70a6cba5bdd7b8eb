// The waypoint's current configuration (the one WaypointConfig resource named after its Gateway), with the lookups
// the request path makes on every request, and the xDS subscription that replaces it atomically. A push that does not
// decode or validate is NACKed and the previous configuration keeps serving; so does a removal (the controller
// deleting our resource means our Gateway is going away, and requests in flight should still be routed).
import { decodeResource, type XdsSubscription } from '../shared/xds/index.ts';
import { decodeWaypointConfig } from '../shared/waypoint/codec.ts';
import {
  WAYPOINT_CONFIG_SCHEMA, WAYPOINT_CONFIG_TYPE_URL,
  type DestinationPolicy, type ServiceListener, type WaypointConfig,
} from '../shared/waypoint/config.ts';

export class WaypointConfigStore {
  readonly name: string;
  #config: WaypointConfig;
  #version: string | undefined;
  #listeners = new Map<string, ServiceListener>();
  #destinations = new Map<string, DestinationPolicy>();
  readonly #onChange = new Set<(c: WaypointConfig) => void>();

  constructor(namespace: string, name: string) {
    this.name = `${namespace}/${name}`;
    this.#config = { schema: WAYPOINT_CONFIG_SCHEMA, namespace, name, services: [], destinations: [], authorization: [], authentication: [], rateLimits: [] };
  }

  get config(): WaypointConfig {
    return this.#config;
  }

  get version(): string | undefined {
    return this.#version;
  }

  /** The bound service's listener (routes, port protocols), if the service is bound to this waypoint. */
  listener(serviceKey: string): ServiceListener | undefined {
    return this.#listeners.get(serviceKey);
  }

  destination(serviceKey: string): DestinationPolicy | undefined {
    return this.#destinations.get(serviceKey);
  }

  onChange(f: (c: WaypointConfig) => void): void {
    this.#onChange.add(f);
  }

  replace(c: WaypointConfig, version?: string): void {
    this.#config = c;
    this.#version = version;
    this.#listeners = new Map(c.services.map((l) => [l.service, l]));
    this.#destinations = new Map(c.destinations.map((d) => [d.service, d]));
    for (const f of this.#onChange) f(c);
  }

  subscription(): XdsSubscription {
    return {
      typeUrl: WAYPOINT_CONFIG_TYPE_URL,
      names: [this.name],
      apply: (upserts) => {
        const mine = upserts.find((u) => u.name === this.name);
        if (!mine) return 0;
        const c = decodeResource(WAYPOINT_CONFIG_TYPE_URL, mine.name, () => decodeWaypointConfig(mine.value));
        this.replace(c, mine.version);
        return 1;
      },
      versions: (): Record<string, string> => (this.#version ? { [this.name]: this.#version } : {}),
    };
  }
}
