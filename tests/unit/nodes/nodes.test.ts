import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NODE_DEFINITIONS, nodeSpec, registry, type NodeContext } from '../../../src/nodes/index';
import { isPortType, type MetricsValue, type NodeMetrics } from '../../../src/shared';

/** A context for calling a node's run directly (no engine, no worker). */
function fakeCtx(outDir: string, extra: Partial<NodeContext> = {}): NodeContext & { logs: string[]; ticks: [number, number, NodeMetrics?][] } {
  const logs: string[] = [];
  const ticks: [number, number, NodeMetrics?][] = [];
  return {
    nodeId: 'n',
    signature: 'f'.repeat(64),
    outDir,
    signal: new AbortController().signal,
    progress: async (s, t, m) => void ticks.push([s, t, m]),
    log: (m) => void logs.push(m),
    output: (p = '') => ({ kind: 'store', artifact: 'f'.repeat(64), path: p }),
    resolve: (loc) => (loc.kind === 'external' ? loc.path : path.join(outDir, '..', loc.artifact, loc.path)),
    baseDir: outDir,
    cacheDir: outDir,
    fileHashes: {},
    sources: {},
    logs,
    ticks,
    ...extra,
  };
}

describe('node definitions', () => {
  test.each(NODE_DEFINITIONS.map((d) => [d.type, d] as const))('%s declares a complete spec', (_t, def) => {
    const spec = nodeSpec(def);
    expect(spec.title.length).toBeGreaterThan(2);
    expect(spec.doc.length).toBeGreaterThan(10);
    expect(spec.doc).not.toMatch(/\n/);
    expect(['model', 'data', 'loram', 'evaluate', 'output']).toContain(spec.category);
    for (const p of [...spec.inputs, ...spec.outputs]) expect(isPortType(p.type)).toBe(true);
    expect(new Set(spec.inputs.map((p) => p.name)).size).toBe(spec.inputs.length);
    expect(spec.params.type).toBe('object');
    // Every parameter is documented and the defaults form a valid parameter object.
    for (const [k, v] of Object.entries((spec.params.properties ?? {}) as Record<string, { description?: string }>)) expect([k, v.description?.length ?? 0]).not.toEqual([k, 0]);
    expect(def.params.safeParse(spec.defaults).success).toBe(true);
    expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
  });

  test('ranges and enums reach the JSON Schema', () => {
    const prune = nodeSpec(registry.get('Prune')!).params.properties as Record<string, Record<string, unknown>>;
    expect(prune.strategy!.enum).toEqual(['rand', 'stru', 'semi', 'unst']);
    expect(prune.ratio).toMatchObject({ minimum: 0, maximum: 0.99, default: 0.5 });
    const lora = nodeSpec(registry.get('LoRA-Train')!).params.properties as Record<string, Record<string, unknown>>;
    expect((lora.targets!.items as { enum: string[] }).enum).toContain('lm_head');
    const load = nodeSpec(registry.get('Load')!).params.properties as Record<string, Record<string, unknown>>;
    expect(load.source!.examples).toEqual(['builtin:large', 'builtin:small']);
  });
});

describe('Dataset node', () => {
  test('splits a packaged corpus by document into JSONL', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'loram-ds-'));
    const ctx = fakeCtx(out);
    const def = registry.get('Dataset')!;
    const r = await def.run(ctx, {}, def.params.parse({ source: 'moby-dick', maxDocuments: 20, seed: 3 }) as never);
    const v = r.outputs.dataset as Extract<typeof r.outputs.dataset, { type: 'dataset' }>;
    expect(v.splits.train.documents + v.splits.val.documents + v.splits.test.documents).toBe(20);
    const lines = readFileSync(path.join(out, 'train.jsonl'), 'utf8').trim().split('\n');
    expect(lines.length).toBe(v.splits.train.documents);
    expect(JSON.parse(lines[0]!)).toEqual({ id: expect.stringMatching(/^moby-dick\//), text: expect.any(String) });
  });

  test('reads a local .jsonl and reports a bad line with its number', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'loram-ds-'));
    const rows = Array.from({ length: 10 }, (_, i) => JSON.stringify({ id: i, body: `document number ${i}` }));
    writeFileSync(path.join(out, 'd.jsonl'), rows.join('\n'));
    const def = registry.get('Dataset')!;
    const ok = await def.run(fakeCtx(out), {}, def.params.parse({ source: 'file', path: 'd.jsonl', textField: 'body' }) as never);
    expect(ok.metrics!.documents).toBe(10);
    writeFileSync(path.join(out, 'bad.jsonl'), rows.slice(0, 3).join('\n') + '\n{oops\n');
    await expect(def.run(fakeCtx(out), {}, def.params.parse({ source: 'file', path: 'bad.jsonl', textField: 'body' }) as never)).rejects.toThrow(/bad\.jsonl:4: not valid JSON/);
  });
});

describe('Compare node', () => {
  test('gathers branches into one table, labelled and de-duplicated', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'loram-cmp-'));
    const metrics = (dir: string, label: string, ppl: number): MetricsValue => {
      writeFileSync(path.join(root, dir), JSON.stringify({ label, scalars: { perplexity: ppl }, curves: { loss: { x: [1, 2], y: [3, 2] } } }));
      return { type: 'metrics', location: { kind: 'external', path: path.join(root, dir) }, label, summary: { perplexity: ppl } };
    };
    const out = path.join(root, 'out');
    (await import('node:fs')).mkdirSync(out);
    const ctx = fakeCtx(out, {
      sources: { metrics: [{ node: 'e1', port: 'metrics', label: 'E1' }, { node: 'e2', port: 'metrics', label: 'E2' }, { node: 'e3', port: 'metrics', label: 'e3' }] },
    });
    const def = registry.get('Compare')!;
    const r = await def.run(ctx, { metrics: [metrics('a.json', 'Stru', 10), metrics('b.json', '', 12), metrics('c.json', 'Stru', 9)] }, def.params.parse({}) as never);
    const table = JSON.parse(readFileSync(path.join(out, 'comparison.json'), 'utf8')).table;
    expect(table.columns).toEqual(['perplexity']);
    expect(table.rows.map((x: { label: string }) => x.label)).toEqual(['Stru', 'E2', 'Stru (e3)']);
    expect(table.rows[0].curves.loss.y).toEqual([3, 2]);
    expect(r.metrics).toEqual({ branches: 3 });
  });

  test('one branch measured by two evaluations (same label, no value in conflict) fills one row', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'loram-cmp-'));
    const metrics = (dir: string, label: string, scalars: Record<string, number | string>): MetricsValue => {
      writeFileSync(path.join(root, dir), JSON.stringify({ label, scalars }));
      return { type: 'metrics', location: { kind: 'external', path: path.join(root, dir) }, label, summary: scalars };
    };
    const out = path.join(root, 'out');
    (await import('node:fs')).mkdirSync(out);
    const sources = ['e1', 'e2', 't1', 't2', 't3'].map((node) => ({ node, port: 'metrics', label: node }));
    const def = registry.get('Compare')!;
    const inputs = [
      metrics('e1.json', 'Stru', { perplexity: 50, runtime: 'onnxruntime' }),
      metrics('e2.json', 'Rand', { perplexity: 52, runtime: 'onnxruntime' }),
      metrics('t1.json', 'Rand', { exactMatch: 0.5, runtime: 'onnxruntime' }),
      metrics('t2.json', 'Stru', { exactMatch: 0.6, runtime: 'onnxruntime' }),
      // Same label, but a shared value differs: another branch.
      metrics('t3.json', 'Stru', { exactMatch: 0.1, runtime: 'onnxruntime' }),
    ];
    const r = await def.run(fakeCtx(out, { sources: { metrics: sources } }), { metrics: inputs }, def.params.parse({}) as never);
    const table = JSON.parse(readFileSync(path.join(out, 'comparison.json'), 'utf8')).table;
    expect(table.columns).toEqual(['perplexity', 'runtime', 'exactMatch']);
    expect(table.rows.map((x: { label: string; values: object }) => [x.label, x.values])).toEqual([
      ['Stru', { perplexity: 50, runtime: 'onnxruntime', exactMatch: 0.6 }],
      ['Rand', { perplexity: 52, runtime: 'onnxruntime', exactMatch: 0.5 }],
      ['Stru (t3)', { perplexity: null, runtime: 'onnxruntime', exactMatch: 0.1 }],
    ]);
    expect(r.metrics).toEqual({ branches: 3 });
  });
});
