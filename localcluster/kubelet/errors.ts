// Error catalogue of the kubelet.
import { MeshError } from '../../shared/errors.ts';

export class KubeletError extends MeshError {}

export const containerNotFound = (ns: string, pod: string, container: string): KubeletError =>
  new KubeletError('KUBELET_CONTAINER_NOT_FOUND', `container ${container} is not in pod ${ns}/${pod}; check the container name`);

export const probeTimeout = (what: string, ms: number): KubeletError =>
  new KubeletError('KUBELET_PROBE_TIMEOUT', `${what} probe timed out after ${ms} ms`);
