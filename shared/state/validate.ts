// Pure checks of decoded xDS resources against their names, run before the store changes anything so a
// bad batch can be refused whole. Each returns a lower-case reason, or undefined when the resource is fine.
import type { Address, Authorization, NetworkAddress } from '../proto/types.ts';

const SCOPES = new Set(['GLOBAL', 'NAMESPACE', 'WORKLOAD_SELECTOR']);
const ACTIONS = new Set(['ALLOW', 'DENY']);

function badIp(bytes: Uint8Array | undefined): boolean {
  return !bytes || (bytes.length !== 4 && bytes.length !== 16);
}

function badNetworkAddresses(list: NetworkAddress[] | undefined): boolean {
  return (list ?? []).some((a) => badIp(a.address));
}

export function addressProblem(name: string, a: Address): string | undefined {
  if (a.workload && a.service) return `address ${name} sets both workload and service`;
  if (a.workload) {
    const w = a.workload;
    if (!w.uid) return `workload ${name} has no uid`;
    // Removals arrive by resource name, and the store finds workloads by uid: the two must agree.
    if (w.uid !== name) return `workload resource ${name} carries uid ${w.uid}; the xds name must be the uid`;
    if ((w.addresses ?? []).some(badIp)) return `workload ${name} has an address that is not 4 or 16 bytes`;
    return undefined;
  }
  if (a.service) {
    const s = a.service;
    if (!s.namespace || !s.hostname) return `service ${name} needs a namespace and a hostname`;
    if (name !== `${s.namespace}/${s.hostname}`) return `service resource ${name} is ${s.namespace}/${s.hostname}; the xds name must be namespace/hostname`;
    if (badNetworkAddresses(s.addresses)) return `service ${name} has a vip that is not 4 or 16 bytes`;
    return undefined;
  }
  return `address ${name} sets neither workload nor service`;
}

export function authorizationProblem(name: string, p: Authorization): string | undefined {
  if (!p.name || !p.namespace) return `authorization ${name} needs a name and a namespace`;
  if (name !== `${p.namespace}/${p.name}`) return `authorization resource ${name} is ${p.namespace}/${p.name}; the xds name must be namespace/name`;
  if (p.scope !== undefined && !SCOPES.has(p.scope)) return `authorization ${name} has unknown scope ${String(p.scope)}`;
  if (p.action !== undefined && !ACTIONS.has(p.action)) return `authorization ${name} has unknown action ${String(p.action)}`;
  return undefined;
}
