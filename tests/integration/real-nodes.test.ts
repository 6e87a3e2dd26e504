/**
 * The real node implementations (src/loram) run through the engine and its worker, on a tiny random model with
 * the project's tokenizer: every node kind, the cache across runs, re-running only what a change touches, and
 * cancel during LoRA training.
 */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine } from '../../src/engine/engine';
import type { EngineEvent, RecipeInput } from '../../src/shared';
import { makeTinyModel } from './tiny-model';

const root = mkdtempSync(path.join(os.tmpdir(), 'loram-real-'));
let engine: Engine;

beforeAll(async () => {
  await makeTinyModel(path.join(root, 'tiny'));
  engine = new Engine({ home: path.join(root, 'home') });
}, 60_000);
afterAll(async () => {
  await engine?.close();
});

const LORA = { rank: 4, alpha: 8, steps: 4, lr: 0.01, warmupSteps: 1, batchSize: 2, seqLen: 16, seed: 0 };
const EVAL = { seqLen: 16, maxTokens: 600, batchSize: 4 };

function recipe(loraSteps = 4): RecipeInput {
  const nodes: [string, string, Record<string, unknown>][] = [
    ['load', 'Load', { source: 'tiny' }],
    ['general', 'Dataset', { source: 'brown', maxDocuments: 6 }],
    ['domain', 'Dataset', { source: 'sotu', maxDocuments: 6 }],
    ['prune', 'Prune', { strategy: 'stru', ratio: 0.5, calibrationSamples: 4, calibrationTokens: 16 }],
    ['train', 'LoRA-Train', { ...LORA, steps: loraSteps }],
    ['recover', 'Recover', {}],
    ['eval', 'Evaluate', { ...EVAL, runtime: 'tfjs', label: 'LoRAM-Stru' }],
    ['prune_q', 'Prune', { strategy: 'stru', ratio: 0.5, calibrationSamples: 4, calibrationTokens: 16 }],
    ['align', 'Align', { steps: 2, batchSize: 2, seqLen: 16, warmupSteps: 1 }],
    ['quant', 'Quantize', {}],
    ['train_q', 'LoRA-Train', LORA],
    ['recover_q', 'Recover', {}],
    ['eval_q', 'Evaluate', { ...EVAL, runtime: 'onnxruntime', label: 'QLoRAM-Stru' }],
    ['prune_s', 'Prune', { strategy: 'semi', ratio: 0.5, importance: 'wanda', calibrationSamples: 4, calibrationTokens: 16 }],
    ['train_s', 'LoRA-Train', LORA],
    ['recover_s', 'Recover', {}],
    ['eval_s', 'Evaluate', { ...EVAL, runtime: 'tfjs', label: 'LoRAM-Semi' }],
    ['eval_base', 'Evaluate', { ...EVAL, runtime: 'tfjs', label: 'untuned' }],
    ['compare', 'Compare', {}],
    ['export', 'Export', { format: 'peft-adapter' }],
  ];
  const edges: [string, string, string, string][] = [
    ['load', 'model', 'prune', 'model'], ['general', 'dataset', 'prune', 'calibration'], ['prune', 'model', 'train', 'model'], ['domain', 'dataset', 'train', 'dataset'],
    ['train', 'adapter', 'recover', 'adapter'], ['load', 'model', 'recover', 'model'], ['load', 'model', 'eval', 'model'], ['recover', 'adapter', 'eval', 'adapter'], ['domain', 'dataset', 'eval', 'dataset'],
    ['load', 'model', 'prune_q', 'model'], ['general', 'dataset', 'prune_q', 'calibration'], ['prune_q', 'model', 'align', 'model'], ['general', 'dataset', 'align', 'dataset'], ['align', 'model', 'quant', 'model'],
    ['quant', 'model', 'train_q', 'model'], ['domain', 'dataset', 'train_q', 'dataset'], ['train_q', 'adapter', 'recover_q', 'adapter'], ['load', 'model', 'recover_q', 'model'],
    ['load', 'model', 'eval_q', 'model'], ['recover_q', 'adapter', 'eval_q', 'adapter'], ['domain', 'dataset', 'eval_q', 'dataset'],
    ['load', 'model', 'prune_s', 'model'], ['general', 'dataset', 'prune_s', 'calibration'], ['prune_s', 'model', 'train_s', 'model'], ['domain', 'dataset', 'train_s', 'dataset'],
    ['train_s', 'adapter', 'recover_s', 'adapter'], ['load', 'model', 'recover_s', 'model'], ['load', 'model', 'eval_s', 'model'], ['recover_s', 'adapter', 'eval_s', 'adapter'], ['domain', 'dataset', 'eval_s', 'dataset'],
    ['load', 'model', 'eval_base', 'model'], ['domain', 'dataset', 'eval_base', 'dataset'],
    ['eval', 'metrics', 'compare', 'metrics'], ['eval_q', 'metrics', 'compare', 'metrics'], ['eval_s', 'metrics', 'compare', 'metrics'], ['eval_base', 'metrics', 'compare', 'metrics'],
    ['recover', 'adapter', 'export', 'adapter'],
  ];
  return {
    format: 'loram-recipe',
    version: 2,
    name: 'every node',
    nodes: nodes.map(([id, type, params]) => ({ id, type, version: 1, params })),
    edges: edges.map(([a, ap, b, bp], i) => ({ id: `e${i}`, from: { node: a, port: ap }, to: { node: b, port: bp } })),
  };
}

async function run(r: unknown, onEvent?: (e: EngineEvent, runId: string) => void) {
  const events: EngineEvent[] = [];
  let runId = '';
  const buffered: EngineEvent[] = [];
  const unsub = engine.subscribe((e) => {
    if (!runId) buffered.push(e);
    else if (e.runId === runId) {
      events.push(e);
      onEvent?.(e, runId);
    }
  });
  const t0 = Date.now();
  const s = await engine.run(r, { baseDir: root });
  if (!s.ok) throw new Error(JSON.stringify(s.errors));
  runId = s.runId;
  for (const e of buffered) if (e.runId === runId) events.push(e);
  const end = await engine.wait(runId);
  unsub();
  return { events, end, ms: Date.now() - t0 };
}
const ids = (events: EngineEvent[], type: string) => events.filter((e) => e.type === type).map((e) => (e as { node: string }).node);

describe('real nodes through the engine', () => {
  let firstMs = 0;

  test('every node kind runs on a tiny model', async () => {
    const { end, ms } = await run(recipe());
    firstMs = ms;
    if (end.type !== 'run-finished') throw new Error('cancelled');
    const failed = Object.entries(end.nodes).filter(([, n]) => n.status !== 'done' && n.status !== 'cached');
    expect(failed.map(([id, n]) => `${id}: ${n.status} ${n.error?.message ?? ''}`)).toEqual([]);
    // prune_q is the same pruning as prune (same params, same upstream): computed once.
    expect(end.nodes.prune_q!.status).toBe('cached');
    expect(end.nodes.prune_q!.signature).toBe(end.nodes.prune!.signature);
    expect(end.ok).toBe(true);
    const ppl = (id: string) => end.nodes[id]!.metrics!.perplexity as number;
    for (const id of ['eval', 'eval_q', 'eval_s', 'eval_base']) expect(Number.isFinite(ppl(id))).toBe(true);
    expect(end.nodes.compare!.metrics!.branches).toBe(4);
    expect(end.nodes.prune!.metrics!.prunedParams as number).toBeLessThan(end.nodes.prune!.metrics!.originalParams as number);
    expect(end.nodes.quant!.metrics!.bitsPerWeight as number).toBeGreaterThan(4);
    expect(end.nodes.train!.outputs!.adapter).toMatchObject({ type: 'adapter', recovered: false });
    expect(end.nodes.recover!.outputs!.adapter).toMatchObject({ type: 'adapter', recovered: true });
    const exported = end.nodes.export!.metrics!.path as string;
    expect(readdirSync(exported).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
  }, 300_000);

  test('a second run reuses every node (Export always runs) and takes a fraction of the time', async () => {
    const { events, end, ms } = await run(recipe());
    expect(end.type === 'run-finished' && end.ok).toBe(true);
    expect(ids(events, 'node-started')).toEqual(['export']);
    expect(ids(events, 'node-cached').length).toBe(19);
    expect(ms).toBeLessThan(firstMs * 0.25);
  }, 120_000);

  test('changing one LoRA-Train parameter re-runs only it and what depends on it', async () => {
    const { events } = await run(recipe(5));
    // Independent branches may start in either order on the worker pool.
    expect(ids(events, 'node-started').sort()).toEqual(['compare', 'eval', 'export', 'recover', 'train']);
  }, 300_000);

  test('cancel during LoRA-Train stops within a step, leaves nothing, and the next run reuses the upstream', async () => {
    const r = recipe();
    const train = r.nodes.find((n) => n.id === 'train')!;
    train.params = { ...LORA, steps: 100000, seed: 7 };
    let sig = '';
    let cancelStep = 0;
    const { events, end } = await run(r, (e, runId) => {
      if (e.type === 'node-started' && e.node === 'train') sig = e.signature;
      if (e.type === 'node-progress' && e.node === 'train' && e.step === 3 && !cancelStep) {
        cancelStep = e.step;
        void engine.cancel(runId);
      }
    });
    expect(end).toMatchObject({ type: 'run-cancelled', node: 'train' });
    const steps = events.filter((e) => e.type === 'node-progress' && e.node === 'train').map((e) => (e as { step: number }).step);
    expect(Math.max(...steps)).toBeLessThanOrEqual(cancelStep + 1);
    expect(existsSync(path.join(root, 'home', 'artifacts', sig))).toBe(false);
    expect(readdirSync(path.join(root, 'home', 'artifacts')).filter((f) => f.startsWith('.'))).toEqual([]);
    expect(engine.executor.terminations).toBe(0);
    train.params = { ...LORA, steps: 2, seed: 7 };
    const next = await run(r);
    expect(ids(next.events, 'node-cached')).toEqual(expect.arrayContaining(['load', 'general', 'domain', 'prune']));
    expect(ids(next.events, 'node-started')[0]).toBe('train');
  }, 300_000);
});
