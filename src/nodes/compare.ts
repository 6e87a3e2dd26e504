/**
 * Compare: gathers the metrics of several branches into one table and one set of curves (rows in input order,
 * labelled by each branch's label; inputs that share a label and agree on every value they share are one branch
 * measured by several evaluations, one row), for the results view and reports.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Curve, MetricScalar, MetricsFile } from '../shared';
import { defineNode } from './definition';
import { NodeInputError } from './errors';
import { listInput } from './inputs';

type Row = NonNullable<MetricsFile['table']>['rows'][number] & { base: string };

/** Two sets of scalars that give no key two different values. */
function agrees(a: Record<string, MetricScalar>, b: Record<string, MetricScalar>): boolean {
  return Object.keys(b).every((k) => !(k in a) || a[k] === b[k]);
}

export const compareParams = z.strictObject({
  title: z.string().default('Comparison').describe('Title of the table'),
  columns: z.array(z.string().min(1)).optional().describe('Scalars to show, in order (default: every scalar of every branch)'),
});

export const compareNode = defineNode({
  type: 'Compare',
  version: 1,
  title: 'Compare',
  category: 'evaluate',
  doc: 'Collects the metrics of several branches into one table and overlaid curves.',
  inputs: [{ name: 'metrics', type: 'metrics', title: 'Metrics', multiple: true }],
  outputs: [{ name: 'metrics', type: 'metrics', title: 'Comparison' }],
  params: compareParams,
  usesNodeIds: true,
  staticOutputs: () => ({ metrics: { type: 'metrics' } }),
  async run(ctx, inputs, p) {
    const values = listInput(inputs, 'metrics', 'metrics');
    if (values.length === 0) throw new NodeInputError('Compare needs at least one metrics input');
    const sources = ctx.sources.metrics ?? [];
    const used = new Map<string, number>();
    const rows: Row[] = [];
    const columns: string[] = [];
    for (const [i, v] of values.entries()) {
      const file = ctx.resolve(v.location);
      let data: MetricsFile;
      try {
        data = JSON.parse(await fsp.readFile(file, 'utf8')) as MetricsFile;
      } catch (e) {
        throw new NodeInputError(`cannot read the metrics of input ${i + 1} (${file}): ${(e as Error).message}`);
      }
      // Label: the value's own label, else the upstream node's label.
      const base = v.label || data.label || sources[i]?.label || `branch ${i + 1}`;
      const values: Record<string, MetricScalar> = { ...v.summary, ...data.scalars };
      for (const k of Object.keys(values)) if (!columns.includes(k)) columns.push(k);
      const curves = data.curves as Record<string, Curve> | undefined;
      // Several evaluations of one branch (one label: its domain perplexity, its task exact match from a second
      // training leg) fill one row; a label whose values disagree is another branch, named apart.
      const same = rows.find((r) => r.base === base && agrees(r.values, values));
      if (same) {
        same.values = { ...values, ...same.values };
        if (curves) same.curves = { ...curves, ...same.curves };
        continue;
      }
      const n = used.get(base) ?? 0;
      used.set(base, n + 1);
      const label = n > 0 ? `${base} (${sources[i]?.node ?? n + 1})` : base;
      rows.push({ base, label, values, ...(curves ? { curves } : {}) });
    }
    const shown = p.columns ?? columns;
    const table = { columns: shown, rows: rows.map(({ base: _b, ...r }) => ({ ...r, values: Object.fromEntries(shown.map((c) => [c, r.values[c] ?? null])) })) };
    const out: MetricsFile = { label: p.title, scalars: { branches: rows.length }, table };
    await fsp.writeFile(path.join(ctx.outDir, 'comparison.json'), JSON.stringify(out, null, 2) + '\n');
    ctx.log(`${p.title}: ${rows.length} branches, ${shown.length} columns`);
    return {
      outputs: { metrics: { type: 'metrics', location: ctx.output('comparison.json'), label: p.title, summary: { branches: rows.length } } },
      metrics: { branches: rows.length },
    };
  },
});
