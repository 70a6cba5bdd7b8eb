// Container environment, Kubernetes order: kubelet-provided variables, then the image's ENV, then
// envFrom sources, then env entries (later wins; env values may reference earlier ones with $(X)).
// ConfigMap/Secret reads go through the injected `lookup`, so this stays testable without a server.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { expandVars } from './command.ts';
import { KubeletError } from './errors.ts';

export interface EnvLookup {
  /** Data of a ConfigMap or Secret (Secret values already base64-decoded); undefined when absent. */
  data(kind: 'ConfigMap' | 'Secret', namespace: string, name: string): Promise<Record<string, string> | undefined>;
}

export interface EnvContext {
  pod: V1Pod;
  podIP: string;
  hostIP: string;
  imageEnv: Record<string, string>;
  basePath?: string;
}

/** metadata.labels['k'] / metadata.annotations['k'] / plain paths, as fieldRef allows. */
export function fieldRefValue(pod: V1Pod, fieldPath: string, podIP: string, hostIP: string): string | undefined {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (m) return (m[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations)?.[m[2] as string];
  switch (fieldPath) {
    case 'metadata.name': return pod.metadata?.name;
    case 'metadata.namespace': return pod.metadata?.namespace;
    case 'metadata.uid': return pod.metadata?.uid;
    case 'spec.nodeName': return pod.spec?.nodeName;
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName ?? 'default';
    case 'status.podIP': return podIP;
    case 'status.podIPs': return podIP;
    case 'status.hostIP': return hostIP;
    case 'status.hostIPs': return hostIP;
    default: return undefined;
  }
}

const configError = (msg: string): KubeletError => new KubeletError('KUBELET_CREATE_CONTAINER_CONFIG', msg);

export async function resolveEnv(container: Pick<V1Container, 'env' | 'envFrom' | 'name'>, ctx: EnvContext, lookup: EnvLookup): Promise<Record<string, string>> {
  const ns = ctx.pod.metadata?.namespace ?? 'default';
  const env: Record<string, string> = {
    PATH: ctx.basePath ?? process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOSTNAME: ctx.pod.metadata?.name ?? '',
    KUBERNETES_SERVICE_HOST: '10.96.0.1',
    KUBERNETES_SERVICE_PORT: '443',
    KUBERNETES_SERVICE_PORT_HTTPS: '443',
    ...ctx.imageEnv,
  };
  for (const src of container.envFrom ?? []) {
    const ref = src.configMapRef ?? src.secretRef;
    if (!ref?.name) continue;
    const data = await lookup.data(src.configMapRef ? 'ConfigMap' : 'Secret', ns, ref.name);
    if (!data) {
      if (ref.optional) continue;
      throw configError(`${src.configMapRef ? 'configmap' : 'secret'} ${ns}/${ref.name} not found (envFrom of container ${container.name})`);
    }
    for (const [k, v] of Object.entries(data)) env[(src.prefix ?? '') + k] = v;
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom === undefined) { env[e.name] = expandVars(e.value ?? '', env); continue; }
    const vf = e.valueFrom;
    if (vf.fieldRef) {
      const v = fieldRefValue(ctx.pod, vf.fieldRef.fieldPath, ctx.podIP, ctx.hostIP);
      if (v === undefined) throw configError(`unsupported fieldRef ${vf.fieldRef.fieldPath} for env ${e.name}`);
      env[e.name] = v;
      continue;
    }
    const keyRef = vf.configMapKeyRef ?? vf.secretKeyRef;
    if (keyRef) {
      const kind = vf.configMapKeyRef ? 'ConfigMap' : 'Secret';
      const data = await lookup.data(kind, ns, keyRef.name ?? '');
      const v = data?.[keyRef.key];
      if (v === undefined) {
        if (keyRef.optional) continue;
        throw configError(`${kind.toLowerCase()} ${ns}/${keyRef.name} has no key ${keyRef.key} (env ${e.name})`);
      }
      env[e.name] = v;
      continue;
    }
    if (vf.resourceFieldRef) { env[e.name] = '0'; continue; } // no resource accounting locally
  }
  return env;
}
