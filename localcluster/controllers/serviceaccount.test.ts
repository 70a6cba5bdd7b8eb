import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planServiceAccounts } from './serviceaccount.ts';

test('planServiceAccounts creates the missing default accounts only', () => {
  const ns = (name: string, phase = 'Active') => ({ metadata: { name }, status: { phase } });
  const sa = (namespace: string, name = 'default') => ({ metadata: { namespace, name } });
  const cases: Array<{ name: string; nss: ReturnType<typeof ns>[]; sas: ReturnType<typeof sa>[]; want: string[] }> = [
    { name: 'all present', nss: [ns('a')], sas: [sa('a')], want: [] },
    { name: 'missing', nss: [ns('a'), ns('b')], sas: [sa('a'), sa('b', 'other')], want: ['b'] },
    { name: 'terminating namespace', nss: [ns('a', 'Terminating')], sas: [], want: [] },
  ];
  for (const c of cases) {
    const got = planServiceAccounts(c.nss, c.sas);
    assert.deepEqual(got.map((s) => s.metadata?.namespace), c.want, c.name);
    for (const s of got) assert.equal(s.metadata?.name, 'default');
  }
});
