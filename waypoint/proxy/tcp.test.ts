// TCP through the waypoint on loopback: Istio's TCP metrics (reporter="waypoint") for a spliced connection and for
// one refused for want of an upstream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Registry } from 'prom-client';
import { startBed, SVC, VIP } from './testbed.ts';

const tcpRoute = (subset: string) => [{ id: 'tcp', source: { kind: 'TCPRoute' as const, namespace: 'demo', name: 't' }, backends: [{ service: SVC, subset, weight: 1 }] }];

/** Every sample of `name` as { labels, value }. */
async function samples(registry: Registry, name: string): Promise<Array<{ labels: Record<string, string | number>; value: number }>> {
  const m = await registry.getSingleMetric(name)?.get();
  return (m?.values ?? []).map((v) => ({ labels: v.labels as Record<string, string | number>, value: v.value }));
}

/** The client's bytes through a TCP tunnel and everything that came back. */
async function exchange(tunnel: Awaited<ReturnType<Awaited<ReturnType<typeof startBed>>['tunnel']>>, out: string): Promise<string> {
  tunnel.on('error', () => {});
  tunnel.end(out);
  let text = '';
  for await (const c of tunnel) text += c;
  return text;
}

test('waypoint TCP: istio_tcp_* metrics and flags per connection', { timeout: 30_000 }, async (t) => {
  const bed = await startBed([{ version: 'v1' }, { version: 'v2' }], { hbone: true });
  t.after(() => bed.close());
  const [v1, v2] = bed.apps as [typeof bed.apps[0], typeof bed.apps[0]];
  const destinations = [{
    service: SVC, source: { kind: 'DestinationRule' as const, namespace: 'demo', name: 'reviews' }, policy: {},
    subsets: [{ name: 'v1', labels: { version: 'v1' }, workloads: [v1.uid] }, { name: 'v2', labels: { version: 'v2' }, workloads: [v2.uid] }],
  }];

  await t.test('a spliced connection: opened, closed, bytes each way with Istio labels', async () => {
    bed.configure({ services: [{ service: SVC, ports: [{ port: 80, protocol: 'TCP' }], http: [], tcp: tcpRoute('v1') }], destinations });
    const request = 'GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n';
    const reply = await exchange(await bed.tunnel(`${VIP}:80`), request);
    assert.match(reply, /^HTTP\/1\.1 200/);
    await new Promise((r) => setTimeout(r, 50)); // the waypoint counts the close once both directions ended
    const [opened] = await samples(bed.registry, 'istio_tcp_connections_opened_total');
    const [closed] = await samples(bed.registry, 'istio_tcp_connections_closed_total');
    const [received] = await samples(bed.registry, 'istio_tcp_received_bytes_total');
    const [sent] = await samples(bed.registry, 'istio_tcp_sent_bytes_total');
    assert.equal(opened?.value, 1);
    assert.equal(closed?.value, 1);
    assert.equal(received?.value, Buffer.byteLength(request), 'received: bytes from the client');
    assert.equal(sent?.value, Buffer.byteLength(reply), 'sent: bytes back to the client');
    assert.equal(closed!.labels.reporter, 'waypoint');
    assert.equal(closed!.labels.request_protocol, 'tcp');
    assert.equal(closed!.labels.response_flags, '-');
    assert.equal(closed!.labels.destination_workload, 'reviews-v1');
    assert.equal(closed!.labels.destination_service, 'reviews.demo.svc.cluster.local');
    assert.equal(closed!.labels.source_principal, 'spiffe://cluster.local/ns/demo/sa/client');
    assert.equal(closed!.labels.connection_security_policy, 'mutual_tls');
    assert.equal(closed!.labels.response_code, undefined, 'TCP metrics carry no response code');
    assert.equal(opened!.labels.destination_workload, 'unknown', 'at open the endpoint is not chosen yet');
  });

  await t.test('no endpoint for the route: the tunnel is closed and counted with flag NC', async () => {
    bed.configure({ services: [{ service: SVC, ports: [{ port: 80, protocol: 'TCP' }], http: [], tcp: tcpRoute('v3') }], destinations });
    const reply = await exchange(await bed.tunnel(`${VIP}:80`), 'hello');
    assert.equal(reply, '');
    await new Promise((r) => setTimeout(r, 50));
    const closed = await samples(bed.registry, 'istio_tcp_connections_closed_total');
    const nc = closed.find((s) => s.labels.response_flags === 'NC');
    assert.equal(nc?.value, 1, JSON.stringify(closed));
  });
});
