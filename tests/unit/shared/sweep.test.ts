import { describeSweep, expandSweeps, foldBranchErrors, parseRecipe, type PortLookup, type PortSpec, type Recipe } from '../../../src/shared';

const port = (name: string, type: PortSpec['type'], extra: Partial<PortSpec> = {}): PortSpec => ({ name, type, title: name, ...extra });
const PORTS: Record<string, { inputs: PortSpec[]; outputs: PortSpec[] }> = {
  Load: { inputs: [], outputs: [port('model', 'model')] },
  Prune: { inputs: [port('model', 'model'), port('calibration', 'dataset', { optional: true })], outputs: [port('model', 'model')] },
  Align: { inputs: [port('model', 'model')], outputs: [port('model', 'model')] },
  Train: { inputs: [port('model', 'model')], outputs: [port('adapter', 'adapter')] },
  Eval: { inputs: [port('model', 'model'), port('adapter', 'adapter', { optional: true })], outputs: [port('metrics', 'metrics')] },
  Compare: { inputs: [port('metrics', 'metrics', { multiple: true })], outputs: [port('metrics', 'metrics')] },
};
const ports: PortLookup = (t) => PORTS[t];

type N = { id: string; type: string; params?: Record<string, unknown>; sweep?: unknown; label?: string };
function recipe(nodes: N[], edges: [string, string, string, string][]): Recipe {
  const r = parseRecipe({
    format: 'loram-recipe',
    version: 2,
    nodes: nodes.map((n) => ({ version: 1, params: {}, ...n })),
    edges: edges.map(([a, ap, b, bp], i) => ({ id: `e${i}`, from: { node: a, port: ap }, to: { node: b, port: bp } })),
  });
  expect(r.errors).toEqual([]);
  return r.recipe!;
}
const chain = (pruneSweep?: unknown, alignSweep?: unknown) =>
  recipe(
    [
      { id: 'load', type: 'Load' },
      { id: 'prune', type: 'Prune', params: { strategy: 'stru', ratio: 0.5 }, ...(pruneSweep ? { sweep: pruneSweep } : {}) },
      { id: 'align', type: 'Align', params: { steps: 10 }, ...(alignSweep ? { sweep: alignSweep } : {}) },
      { id: 'train', type: 'Train' },
      { id: 'eval', type: 'Eval' },
      { id: 'cmp', type: 'Compare' },
    ],
    [
      ['load', 'model', 'prune', 'model'],
      ['prune', 'model', 'align', 'model'],
      ['align', 'model', 'train', 'model'],
      ['load', 'model', 'eval', 'model'],
      ['train', 'adapter', 'eval', 'adapter'],
      ['eval', 'metrics', 'cmp', 'metrics'],
    ],
  );

describe('expandSweeps', () => {
  test('a recipe without sweeps is returned as it is', () => {
    const r = chain();
    const x = expandSweeps(r, ports);
    expect(x.recipe).toBe(r);
    expect(x.branches).toBe(1);
    expect(x.axes).toEqual([]);
  });

  test('two evaluations of one variant (same point, same label) count as one branch; a constant label does not merge variants', () => {
    const twoLegs = (label: unknown) =>
      recipe(
        [
          { id: 'load', type: 'Load' },
          { id: 'prune', type: 'Prune', sweep: { axis: 'v', mode: 'zip', values: { strategy: ['rand', 'stru', 'semi'] } } },
          { id: 'eval', type: 'Eval', params: { label: 'x' }, sweep: { axis: 'v', mode: 'zip', values: { label } } },
          { id: 'task', type: 'Eval', params: { label: 'x' }, sweep: { axis: 'v', mode: 'zip', values: { label } } },
          { id: 'cmp', type: 'Compare' },
        ],
        [
          ['load', 'model', 'prune', 'model'],
          ['prune', 'model', 'eval', 'model'],
          ['prune', 'model', 'task', 'model'],
          ['eval', 'metrics', 'cmp', 'metrics'],
          ['task', 'metrics', 'cmp', 'metrics'],
        ],
      );
    expect(expandSweeps(twoLegs(['Rand', 'Stru', 'Semi']), ports).branches).toBe(3);
    expect(expandSweeps(twoLegs(['same', 'same', 'same']), ports).branches).toBe(3);
  });

  test('one axis: the swept node and everything downstream are copied, upstream nodes and the Compare are not', () => {
    const x = expandSweeps(chain({ values: { strategy: ['rand', 'stru', 'semi'] } }), ports);
    expect(x.errors).toEqual([]);
    expect(x.branches).toBe(3);
    const ids = x.recipe.nodes.map((n) => n.id);
    expect(ids).toEqual(['load', 'prune.0', 'prune.1', 'prune.2', 'align.0', 'align.1', 'align.2', 'train.0', 'train.1', 'train.2', 'eval.0', 'eval.1', 'eval.2', 'cmp']);
    expect(x.recipe.nodes.find((n) => n.id === 'prune.2')!.params).toEqual({ strategy: 'semi', ratio: 0.5 });
    expect(x.recipe.nodes.every((n) => n.sweep === undefined)).toBe(true);
    expect(x.recipe.meta!.sweep).toEqual({ source: chain({ values: { strategy: ['rand', 'stru', 'semi'] } }) });
    // Eval copies read the unswept Load and their own branch's adapter; the Compare gathers all three, in order.
    const into = (id: string) => x.recipe.edges.filter((e) => e.to.node === id).map((e) => `${e.from.node}.${e.from.port}>${e.to.port}`);
    expect(into('eval.1')).toEqual(['load.model>model', 'train.1.adapter>adapter']);
    expect(into('cmp')).toEqual(['eval.0.metrics>metrics', 'eval.1.metrics>metrics', 'eval.2.metrics>metrics']);
    expect(x.origin.get('eval.1')).toEqual({ node: 'eval', point: { 'prune.strategy': 1 }, label: 'strategy=stru' });
    expect(x.recipe.nodes.find((n) => n.id === 'eval.1')!.label).toBe('eval · strategy=stru');
    expect(new Set(x.recipe.edges.map((e) => e.id)).size).toBe(x.recipe.edges.length);
  });

  test('axes on two nodes combine as a product; params of one zipped sweep step together', () => {
    const product = expandSweeps(chain({ values: { strategy: ['rand', 'stru'] } }, { values: { steps: [10, 20, 30] } }), ports);
    expect(product.branches).toBe(6);
    expect(product.copies.get('train')).toEqual(['train.0.0', 'train.0.1', 'train.0.2', 'train.1.0', 'train.1.1', 'train.1.2']);
    const zip = expandSweeps(chain({ mode: 'zip', axis: 'strategy', labels: ['Rand', 'Unst'], values: { strategy: ['rand', 'unst'], ratio: [0.5, 0.55] } }), ports);
    expect(zip.branches).toBe(2);
    expect(zip.recipe.nodes.filter((n) => n.type === 'Prune').map((n) => n.params)).toEqual([
      { strategy: 'rand', ratio: 0.5 },
      { strategy: 'unst', ratio: 0.55 },
    ]);
    expect(zip.origin.get('eval.1')!.label).toBe('Unst');
  });

  test('axes of the same name on two nodes are zipped; different lengths are an error on the node', () => {
    const ok = expandSweeps(chain({ mode: 'zip', axis: 'v', values: { strategy: ['rand', 'stru'] } }, { mode: 'zip', axis: 'v', values: { steps: [1, 2] } }), ports);
    expect(ok.errors).toEqual([]);
    expect(ok.branches).toBe(2);
    expect(ok.recipe.nodes.filter((n) => n.type === 'Align').map((n) => n.params.steps)).toEqual([1, 2]);
    const bad = expandSweeps(chain({ mode: 'zip', axis: 'v', values: { strategy: ['rand', 'stru'] } }, { mode: 'zip', axis: 'v', values: { steps: [1, 2, 3] } }), ports);
    expect(bad.errors).toEqual([expect.objectContaining({ code: 'invalid-sweep', node: 'align', field: 'sweep.values.steps' })]);
  });

  test('$enabled false bypasses a copy: its consumer reads its input of the same type; an adapter with no source is dropped', () => {
    const x = expandSweeps(chain(undefined, { values: { $enabled: [true, false] } }), ports);
    expect(x.copies.get('align')).toEqual(['align.0']);
    expect(x.recipe.edges.filter((e) => e.to.node === 'train.1').map((e) => e.from)).toEqual([{ node: 'prune', port: 'model' }]);
    // Bypassing the trainer leaves the evaluation without an adapter (the untuned baseline).
    const r = chain();
    r.nodes.find((n) => n.id === 'train')!.sweep = { mode: 'zip', values: { $enabled: [true, false] } };
    const y = expandSweeps(r, ports);
    expect(y.recipe.edges.filter((e) => e.to.node === 'eval.1').map((e) => e.to.port)).toEqual(['model']);
    expect(y.branches).toBe(2);
  });

  test('$disconnect leaves an input of that copy unconnected', () => {
    const r = chain();
    r.nodes.find((n) => n.id === 'eval')!.sweep = { mode: 'product', values: { $disconnect: [[], ['adapter']] } };
    const x = expandSweeps(r, ports);
    expect(x.recipe.edges.filter((e) => e.to.node === 'eval.0').length).toBe(2);
    expect(x.recipe.edges.filter((e) => e.to.node === 'eval.1').map((e) => e.to.port)).toEqual(['model']);
  });

  test('a copy of a hand-written chain has the same params and inputs as the hand-written one (same signatures)', () => {
    const swept = expandSweeps(chain({ values: { strategy: ['rand', 'stru'] } }), ports).recipe;
    const plain = chain();
    const p = (r: Recipe, id: string) => r.nodes.find((n) => n.id === id)!.params;
    expect(p(swept, 'prune.1')).toEqual(p(plain, 'prune'));
    expect(p(swept, 'align.1')).toEqual(p(plain, 'align'));
  });

  test('errors on copies are folded onto the node the user sees, once', () => {
    const x = expandSweeps(chain({ values: { ratio: [2, 3] } }), ports);
    const folded = foldBranchErrors(
      [
        { code: 'invalid-param', node: 'prune.0', field: 'params.ratio', message: 'too big' },
        { code: 'invalid-param', node: 'prune.1', field: 'params.ratio', message: 'too big' },
        { code: 'missing-input', node: 'load', field: null, message: 'x' },
      ],
      x.origin,
    );
    expect(folded).toEqual([
      { code: 'invalid-param', node: 'prune', field: 'params.ratio', message: 'too big (branch ratio=2)' },
      { code: 'missing-input', node: 'load', field: null, message: 'x' },
    ]);
  });

  test('describeSweep names the axis for the card', () => {
    expect(describeSweep({ mode: 'product', values: { strategy: ['a', 'b', 'c', 'd', 'e'] } })).toBe('strategy × 5');
    expect(describeSweep({ mode: 'product', values: { strategy: ['a', 'b'], ratio: [0.3, 0.5, 0.7] } })).toBe('strategy × 2 · ratio × 3');
    expect(describeSweep({ mode: 'zip', axis: 'variant', values: { strategy: ['a', 'b'], ratio: [1, 2] } })).toBe('variant × 2');
    expect(describeSweep(undefined)).toBeNull();
  });
});

describe('recipe version 2', () => {
  test('a version-1 recipe migrates unchanged; sweeps and groups are read', () => {
    const v1 = parseRecipe({ format: 'loram-recipe', version: 1, nodes: [{ id: 'a', type: 'Load', version: 1 }] });
    expect(v1.errors).toEqual([]);
    expect(v1.fromVersion).toBe(1);
    expect(v1.recipe!.version).toBe(2);
    const v2 = parseRecipe({
      format: 'loram-recipe',
      version: 2,
      groups: [{ id: 'g', title: 'Baselines', color: '#aa3300' }],
      nodes: [{ id: 'a', type: 'Load', version: 1, group: 'g', sweep: { values: { source: ['builtin:large', 'builtin:small'] } } }],
    });
    expect(v2.errors).toEqual([]);
    expect(v2.recipe!.groups).toEqual([{ id: 'g', title: 'Baselines', color: '#aa3300' }]);
    expect(v2.recipe!.nodes[0]!.sweep).toEqual({ mode: 'product', values: { source: ['builtin:large', 'builtin:small'] } });
    const bad = parseRecipe({ format: 'loram-recipe', version: 2, nodes: [{ id: 'a', type: 'Load', version: 1, sweep: { values: { source: [] } } }] });
    expect(bad.errors[0]).toMatchObject({ node: 'a', field: 'sweep.values.source' });
  });
});
