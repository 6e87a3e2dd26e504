import type { Engine } from '../../../src/engine/engine';
import { cached, recipe, runCollect, started, testEngine } from './helpers';

/** Source → a1 (Add) → sum (Sum, multiple): with a1's `add` swept, the Sum gathers every branch. */
const swept = (values: number[]) => {
  const r = recipe(
    [
      { id: 'src', type: 'Source', params: { value: 1 } },
      { id: 'a1', type: 'Add', params: { add: 0 } },
      { id: 'sum', type: 'Sum' },
    ],
    [
      ['src', 'out', 'a1', 'a'],
      ['a1', 'out', 'sum', 'in'],
    ],
  );
  (r.nodes![1] as { sweep?: unknown }).sweep = { values: { add: values } };
  return r;
};
const handWritten = recipe(
  [
    { id: 'src', type: 'Source', params: { value: 1 } },
    { id: 'x', type: 'Add', params: { add: 20 } },
  ],
  [['src', 'out', 'x', 'a']],
);

describe('engine: sweeps', () => {
  let engine: Engine;
  beforeEach(() => (engine = testEngine()));
  afterEach(async () => engine.close());

  test('validate reports the branch count; errors on copies land on the swept node', async () => {
    expect(await engine.validate(swept([1, 10, 20]))).toEqual({ ok: true, errors: [], branches: 3 });
    const bad = await engine.validate(swept([1, 5000]));
    expect(bad.errors.map((e) => [e.code, e.node, e.field])).toEqual([['invalid-param', 'a1', 'params.add']]);
  });

  test('a sweep runs as branches; an unswept node keeps its signature, and a branch computed by hand is reused', async () => {
    const before = await engine.cacheStatus(handWritten);
    await runCollect(engine, handWritten);
    const run = await runCollect(engine, swept([1, 10, 20]));
    expect(run.end.type === 'run-finished' && run.end.ok).toBe(true);
    // src is unswept (same id, same signature → reused); a1.2 (add 20) is the hand-written x → reused.
    expect(cached(run.events).sort()).toEqual(['a1.2', 'src']);
    expect(started(run.events)).toEqual(['a1.0', 'a1.1', 'sum']);
    const status = await engine.cacheStatus(swept([1, 10, 20]));
    expect(status.nodes.src!.signature).toBe(before.nodes.src!.signature);
    expect(status.nodes['a1.2']!.signature).toBe(before.nodes.x!.signature);
    // The Sum gathered the three branches: 2 + 11 + 21.
    const end = run.end.type === 'run-finished' ? run.end : null;
    expect(end!.nodes.sum!.metrics).toMatchObject({ value: 34 });
  });

  test('loading a swept recipe gives it back as written, not expanded', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const dir = mkdtempSync('/tmp/loram-sweep-');
    writeFileSync(`${dir}/r.json`, JSON.stringify(swept([1, 2])));
    const loaded = await engine.loadRecipe(`${dir}/r.json`);
    expect(loaded.recipe!.nodes.map((n) => n.id)).toEqual(['src', 'a1', 'sum']);
    expect(loaded.recipe!.nodes[1]!.sweep).toEqual({ mode: 'product', values: { add: [1, 2] } });
  });
});
