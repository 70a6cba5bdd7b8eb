// The VolumeApi over client-node: ConfigMap/Secret reads, TokenRequest bound to the pod, and the API
// server's CA as the kubeconfig carries it. `cachedData` shares ConfigMap/Secret reads between a node's pods, so
// polling costs one request per object per period however many pods mount it (every pod mounts kube-root-ca.crt).
import { existsSync, readFileSync } from 'node:fs';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { VolumeApi } from './volumes.ts';
import { KubeletError } from './errors.ts';

const notFound = (err: unknown): boolean => (err as { code?: number }).code === 404;

export function volumeApi(kc: KubeConfig): VolumeApi {
  const core = kc.makeApiClient(CoreV1Api);
  return {
    async data(kind, namespace, name) {
      try {
        if (kind === 'ConfigMap') {
          const cm = await core.readNamespacedConfigMap({ name, namespace });
          const out: Record<string, Buffer> = {};
          for (const [k, v] of Object.entries(cm.data ?? {})) out[k] = Buffer.from(v, 'utf8');
          for (const [k, v] of Object.entries(cm.binaryData ?? {})) out[k] = Buffer.from(v, 'base64');
          return out;
        }
        const s = await core.readNamespacedSecret({ name, namespace });
        const out: Record<string, Buffer> = {};
        for (const [k, v] of Object.entries(s.stringData ?? {})) out[k] = Buffer.from(v, 'utf8');
        for (const [k, v] of Object.entries(s.data ?? {})) out[k] = Buffer.from(v, 'base64');
        return out;
      } catch (err) {
        if (notFound(err)) return undefined;
        throw err;
      }
    },
    async token(namespace, serviceAccount, req) {
      const r = await core.createNamespacedServiceAccountToken({
        name: serviceAccount, namespace,
        body: {
          spec: {
            audiences: req.audience ? [req.audience] : [],
            expirationSeconds: req.expirationSeconds,
            boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: req.pod.name, uid: req.pod.uid },
          },
        },
      });
      const token = r.status?.token;
      if (!token) throw new KubeletError('KUBELET_VOLUME_SETUP', `token request for ${namespace}/${serviceAccount} returned no token`);
      const exp = r.status?.expirationTimestamp ? new Date(r.status.expirationTimestamp).getTime() : Date.now() + req.expirationSeconds * 1000;
      return { token, expiresAtMs: exp };
    },
    clusterCA() {
      const c = kc.getCurrentCluster();
      if (c?.caData) return Buffer.from(c.caData, 'base64').toString('utf8');
      if (c?.caFile && existsSync(c.caFile)) return readFileSync(c.caFile, 'utf8');
      return undefined;
    },
  };
}

/** mount(8), looked up once (the shim runs with the container's PATH, which may not hold it). */
export function findMount(): string {
  return ['/usr/bin/mount', '/bin/mount', '/usr/sbin/mount', '/sbin/mount'].find((p) => existsSync(p)) ?? 'mount';
}

/** Wrap `api` so reads of one object within `ttlMs` (and concurrent ones) share a single request. */
export function cachedData(api: VolumeApi, ttlMs: number): VolumeApi {
  const cache = new Map<string, { at: number; value: Promise<Record<string, Buffer> | undefined> }>();
  return {
    ...api,
    token: (...a) => api.token(...a),
    clusterCA: () => api.clusterCA(),
    data(kind, namespace, name) {
      const key = `${kind}/${namespace}/${name}`;
      const now = Date.now();
      const hit = cache.get(key);
      if (hit && now - hit.at < ttlMs) return hit.value;
      for (const [k, e] of cache) if (now - e.at >= ttlMs) cache.delete(k); // keep the map to live entries
      const value = api.data(kind, namespace, name);
      cache.set(key, { at: now, value });
      value.catch(() => cache.delete(key)); // errors are not cached
      return value;
    },
  };
}
