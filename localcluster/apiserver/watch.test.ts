// The store's history and the watch transition rules (pure parts of watching).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Store, type StoreEvent } from './store.ts';
import { transition } from './watch.ts';

const o = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, namespace: 'ns', labels } });
const web = (x: Record<string, any>) => x.metadata.labels?.app === 'web';

describe('watch transitions under a selector', () => {
  const cases: [string, StoreEvent['type'], Record<string, any>, Record<string, any> | undefined, string | undefined][] = [
    ['added matching', 'ADDED', o('a', { app: 'web' }), undefined, 'ADDED'],
    ['added not matching', 'ADDED', o('a'), undefined, undefined],
    ['modified still matching', 'MODIFIED', o('a', { app: 'web' }), o('a', { app: 'web' }), 'MODIFIED'],
    ['modified into the selector', 'MODIFIED', o('a', { app: 'web' }), o('a'), 'ADDED'],
    ['modified out of the selector', 'MODIFIED', o('a'), o('a', { app: 'web' }), 'DELETED'],
    ['modified never matching', 'MODIFIED', o('a'), o('a'), undefined],
    ['deleted matching', 'DELETED', o('a', { app: 'web' }), o('a', { app: 'web' }), 'DELETED'],
    ['deleted not matching', 'DELETED', o('a'), o('a'), undefined],
  ];
  for (const [name, type, obj, old, want] of cases) {
    it(name, () => assert.equal(transition({ rv: 1, type, resource: 'r', obj, old }, web), want));
  }
});

describe('store history', () => {
  it('replays events after a resourceVersion, per resource', () => {
    const s = new Store(100);
    s.put('/pods', o('a'));
    s.put('/configmaps', o('c'));
    const rv = s.resourceVersion;
    s.put('/pods', o('b'));
    s.remove('/pods', 'ns', 'a');
    const evs = s.eventsSince('/pods', rv)!;
    assert.deepEqual(evs.map((e) => `${e.type} ${e.obj.metadata.name}`), ['ADDED b', 'DELETED a']);
    assert.ok(Number(evs[1]!.obj.metadata.resourceVersion) > Number(evs[0]!.obj.metadata.resourceVersion));
  });
  it('reports compaction so old watches can be told 410', () => {
    const s = new Store(4);
    for (let i = 0; i < 10; i++) s.put('/pods', o(`p${i}`));
    assert.equal(s.eventsSince('/pods', 1), undefined);
    assert.ok(s.eventsSince('/pods', s.resourceVersion - 1)!.length === 1);
  });
  it('indexes dependents by owner uid', () => {
    const s = new Store();
    s.put('/pods', { metadata: { name: 'child', namespace: 'ns', ownerReferences: [{ uid: 'u1' }] } });
    assert.deepEqual(s.dependentsOf('u1'), [['/pods', 'ns', 'child']]);
    s.remove('/pods', 'ns', 'child');
    assert.deepEqual(s.dependentsOf('u1'), []);
  });
  it('a restart (load) moves the counter past every old resourceVersion', () => {
    const s = new Store();
    s.put('/pods', o('a'));
    const snap = s.snapshot();
    const t = new Store();
    t.load(snap);
    assert.ok(t.resourceVersion > snap.resourceVersion);
    assert.equal(t.eventsSince('/pods', snap.resourceVersion), undefined);
    assert.equal(t.get('/pods', 'ns', 'a')!.metadata.name, 'a');
  });
});
