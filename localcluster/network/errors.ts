// Error catalogue of the cluster network (netns topology, IPAM, creation record, kube-proxy).
import { MeshError } from '../../shared/errors.ts';

export class NetworkError extends MeshError {}

export const netErr = {
  command: (what: string, detail: string, cause?: unknown) =>
    new NetworkError('NET_COMMAND_FAILED', `${what} failed: ${detail.trim() || 'no output'}`, { cause }),
  badConfig: (detail: string) => new NetworkError('NET_BAD_CONFIG', detail),
  exists: (netns: string) =>
    new NetworkError('NET_ALREADY_EXISTS', `network namespace ${netns} already exists; run meshctl down (cleanupFromRecord) first`),
  missing: (netns: string) =>
    new NetworkError('NET_NOT_FOUND', `network namespace ${netns} does not exist; was the cluster torn down?`),
  unknownNode: (node: string) => new NetworkError('NET_UNKNOWN_NODE', `no node named ${node} in this cluster`),
  exhausted: (cidr: string) => new NetworkError('NET_IPAM_EXHAUSTED', `pod CIDR ${cidr} has no free address; remove pods first`),
  duplicatePod: (uid: string) => new NetworkError('NET_DUPLICATE_POD', `pod ${uid} already has a network`),
  nameClash: (netns: string, uid: string) =>
    new NetworkError('NET_NETNS_CLASH', `netns ${netns} is already used by another pod than ${uid} (uid prefix clash)`),
};
