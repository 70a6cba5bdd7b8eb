import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTable, formatColumns, type Table } from './output.ts';

test('columns are aligned and the last one is not padded', () => {
  assert.equal(formatColumns(['NAME', 'AGE'], [['a', '1s'], ['longer', '2m']]), 'NAME     AGE\na        1s\nlonger   2m');
});

const table: Table = {
  kind: 'Table',
  columnDefinitions: [{ name: 'Name' }, { name: 'Status' }, { name: 'IP', priority: 1 }],
  rows: [{ cells: ['web-1', 'Running', '10.244.1.5'], object: { metadata: { namespace: 'demo' } } }],
};

test('priority columns only with -o wide; -A adds NAMESPACE', () => {
  assert.equal(formatTable(table), 'NAME    STATUS\nweb-1   Running');
  assert.equal(formatTable(table, { wide: true }), 'NAME    STATUS    IP\nweb-1   Running   10.244.1.5');
  assert.equal(formatTable(table, { withNamespace: true }), 'NAMESPACE   NAME    STATUS\ndemo        web-1   Running');
});
