// The subscriptions that keep an XdsState in step: Addresses (workloads and services) and Authorizations, wildcard.
// ztunnel takes both; the waypoint takes Addresses only.
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL, decodeAddress, decodeAuthorization } from '../proto/index.ts';
import type { XdsState } from '../state/index.ts';
import type { XdsSubscription } from './client.ts';
import { decodeResource } from './protocol.ts';

export function addressSubscription(state: XdsState): XdsSubscription {
  return {
    typeUrl: ADDRESS_TYPE_URL,
    apply(upserts, removed) {
      const c = state.applyAddresses(upserts.map((v) => ({ name: v.name, version: v.version, address: decodeResource(ADDRESS_TYPE_URL, v.name, () => decodeAddress(v.value)) })), removed);
      return c.workloads.length + c.services.length;
    },
    versions: () => state.resourceVersions('address'),
  };
}

export function authorizationSubscription(state: XdsState): XdsSubscription {
  return {
    typeUrl: AUTHORIZATION_TYPE_URL,
    apply(upserts, removed) {
      const c = state.applyAuthorizations(upserts.map((v) => ({ name: v.name, version: v.version, authorization: decodeResource(AUTHORIZATION_TYPE_URL, v.name, () => decodeAuthorization(v.value)) })), removed);
      return c.policies.length;
    },
    versions: () => state.resourceVersions('authorization'),
  };
}

/** ztunnel's pair, in the order it subscribes. */
export function stateSubscriptions(state: XdsState): XdsSubscription[] {
  return [addressSubscription(state), authorizationSubscription(state)];
}
