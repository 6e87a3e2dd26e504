import { runCollect, testEngine, recipe } from './helpers';

describe('store locations', () => {
  test('a node cannot read a value whose path leaves its artifact', async () => {
    const engine = testEngine();
    try {
      const { end } = await runCollect(engine, recipe([{ id: 'x', type: 'Escape' }, { id: 'a', type: 'Add' }], [['x', 'out', 'a', 'a']]));
      expect(end.type === 'run-finished' && end.nodes.a).toMatchObject({ status: 'failed', error: { message: 'artifact path "../../outside.json" leaves its artifact' } });
    } finally {
      await engine.close();
    }
  });
});
