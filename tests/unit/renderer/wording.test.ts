/** The inspector and the Problems tab (the engine's validation) word the same range error the same way. */
import { Engine } from '../../../src/engine/engine';
import { checkField, fieldsFromSchema } from '../../../src/renderer/src/editor/schema-form';
import { SPECS } from '../server/fake-engine';

test('a ratio out of range: the same words in the inspector and in the engine\'s error', async () => {
  const ratio = fieldsFromSchema(SPECS.find((s) => s.type === 'Prune')!.params).find((f) => f.key === 'ratio')!;
  const steps = fieldsFromSchema(SPECS.find((s) => s.type === 'LoRA-Train')!.params).find((f) => f.key === 'steps')!;
  const engine = new Engine({ home: '/tmp/loram-wording-test' });
  const r = await engine.validate(
    {
      format: 'loram-recipe',
      version: 2,
      nodes: [
        { id: 'p', type: 'Prune', version: 1, params: { ratio: 1.5 } },
        { id: 't', type: 'LoRA-Train', version: 2, params: { steps: 0 } },
      ],
    },
    { checkFiles: false },
  );
  const msg = (node: string, field: string) => r.errors.find((e) => e.node === node && e.field === field)!.message;
  expect(msg('p', 'params.ratio')).toBe('must be at most 0.99');
  expect(checkField(ratio, 1.5)).toBe(msg('p', 'params.ratio'));
  expect(checkField(steps, 0)).toBe(msg('t', 'params.steps'));
  await engine.close();
});
