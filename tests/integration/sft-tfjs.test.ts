/**
 * Supervised fine-tuning end to end on the TensorFlow.js training backend (the reference engine), on the built-in
 * small model and the built-in arithmetic task, a few steps: it trains on the answer tokens only exactly as ONNX
 * Runtime does (the first step's loss, taken before any update, is the same masked loss on the same batch on both
 * engines), and the adapter it saves makes the answers likelier on the held-out test split (answer-only perplexity,
 * scored by Evaluate with the adapter merged). With the Dataset's `packing`, both engines train on rows of several
 * examples, again with the same first-step loss.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine } from '../../src/engine/engine';
import { resolveModelSource } from '../../src/nodes/sources';
import type { NodeRunSummary } from '../../src/shared';

const haveModels = existsSync(path.join(resolveModelSource('builtin:small', '.'), 'config.json'));
const d = haveModels ? describe : describe.skip;

const node = (id: string, type: string, params: Record<string, unknown>) => ({ id, type, version: type === 'LoRA-Train' ? 2 : 1, params, position: { x: 0, y: 0 } });
const edge = (id: string, from: string, fromPort: string, to: string, toPort: string) => ({ id, from: { node: from, port: fromPort }, to: { node: to, port: toPort } });
const train = (backend: string) => ({ backend, batchSize: 8, lr: 0.003, seqLen: 26, steps: 8, warmupSteps: 2, seed: 0 });
const packedTrain = (backend: string) => ({ backend, batchSize: 2, lr: 0.003, seqLen: 128, steps: 4, warmupSteps: 1, seed: 0 });
const evaluate = (label: string) => ({ label, runtime: 'tfjs', seqLen: 32, batchSize: 16, maxNewTokens: 4, maxItems: 8 });

const recipe = {
  format: 'loram-recipe',
  version: 2,
  name: 'sft-tfjs',
  nodes: [
    node('small', 'Load', { source: 'builtin:small' }),
    node('task', 'Dataset', { source: 'arithmetic', seed: 0, valFraction: 0.1, testFraction: 0.2 }),
    node('train_tfjs', 'LoRA-Train', train('tfjs')),
    node('train_ort', 'LoRA-Train', train('ort')),
    node('eval_tfjs', 'Evaluate', evaluate('SFT on tfjs')),
    node('eval_base', 'Evaluate', evaluate('untuned')),
    node('packed', 'Dataset', { source: 'arithmetic', seed: 0, valFraction: 0.1, testFraction: 0.2, packing: true }),
    node('packed_tfjs', 'LoRA-Train', packedTrain('tfjs')),
    node('packed_ort', 'LoRA-Train', packedTrain('ort')),
  ],
  edges: [
    edge('e1', 'small', 'model', 'train_tfjs', 'model'),
    edge('e2', 'task', 'dataset', 'train_tfjs', 'dataset'),
    edge('e3', 'small', 'model', 'train_ort', 'model'),
    edge('e4', 'task', 'dataset', 'train_ort', 'dataset'),
    edge('e5', 'small', 'model', 'eval_tfjs', 'model'),
    edge('e6', 'train_tfjs', 'adapter', 'eval_tfjs', 'adapter'),
    edge('e7', 'task', 'dataset', 'eval_tfjs', 'dataset'),
    edge('e8', 'task', 'dataset', 'eval_tfjs', 'generation'),
    edge('e9', 'small', 'model', 'eval_base', 'model'),
    edge('e10', 'task', 'dataset', 'eval_base', 'dataset'),
    edge('e11', 'task', 'dataset', 'eval_base', 'generation'),
    edge('e12', 'small', 'model', 'packed_tfjs', 'model'),
    edge('e13', 'packed', 'dataset', 'packed_tfjs', 'dataset'),
    edge('e14', 'small', 'model', 'packed_ort', 'model'),
    edge('e15', 'packed', 'dataset', 'packed_ort', 'dataset'),
  ],
};

d('SFT on the TensorFlow.js backend', () => {
  test('trains on the answers only, as ONNX Runtime does, and its adapter lowers the held-out answer perplexity', async () => {
    const engine = new Engine({ home: mkdtempSync(path.join(os.tmpdir(), 'loram-sft-tfjs-')) });
    try {
      const s = await engine.run(recipe, { baseDir: process.cwd() });
      if (!s.ok) throw new Error(JSON.stringify(s.errors));
      const end = await engine.wait(s.runId);
      expect(end.type === 'run-finished' && end.ok).toBe(true);
      const nodes = JSON.parse(readFileSync(path.join(engine.home, 'runs', s.runId, 'metrics.json'), 'utf8')) as Record<string, NodeRunSummary>;
      const m = (id: string) => nodes[id]!.metrics as Record<string, number | string>;
      const lossCurve = (id: string) => {
        const loc = nodes[id]!.outputs!.metrics!.location as { kind: 'store'; artifact: string; path: string };
        return (JSON.parse(readFileSync(path.join(engine.home, 'artifacts', loc.artifact, loc.path), 'utf8')) as { curves: { loss: { y: number[] } } }).curves.loss.y;
      };
      expect(m('train_tfjs')).toMatchObject({ trainBackend: 'tfjs', steps: 8, sftExamples: 210, sftTruncated: 0, sftDropped: 0 });
      expect(m('train_ort')).toMatchObject({ trainBackend: 'ort', sftTargetTokens: m('train_tfjs').sftTargetTokens });
      const [tfjs, ort] = [lossCurve('train_tfjs'), lossCurve('train_ort')];
      console.log(`SFT, 8 steps: tfjs loss ${tfjs.map((x) => x.toFixed(3)).join(' ')}; ort ${ort.map((x) => x.toFixed(3)).join(' ')}`);
      expect(Math.abs(tfjs[0]! - ort[0]!)).toBeLessThan(1e-3 * ort[0]!);
      expect(tfjs[tfjs.length - 1]!).toBeLessThan(tfjs[0]! * 0.8);
      // Packed: 210 examples of 24–27 tokens in rows of 129 tokens (4 or 5 each); the same answer tokens trained.
      expect(m('packed_tfjs')).toMatchObject({ trainBackend: 'tfjs', sftExamples: 210, sftTargetTokens: m('train_tfjs').sftTargetTokens });
      expect(m('packed_tfjs').sftPackedRows as number).toBeGreaterThanOrEqual(Math.ceil(210 / 5));
      expect(m('packed_tfjs').sftPackedRows as number).toBeLessThanOrEqual(Math.ceil(210 / 4));
      expect(m('packed_ort').sftPackedRows).toBe(m('packed_tfjs').sftPackedRows);
      const [ptfjs, port] = [lossCurve('packed_tfjs'), lossCurve('packed_ort')];
      expect(Math.abs(ptfjs[0]! - port[0]!)).toBeLessThan(1e-3 * port[0]!);
      const [tuned, base] = [m('eval_tfjs'), m('eval_base')];
      expect(tuned).toMatchObject({ generationItems: 8 });
      expect(tuned.answerPerplexity as number).toBeLessThan((base.answerPerplexity as number) * 0.5);
    } finally {
      await engine.close();
    }
  }, 600_000);
});
