import { initBackend } from '../../../src/loram/backend/backend';
import { linearName } from '../../../src/loram/model/config';
import type { LlamaConfig } from '../../../src/loram/model/config';
import { LlamaModel, randomWeights } from '../../../src/loram/model/llama';
import { defaultPrunedLayerRange, keptLayerSizes } from '../../../src/loram/memory/planner';
import {
  applyStructuredPlan,
  planFromJson,
  planToJson,
  pruneStructured,
  queryHeadsOf,
  selectKept,
  structuredImportance,
  zeroPrunedUnits,
} from '../../../src/loram/prune';
import type { StructuredImportance, StructuredPrunePlan } from '../../../src/loram/prune';
import type { WeightMap } from '../../../src/loram/util/tensor';
import { logitsOf, maxAbs, maxAbsDiff, randomBatch, tinyConfig } from '../../helpers/loram-fixtures';

function weightsFor(cfg: LlamaConfig, seed = 1): WeightMap {
  const w = randomWeights(cfg, seed, 0.2);
  if (cfg.attentionBias) for (const [k, t] of w) if (k.endsWith('.bias')) t.data.forEach((_, i) => (t.data[i] = 0.1 * Math.sin(i + k.length)));
  return w;
}

function runLogits(cfg: LlamaConfig, w: WeightMap, seed = 3): Float32Array {
  const m = LlamaModel.fromWeights(cfg, w, { trainable: false });
  try {
    return logitsOf(m, randomBatch(cfg, 2, 7, seed));
  } finally {
    m.dispose();
  }
}

describe('structured pruning', () => {
  beforeAll(async () => {
    await initBackend();
  });

  const calib = (cfg: LlamaConfig) => [randomBatch(cfg, 2, 8, 11), randomBatch(cfg, 2, 8, 12)];

  test('p = 0 is the identity (same weights, same logits)', async () => {
    const cfg = tinyConfig();
    const w = weightsFor(cfg);
    for (const importance of ['random', 'magnitude', 'taylor'] as StructuredImportance[]) {
      const r = await pruneStructured(cfg, w, { ratio: 0, importance, calibration: calib(cfg) });
      expect(r.config.layers).toEqual(cfg.layers);
      for (const [k, t] of w) expect(r.weights.get(k)!.data).toEqual(t.data);
      expect(maxAbsDiff(runLogits(r.config, r.weights), runLogits(cfg, w))).toBe(0);
    }
  });

  const variants: [string, LlamaConfig, StructuredImportance, number][] = [
    ['GQA, random, p=0.5', tinyConfig(), 'random', 0.5],
    ['GQA, magnitude, p=0.65', tinyConfig(), 'magnitude', 0.65],
    ['GQA, taylor, p=0.5', tinyConfig(), 'taylor', 0.5],
    ['MHA + qkv bias + tied, taylor, p=0.4', tinyConfig({ numKvHeads: 8, attentionBias: true, tieWordEmbeddings: true }), 'taylor', 0.4],
    ['GQA g=4, magnitude, p=0.75', tinyConfig({ numHeads: 8, numKvHeads: 2 }), 'magnitude', 0.75],
  ];

  test.each(variants)('pruned forward = original with pruned units zeroed (to 1e-5): %s', async (_n, cfg, importance, ratio) => {
    const w = weightsFor(cfg);
    const r = await pruneStructured(cfg, w, { ratio, importance, calibration: calib(cfg), seed: 7 });
    // Sizes from the planner, physically smaller tensors.
    expect(r.config.layers).toEqual(keptLayerSizes(cfg, ratio));
    const [s, e] = defaultPrunedLayerRange(cfg.numLayers);
    expect(r.plan.layerRange).toEqual([s, e]);
    for (let i = s; i < e; i++) {
      const l = r.config.layers[i]!;
      expect(r.weights.get(linearName(i, 'q_proj'))!.shape).toEqual([l.num_attention_heads * cfg.headDim, cfg.hiddenSize]);
      expect(r.weights.get(linearName(i, 'down_proj'))!.shape).toEqual([cfg.hiddenSize, l.intermediate_size]);
      expect(l.num_attention_heads).toBeLessThan(cfg.layers[i]!.num_attention_heads);
    }
    const zeroed = zeroPrunedUnits(w, r.plan);
    const a = runLogits(r.config, r.weights);
    const b = runLogits(cfg, zeroed);
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
    // And pruning does change the model (the test is not vacuous).
    expect(maxAbsDiff(a, runLogits(cfg, w))).toBeGreaterThan(1e-3);
  });

  test('plan: sorted original indices, GQA query-head mapping, custom layer range, JSON round trip', async () => {
    const cfg = tinyConfig({ numLayers: 5 });
    const w = weightsFor(cfg);
    const r = await pruneStructured(cfg, w, { ratio: 0.5, importance: 'random', layerRange: [0, 5], seed: 3 });
    expect(r.plan.layers.map((l) => l.layer)).toEqual([0, 1, 2, 3, 4]);
    expect(r.config.layers).toEqual(keptLayerSizes(cfg, 0.5, [0, 5]));
    for (const lp of r.plan.layers) {
      expect(lp.keptKvHeads).toEqual([...lp.keptKvHeads].sort((x, y) => x - y));
      expect(lp.keptKvHeads.length).toBe(2);
      expect(lp.keptHeads).toEqual(queryHeadsOf(lp.keptKvHeads, 2));
      expect(lp.keptChannels.length).toBe(24);
      expect(new Set(lp.keptChannels).size).toBe(24);
      expect(lp.keptChannels.every((c, i) => i === 0 || c > lp.keptChannels[i - 1]!)).toBe(true);
    }
    // Rows of the pruned q_proj are the original rows of the kept heads.
    const lp = r.plan.layers[2]!;
    const q0 = w.get(linearName(2, 'q_proj'))!;
    const q1 = r.weights.get(linearName(2, 'q_proj'))!;
    const H = cfg.hiddenSize;
    const firstKeptRow = lp.keptHeads[0]! * cfg.headDim;
    expect(q1.data.subarray(0, H)).toEqual(q0.data.subarray(firstKeptRow * H, (firstKeptRow + 1) * H));
    // Same plan, reapplied from JSON, gives the same weights.
    const back = planFromJson(JSON.parse(JSON.stringify(planToJson(r.plan)))) as StructuredPrunePlan;
    const again = applyStructuredPlan(cfg, w, back);
    for (const [k, t] of r.weights) expect(again.weights.get(k)!.data).toEqual(t.data);
    // Random importance is seeded.
    const r2 = await pruneStructured(cfg, w, { ratio: 0.5, importance: 'random', layerRange: [0, 5], seed: 3 });
    expect(r2.plan.layers).toEqual(r.plan.layers);
    const r3 = await pruneStructured(cfg, w, { ratio: 0.5, importance: 'random', layerRange: [0, 5], seed: 4 });
    expect(r3.plan.layers).not.toEqual(r.plan.layers);
  });

  test('Taylor importance ranks a deliberately important head first and a dead head last', async () => {
    const cfg = tinyConfig({ numLayers: 3 });
    const w = randomWeights(cfg, 5, 0.05);
    const L = 1;
    const hd = cfg.headDim;
    const H = cfg.hiddenSize;
    const g = 2;
    const scaleRows = (name: string, r0: number, r1: number, f: number) => {
      const t = w.get(name)!;
      for (let i = r0 * H; i < r1 * H; i++) t.data[i]! *= f;
    };
    const setCols = (name: string, c0: number, c1: number, f: (v: number) => number) => {
      const t = w.get(name)!;
      const cols = t.shape[1]!;
      for (let r = 0; r < t.shape[0]!; r++) for (let c = c0; c < c1; c++) t.data[r * cols + c] = f(t.data[r * cols + c]!);
    };
    // KV head 2: strongly used (large v and o weights). KV head 1: large q/k/v but its o columns are zero, so it
    // never affects the output: magnitude likes it, Taylor must give it exactly 0.
    scaleRows(linearName(L, 'v_proj'), 2 * hd, 3 * hd, 30);
    setCols(linearName(L, 'o_proj'), 2 * g * hd, 3 * g * hd, (v) => v * 30);
    for (const m of ['q_proj', 'k_proj', 'v_proj'] as const) scaleRows(linearName(L, m), (m === 'q_proj' ? g : 1) * hd, (m === 'q_proj' ? 2 * g : 2) * hd, 200);
    setCols(linearName(L, 'o_proj'), g * hd, 2 * g * hd, () => 0);
    // MLP channel 5: large gate/up/down.
    scaleRows(linearName(L, 'up_proj'), 5, 6, 30);
    setCols(linearName(L, 'down_proj'), 5, 6, (v) => v * 30);

    const calibration = [randomBatch(cfg, 2, 8, 1), randomBatch(cfg, 2, 8, 2)];
    const taylor = (await structuredImportance(cfg, w, { importance: 'taylor', layerRange: [1, 2], calibration }))[0]!;
    const mag = (await structuredImportance(cfg, w, { importance: 'magnitude', layerRange: [1, 2] }))[0]!;
    const argmax = (a: Float64Array) => a.indexOf(Math.max(...a));
    expect(argmax(taylor.kvHeads)).toBe(2);
    expect(taylor.kvHeads[1]).toBe(0);
    expect(argmax(mag.kvHeads)).toBe(1); // magnitude is fooled by the dead head
    expect(argmax(taylor.channels)).toBe(5);
    expect(selectKept(taylor.kvHeads, 1)).toEqual([2]);
    const pruned = await pruneStructured(cfg, w, { ratio: 0.5, importance: 'taylor', layerRange: [1, 2], calibration });
    expect(pruned.plan.layers[0]!.keptKvHeads).toContain(2);
    expect(pruned.plan.layers[0]!.keptKvHeads).not.toContain(1);
  });

  test('clear errors: bad ratio, ratio removing every channel, Taylor without calibration, bad range', async () => {
    const cfg = tinyConfig();
    const w = weightsFor(cfg);
    await expect(pruneStructured(cfg, w, { ratio: 1, importance: 'random' })).rejects.toThrow(/ratio must be in \[0, 1\)/);
    await expect(pruneStructured(cfg, w, { ratio: -0.1, importance: 'random' })).rejects.toThrow(/ratio/);
    const narrow = tinyConfig({ intermediateSize: 4 });
    await expect(pruneStructured(narrow, weightsFor(narrow), { ratio: 0.9, importance: 'magnitude' })).rejects.toThrow(/remove every MLP channel of layer 1/);
    await expect(pruneStructured(cfg, w, { ratio: 0.5, importance: 'taylor' })).rejects.toThrow(/Taylor importance needs calibration batches/);
    const noLabels = randomBatch(cfg, 1, 4, 1);
    noLabels.labels.fill(-100);
    await expect(pruneStructured(cfg, w, { ratio: 0.5, importance: 'taylor', calibration: [noLabels] })).rejects.toThrow(/counted labels/);
    await expect(pruneStructured(cfg, w, { ratio: 0.5, importance: 'random', layerRange: [2, 9] })).rejects.toThrow(/layer range/);
    const other = tinyConfig({ hiddenSize: 16, numHeads: 4, numKvHeads: 2 });
    const r = await pruneStructured(cfg, w, { ratio: 0.5, importance: 'random' });
    expect(() => applyStructuredPlan(other, weightsFor(other), r.plan)).toThrow(/different model/);
  });

  test('zeroPrunedUnits zeroes exactly the pruned rows and columns', async () => {
    const cfg = tinyConfig();
    const w = weightsFor(cfg);
    const r = await pruneStructured(cfg, w, { ratio: 0.5, importance: 'magnitude' });
    const z = zeroPrunedUnits(w, r.plan);
    const lp = r.plan.layers[0]!;
    const gate = z.get(linearName(lp.layer, 'gate_proj'))!;
    const H = cfg.hiddenSize;
    for (let c = 0; c < cfg.layers[lp.layer]!.intermediate_size; c++) {
      const row = gate.data.subarray(c * H, (c + 1) * H);
      expect(maxAbs(row) === 0).toBe(!lp.keptChannels.includes(c));
    }
    expect(z.get('model.embed_tokens.weight')).toBe(w.get('model.embed_tokens.weight'));
  });
});
