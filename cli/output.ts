// Printing objects the way kubectl users expect: server-side Tables as aligned columns, YAML, JSON. Pure.
import { stringify } from 'yaml';

export interface TableColumn { name: string; type?: string; priority?: number }
export interface Table {
  kind: 'Table';
  columnDefinitions: TableColumn[];
  rows: Array<{ cells: unknown[]; object?: { metadata?: { namespace?: string } } }>;
}

/** Align rows into columns separated by three spaces, like kubectl. */
export function formatColumns(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('   ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function formatTable(t: Table, opts: { wide?: boolean; withNamespace?: boolean } = {}): string {
  const keep = t.columnDefinitions.map((c, i) => ({ c, i })).filter(({ c }) => opts.wide || !c.priority);
  const header = keep.map(({ c }) => c.name.toUpperCase());
  const rows = t.rows.map((r) => keep.map(({ i }) => cell(r.cells[i])));
  if (opts.withNamespace) {
    header.unshift('NAMESPACE');
    t.rows.forEach((r, j) => rows[j]!.unshift(r.object?.metadata?.namespace ?? ''));
  }
  return formatColumns(header, rows);
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '<none>';
  if (Array.isArray(v)) return v.join(',');
  return String(v);
}

export function toYaml(obj: unknown): string {
  return stringify(obj, { lineWidth: 0 });
}

export function toJson(obj: unknown): string {
  return JSON.stringify(obj, null, 4);
}
