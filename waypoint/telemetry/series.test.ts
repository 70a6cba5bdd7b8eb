import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { LabeledStats } from './series.ts';

const stats = (registry: Registry) => new LabeledStats(registry, {
  labelNames: ['a', 'b'],
  counter: { name: 'things_total', help: 'Things' },
  histograms: [{ name: 'thing_size', help: 'Size', buckets: [1, 10] }],
});

test('a label set is one series, whatever the order its labels come in; missing labels are empty', () => {
  const s = stats(new Registry());
  assert.equal(s.series({ a: 'x', b: 'y' }), s.series({ b: 'y', a: 'x' }));
  assert.notEqual(s.series({ a: 'x', b: 'y' }), s.series({ a: 'x', b: 'z' }));
  assert.deepEqual(s.series({ a: 'x' }).labels, { a: 'x', b: '' });
});

test('bucket edges are inclusive upper bounds, as in Prometheus; the exposition is cumulative with +Inf, sum, count', async () => {
  const registry = new Registry();
  const s = stats(registry).series({ a: 'x', b: 'y' });
  for (const v of [0.5, 1, 1.5, 10, 11]) s.observe(0, v);
  s.inc();
  s.inc();
  const text = await registry.metrics();
  assert.match(text, /# TYPE things_total counter\nthings_total\{a="x",b="y"\} 2/);
  assert.match(text, /# TYPE thing_size histogram/);
  assert.match(text, /thing_size_bucket\{le="1",a="x",b="y"\} 2\n/);
  assert.match(text, /thing_size_bucket\{le="10",a="x",b="y"\} 4\n/);
  assert.match(text, /thing_size_bucket\{le="\+Inf",a="x",b="y"\} 5\n/);
  assert.match(text, /thing_size_sum\{a="x",b="y"\} 24\n/);
  assert.match(text, /thing_size_count\{a="x",b="y"\} 5\n/);
});

test('label values are escaped by the exposition', async () => {
  const registry = new Registry();
  stats(registry).series({ a: 'say "hi"\n', b: 'back\\slash' }).inc();
  assert.match(await registry.metrics(), /things_total\{a="say \\"hi\\"\\n",b="back\\\\slash"\} 1/);
});
