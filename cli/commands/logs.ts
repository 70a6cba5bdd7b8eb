// `meshctl logs [-n NS] POD [-c CONTAINER] [-f] [--tail N]` through the API's pods/log subresource.
import type { KubeConfig } from '@kubernetes/client-node';
import { openStream, statusError } from '../kube/client.ts';

export async function logs(kc: KubeConfig, ns: string, pod: string, opts: { container?: string; follow: boolean; tail?: number }, out: NodeJS.WritableStream): Promise<void> {
  const q = new URLSearchParams();
  if (opts.container) q.set('container', opts.container);
  if (opts.follow) q.set('follow', 'true');
  if (opts.tail !== undefined) q.set('tailLines', String(opts.tail));
  const res = await openStream(kc, 'GET', `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(pod)}/log?${q}`, { accept: '*/*' });
  if ((res.statusCode ?? 0) >= 300) {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    throw statusError(res.statusCode ?? 0, Buffer.concat(chunks).toString());
  }
  for await (const c of res) {
    if (!out.write(c as Buffer)) await new Promise((r) => out.once('drain', r));
  }
}
