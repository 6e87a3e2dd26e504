import { branchCopies, foldCache, foldRunView } from '../../../src/renderer/src/editor/branches';
import { specMap } from '../../../src/renderer/src/editor/catalog';
import { SPECS } from '../server/fake-engine';
import { parseSweepText, setSweepMode, setSweepValues } from '../../../src/renderer/src/editor/sweep-edit';
import { fieldsFromSchema } from '../../../src/renderer/src/editor/schema-form';
import { emptyRunView, reduceRun } from '../../../src/renderer/src/editor/run-state';
import { parseRecipe, type EngineEvent, type Recipe } from '../../../src/shared';

const specs = specMap(SPECS);
const doc = (): Recipe =>
  parseRecipe({
    format: 'loram-recipe',
    version: 2,
    nodes: [
      { id: 'load', type: 'Load', version: 1, params: { source: 'builtin:large' } },
      { id: 'prune', type: 'Prune', version: 1, params: {} },
    ],
    edges: [{ id: 'e1', from: { node: 'load', port: 'model' }, to: { node: 'prune', port: 'model' } }],
  }).recipe!;

describe('sweeps in the editor', () => {
  test('the inspector turns a param into a list of values, one undoable document change each', () => {
    const f = fieldsFromSchema(specs.get('Prune')!.params).find((x) => x.key === 'strategy')!;
    const parsed = parseSweepText(f, 'rand, stru, semi');
    expect(parsed).toEqual({ ok: true, values: ['rand', 'stru', 'semi'] });
    expect(parseSweepText(f, 'rand, nope')).toEqual({ ok: false, error: '"nope" is not one of rand, stru, semi, unst' });
    const ratio = fieldsFromSchema(specs.get('Prune')!.params).find((x) => x.key === 'ratio')!;
    expect(parseSweepText(ratio, '0.3, abc')).toEqual({ ok: false, error: '"abc" must be a number' });
    let d = setSweepValues(doc(), 'prune', 'strategy', ['rand', 'stru', 'semi']);
    d = setSweepValues(d, 'prune', 'ratio', [0.3, 0.5]);
    expect(d.nodes[1]!.sweep).toEqual({ mode: 'product', values: { strategy: ['rand', 'stru', 'semi'], ratio: [0.3, 0.5] } });
    expect(branchCopies(d, specs).branches).toBe(6);
    expect(setSweepMode(d, 'prune', 'zip').nodes[1]!.sweep!.mode).toBe('zip');
    const back = setSweepValues(setSweepValues(d, 'prune', 'ratio', null), 'prune', 'strategy', null);
    expect(back.nodes[1]!.sweep).toBeUndefined();
    expect(setSweepValues(d, 'prune', 'ratio', [0.3, 0.5])).toBe(d); // same values: same document
  });

  test("a swept node's card folds its branches: running while any runs, a branch count, cached when all are", () => {
    const d = setSweepValues(doc(), 'prune', 'strategy', ['rand', 'stru']);
    const { copies } = branchCopies(d, specs);
    expect(copies.get('prune')).toEqual(['prune.0', 'prune.1']);
    const t = 1;
    const evs: EngineEvent[] = [
      { type: 'run-started', runId: 'r', time: t, recipeName: 'x', plan: ['load', 'prune.0', 'prune.1'], noCache: false },
      { type: 'node-cached', runId: 'r', time: t, node: 'load', nodeType: 'Load', signature: 's0', outputs: {}, metrics: {} },
      { type: 'node-finished', runId: 'r', time: t, node: 'prune.0', nodeType: 'Prune', signature: 's1', outputs: {}, metrics: {}, durationMs: 5 },
      { type: 'node-started', runId: 'r', time: t, node: 'prune.1', nodeType: 'Prune', signature: 's2' },
      { type: 'node-progress', runId: 'r', time: t, node: 'prune.1', step: 3, total: 10 },
    ];
    const run = evs.reduce(reduceRun, emptyRunView());
    const folded = foldRunView(run, copies);
    expect(folded.plan).toEqual(['load', 'prune']);
    expect(folded.nodes.prune).toMatchObject({ status: 'running', step: 3, total: 10, metrics: { branches: '1/2' } });
    expect(folded.nodes.load!.status).toBe('cached');
    const cache = foldCache({ nodes: { load: { signature: 'a', cached: true }, 'prune.0': { signature: 'b', cached: true }, 'prune.1': { signature: 'c', cached: false } } }, copies)!;
    expect(cache.nodes.prune).toEqual({ signature: 'b+c', cached: false });
    expect(cache.nodes.load).toEqual({ signature: 'a', cached: true });
  });
});
