/**
 * One lineage rule, two moments: the validator checks it on static keys before a run, the worker on the real
 * values right before `run`. Same rule, same words.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { analyzeRecipe } from '../../../src/engine/validate';
import { registry } from '../../../src/nodes/index';
import { checkLineageAtRun, describeModel, sameLineage, valueLineage } from '../../../src/nodes/lineage';
import type { AdapterValue, ModelLineage, ModelTransform, ModelValue } from '../../../src/shared';

const dir = mkdtempSync(path.join(os.tmpdir(), 'loram-lineage-'));
mkdirSync(path.join(dir, 'm'));
writeFileSync(path.join(dir, 'm', 'config.json'), '{}');
writeFileSync(path.join(dir, 'm', 'tokenizer.json'), '{}');

const node = (id: string, type: string, params: Record<string, unknown> = {}) => ({ id, type, version: 1, params, position: { x: 0, y: 0 } });
const edge = (id: string, a: string, b: string) => ({ id, from: { node: a, port: 'model' }, to: { node: b, port: 'model' } });

const original: ModelLineage = { origin: { id: 'c0ffee', name: 'builtin:large' }, transforms: [] };
const nf4 = { kind: 'quantize', scheme: 'nf4', blockSize: 64, doubleQuant: true } as const;
const model = (lineage: ModelLineage): ModelValue => ({ type: 'model', location: { kind: 'external', path: '/m' }, lineage, summary: { layers: 1, hiddenSize: 1, vocabSize: 1, params: 1 } });
const adapter = (base: ModelLineage, recovered: boolean): AdapterValue => ({ type: 'adapter', location: { kind: 'external', path: '/a' }, rank: 8, alpha: 16, targets: ['q_proj'], base, recovered });

function runTimeError(type: string, inputs: Record<string, ModelValue | AdapterValue>, params: Record<string, unknown> = {}): { message: string; code: string } | null {
  const def = registry.get(type)!;
  try {
    checkLineageAtRun(def, inputs, def.params.parse(params));
    return null;
  } catch (e) {
    return { message: (e as Error).message, code: (e as { code: string }).code };
  }
}

describe('lineage rules', () => {
  test('quantizing twice: the validator and the worker refuse it in the same words', () => {
    const recipe = { format: 'loram-recipe', version: 1, name: 'q', nodes: [node('load', 'Load', { source: 'm' }), node('q1', 'Quantize'), node('q2', 'Quantize')], edges: [edge('e1', 'load', 'q1'), edge('e2', 'q1', 'q2')] };
    const errors = analyzeRecipe(recipe, { registry, baseDir: dir }).errors;
    expect(errors).toEqual([{ code: 'lineage', node: 'q2', field: 'inputs.model', message: 'the model is already quantized' }]);
    expect(runTimeError('Quantize', { model: model({ ...original, transforms: [nf4] }) })).toEqual({ code: 'lineage', message: 'the model is already quantized' });
    expect(runTimeError('Quantize', { model: model(original) })).toBeNull();
  });

  test('at run time, lineages compare by content: two Load nodes of one model agree, another model does not', () => {
    const again: ModelLineage = { origin: { id: 'c0ffee', name: 'models/large' }, transforms: [] };
    expect(runTimeError('Evaluate', { model: model(again), adapter: adapter(original, true) })).toBeNull();
    const other: ModelLineage = { origin: { id: 'beef', name: 'builtin:small' }, transforms: [] };
    expect(runTimeError('Evaluate', { model: model(other), adapter: adapter(original, true) })).toEqual({ code: 'lineage', message: 'the adapter fits builtin:large, not this model (builtin:small)' });
  });

  test('Recover refuses an adapter of a model that is not pruned, naming its lineage', () => {
    const aligned: ModelLineage = { ...original, transforms: [{ kind: 'align', steps: 10 }] };
    expect(runTimeError('Recover', { adapter: adapter(aligned, false), model: model(original) })?.message).toBe(
      'the adapter was trained on a model that is not pruned (builtin:large → align 10 steps); it already fits the original, Recover is not needed',
    );
  });

  test('a prune step is the same transform wherever its plan file lives', () => {
    const prune = (artifact: string): ModelTransform => ({ kind: 'prune', strategy: 'stru', ratio: 0.5, structured: true, layers: [1, 3], plan: { kind: 'store', artifact, path: 'plan.json' } });
    const a: ModelLineage = { ...original, transforms: [prune('a'.repeat(64))] };
    const b: ModelLineage = { ...original, transforms: [prune('b'.repeat(64))] };
    expect(sameLineage(valueLineage(a), valueLineage(b))).toBe(true);
    expect(sameLineage(valueLineage(a), valueLineage({ ...original, transforms: [{ ...prune('a'.repeat(64)), ratio: 0.6 } as ModelTransform] }))).toBe(false);
    expect(describeModel({ ...a, transforms: [...a.transforms, nf4] })).toBe('builtin:large → prune stru 50% → nf4');
  });
});
