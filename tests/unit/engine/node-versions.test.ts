import { analyzeRecipe } from '../../../src/engine/validate';
import { registry as realRegistry } from '../../../src/nodes/index';
import { registry } from './fixtures/test-registry';
import { recipe, runCollect, testEngine } from './helpers';

describe('node versions', () => {
  const r = (version: number, params: Record<string, unknown>) =>
    recipe(
      [
        { id: 's', type: 'Source', params: { value: 1 } },
        { id: 'a', type: 'Add', version, params },
      ],
      [['s', 'out', 'a', 'a']],
    );

  test('params of an older node version are migrated before validation', async () => {
    const a = analyzeRecipe(r(1, { plus: 4 }), { registry, baseDir: '.' });
    expect(a.errors).toEqual([]);
    expect(a.nodes.get('a')!.params).toEqual({ add: 4 });
    const engine = testEngine();
    try {
      const { end } = await runCollect(engine, r(1, { plus: 4 }));
      expect(end.type === 'run-finished' && end.nodes.a!.metrics!.value).toBe(5);
      // Same params after migration → same signature → cached.
      const again = await runCollect(engine, r(2, { add: 4 }));
      expect(again.events.filter((e) => e.type === 'node-cached').length).toBe(2);
    } finally {
      await engine.close();
    }
  });

  test('a node version newer than its implementation is refused', () => {
    expect(analyzeRecipe(r(3, {}), { registry, baseDir: '.' }).errors).toEqual([expect.objectContaining({ code: 'unknown-node-version', node: 'a', field: 'version' })]);
  });

  test('migrated params are still validated', () => {
    expect(analyzeRecipe(r(1, { plus: 5000 }), { registry, baseDir: '.' }).errors).toEqual([expect.objectContaining({ code: 'invalid-param', node: 'a', field: 'params.add' })]);
  });

  test('Align recipes that set freezeLmHead (v1, v2) load without it (v3)', () => {
    for (const version of [1, 2]) {
      const a = analyzeRecipe(
        recipe(
          [
            { id: 'm', type: 'Load', params: { source: 'builtin:large' } },
            { id: 'd', type: 'Dataset', params: { source: 'sotu' } },
            { id: 'al', type: 'Align', version, params: { steps: 3, freezeLmHead: false } },
          ],
          [
            ['m', 'model', 'al', 'model'],
            ['d', 'dataset', 'al', 'dataset'],
          ],
        ),
        { registry: realRegistry, baseDir: '.', checkFiles: false },
      );
      expect(a.errors).toEqual([]);
      expect(a.nodes.get('al')!.params).toMatchObject({ steps: 3 });
      expect(a.nodes.get('al')!.params).not.toHaveProperty('freezeLmHead');
    }
  });
});
