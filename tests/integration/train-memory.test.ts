/**
 * Planned vs measured training memory on the built-in large model, through the engine (issue 12): LoRA-Train on
 * ONNX Runtime records the ORT planner's figure for its own settings and the peak of a fresh process replaying two
 * steps of its graph, both for the same runtime. At this scale (50–70 MiB) the runtime's own share — start-up left
 * resident and per-node session state, 26–33 MiB — is half the figure, and repeated probes of one setting spread by
 * up to 3 MiB (bench/loram-memory/builtin.ts: every built-in row within 7.7%, docs/memory.md), so the stated
 * tolerance here is 15%; the editor warns above 10%.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine } from '../../src/engine/engine';
import type { RecipeInput } from '../../src/shared';

const TOLERANCE = 0.15;
const root = mkdtempSync(path.join(os.tmpdir(), 'loram-trainmem-'));
let engine: Engine;

beforeAll(() => {
  engine = new Engine({ home: path.join(root, 'home') });
});
afterAll(async () => {
  await engine?.close();
});

function recipe(): RecipeInput {
  // LoRA-Train's defaults (r 8, all targets, dropout 0.05, batch 4 × 128) but for a few steps.
  const train = { steps: 3, warmupSteps: 1, backend: 'ort' };
  const nodes: [string, string, Record<string, unknown>][] = [
    ['load', 'Load', { source: 'builtin:large' }],
    ['general', 'Dataset', { source: 'brown', maxDocuments: 8 }],
    ['domain', 'Dataset', { source: 'sotu', maxDocuments: 12, seed: 0 }],
    ['train_full', 'LoRA-Train', train],
    ['prune', 'Prune', { strategy: 'stru', ratio: 0.5, calibrationSamples: 4, calibrationTokens: 32 }],
    ['quant', 'Quantize', {}],
    ['train_q', 'LoRA-Train', { ...train, gradientCheckpointing: true }],
  ];
  const edges: [string, string, string, string][] = [
    ['load', 'model', 'train_full', 'model'], ['domain', 'dataset', 'train_full', 'dataset'],
    ['load', 'model', 'prune', 'model'], ['general', 'dataset', 'prune', 'calibration'], ['prune', 'model', 'quant', 'model'],
    ['quant', 'model', 'train_q', 'model'], ['domain', 'dataset', 'train_q', 'dataset'],
  ];
  return {
    format: 'loram-recipe',
    version: 2,
    name: 'training memory',
    nodes: nodes.map(([id, type, params]) => ({ id, type, version: 1, params })),
    edges: edges.map(([a, ap, b, bp], i) => ({ id: `e${i}`, from: { node: a, port: ap }, to: { node: b, port: bp } })),
  };
}

test(`LoRA and QLoRAM-Stru on the built-in large model: planned within ${TOLERANCE * 100}% of measured, same runtime`, async () => {
  const s = await engine.run(recipe(), { baseDir: root });
  if (!s.ok) throw new Error(JSON.stringify(s.errors));
  const end = await engine.wait(s.runId);
  if (end.type !== 'run-finished') throw new Error('cancelled');
  const bad = Object.entries(end.nodes).filter(([, n]) => n.status !== 'done');
  expect(bad.map(([id, n]) => `${id}: ${n.error?.message}`)).toEqual([]);
  const MiB = 2 ** 20;
  const seen: string[] = [];
  for (const id of ['train_full', 'train_q']) {
    const m = end.nodes[id]!.metrics!;
    expect(m).toMatchObject({ measuredMemoryRuntime: 'onnxruntime-cpu', plannedMemoryRuntime: 'onnxruntime-cpu' });
    const measured = m.trainMemoryBytes as number;
    const planned = m.plannedMemoryBytes as number;
    seen.push(`${id}: planned ${(planned / MiB).toFixed(1)} MiB, measured ${(measured / MiB).toFixed(1)} MiB, gap ${m.memoryGapPct}%`);
    expect(m.memoryGapPct).toBeCloseTo(((planned - measured) / measured) * 100, 1);
    expect([id, Math.abs(planned - measured) / measured <= TOLERANCE]).toEqual([id, true]);
  }
  process.stdout.write(`${seen.join('\n')}\n`);
}, 300_000);
