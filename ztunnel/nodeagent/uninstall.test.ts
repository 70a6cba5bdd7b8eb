import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uninstallReason, type UninstallEvidence } from './uninstall.ts';

test('uninstallReason: only positive evidence removes the rules; upgrades and unknowns keep them', () => {
  const names = { namespace: 'istio-system', daemonSet: 'ztunnel' };
  const rows: Array<[UninstallEvidence, RegExp | undefined]> = [
    [{ namespaceTerminating: false, daemonSet: 'present' }, undefined], // rollout or restart: the successor adopts the pods
    [{ namespaceTerminating: undefined, daemonSet: 'unknown' }, undefined], // API unreachable or forbidden: keep
    [{ namespaceTerminating: false, daemonSet: 'unknown' }, undefined],
    [{ namespaceTerminating: true, daemonSet: 'unknown' }, /namespace istio-system is being deleted/], // kubectl delete -k deploy/
    [{ namespaceTerminating: true, daemonSet: 'present' }, /namespace istio-system/],
    [{ namespaceTerminating: false, daemonSet: 'gone' }, /daemonset istio-system\/ztunnel no longer exists/],
    [{ namespaceTerminating: undefined, daemonSet: 'deleting' }, /daemonset istio-system\/ztunnel is being deleted/],
  ];
  for (const [e, want] of rows) {
    const got = uninstallReason(e, names);
    if (want) assert.match(got ?? '', want, JSON.stringify(e));
    else assert.equal(got, undefined, JSON.stringify(e));
  }
});
