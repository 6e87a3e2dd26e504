import { initBackend } from '../../../src/loram/backend/backend';
import { LINEAR_MODULES, linearName } from '../../../src/loram/model/config';
import type { LinearModule, LlamaConfig } from '../../../src/loram/model/config';
import { LlamaModel, randomWeights } from '../../../src/loram/model/llama';
import { DEFAULT_LORA_SPEC, attachLora, loraDelta, loraScale, moduleKey, trainLora } from '../../../src/loram/lora';
import type { LoraAdapter } from '../../../src/loram/lora';
import { keptIndices, pruneSparse, pruneStructured, unpackMask, zeroPrunedUnits } from '../../../src/loram/prune';
import { mergeDense, mergeLora, mergeRecovered, recoverSparse, recoverStructured } from '../../../src/loram/recover';
import { Rng } from '../../../src/loram/util/rng';
import type { HostTensor, WeightMap } from '../../../src/loram/util/tensor';
import { logitsOf, maxAbs, maxAbsDiff, patternBatch, randomBatch, tinyConfig } from '../../helpers/loram-fixtures';

function perturb(adapter: LoraAdapter, seed: number): LoraAdapter {
  const rng = new Rng(seed);
  for (const w of adapter.modules.values()) {
    for (let i = 0; i < w.B.data.length; i++) w.B.data[i]! += rng.normal() * 0.2;
    for (let i = 0; i < w.A.data.length; i++) w.A.data[i]! += rng.normal() * 0.2;
  }
  return adapter;
}

function logits(cfg: LlamaConfig, w: WeightMap, adapter: LoraAdapter | null, seed = 5): Float32Array {
  const m = LlamaModel.fromWeights(cfg, w, { trainable: false });
  try {
    if (adapter) attachLora(m, adapter);
    return logitsOf(m, randomBatch(cfg, 2, 7, seed));
  } finally {
    m.dispose();
  }
}

/** Train a LoRA on the pruned model for a few steps and add noise, so every factor is non-trivial. */
async function trainedAdapter(cfg: LlamaConfig, w: WeightMap, targets = DEFAULT_LORA_SPEC.targetModules): Promise<LoraAdapter> {
  const m = LlamaModel.fromWeights(cfg, w, { trainable: false });
  const h = attachLora(m, { ...DEFAULT_LORA_SPEC, r: 4, alpha: 8, targetModules: targets });
  await trainLora(m, h, { batches: [patternBatch(cfg, 2, 8, 1)], steps: 3, lr: 1e-2, warmupSteps: 0 });
  const a = perturb(h.export('pruned'), 9);
  m.dispose();
  return a;
}

describe('structured recovery', () => {
  beforeAll(async () => {
    await initBackend();
  });

  const cfg = tinyConfig();
  const w = randomWeights(cfg, 1, 0.2);

  test('recovered ΔW equals the trained ΔW zero-padded into original coordinates', async () => {
    const pr = await pruneStructured(cfg, w, { ratio: 0.5, importance: 'magnitude' });
    const trained = await trainedAdapter(pr.config, pr.weights);
    const rec = recoverStructured(trained, pr.plan, cfg, { baseModel: 'original' });
    expect(rec.config.baseModel).toBe('original');
    expect(rec.config.r).toBe(4);
    expect(rec.config.alpha).toBe(8);
    const s = loraScale(rec.config);
    const hd = cfg.headDim;
    for (let i = 0; i < cfg.numLayers; i++) {
      const lp = pr.plan.layers.find((l) => l.layer === i);
      for (const mod of LINEAR_MODULES) {
        const key = moduleKey(i, mod);
        const dP = loraDelta(trained.modules.get(key)!, s);
        const dR = loraDelta(rec.modules.get(key)!, s);
        const [out, inn] = [w.get(linearName(i, mod))!.shape[0]!, w.get(linearName(i, mod))!.shape[1]!];
        expect(dR.shape).toEqual([out, inn]);
        // Expected: zero padding of dP.
        const rows = lp && ['q_proj', 'k_proj', 'v_proj', 'gate_proj', 'up_proj'].includes(mod) ? keptIndices(lp, mod, hd) : [...Array(out).keys()];
        const cols = lp && ['o_proj', 'down_proj'].includes(mod) ? keptIndices(lp, mod as LinearModule, hd) : [...Array(inn).keys()];
        const pad = new Float32Array(out * inn);
        rows.forEach((r, pi) => cols.forEach((c, pj) => (pad[r * inn + c] = dP.data[pi * cols.length + pj]!)));
        expect(maxAbsDiff(dR.data, pad)).toBeLessThan(1e-6);
        if (lp) expect(maxAbs(dR.data)).toBeGreaterThan(1e-3);
      }
    }
    // Unpruned modules and lm_head are copied exactly.
    expect(rec.modules.get('lm_head')!.A.data).toEqual(trained.modules.get('lm_head')!.A.data);
    expect(rec.modules.get(moduleKey(0, 'q_proj'))!.B.data).toEqual(trained.modules.get(moduleKey(0, 'q_proj'))!.B.data);
  });

  test.each<[string, LlamaConfig, 'random' | 'taylor' | 'magnitude']>([
    ['GQA random', tinyConfig(), 'random'],
    ['GQA g=4 taylor', tinyConfig({ numKvHeads: 2 }), 'taylor'],
    ['MHA + bias + tied, magnitude', tinyConfig({ numKvHeads: 8, attentionBias: true, tieWordEmbeddings: true }), 'magnitude'],
  ])('(original with pruned units zeroed + recovered adapter) = (pruned model + trained adapter), to 1e-5: %s', async (_n, c, importance) => {
    const w0 = randomWeights(c, 2, 0.2);
    if (c.attentionBias) for (const [k, t] of w0) if (k.endsWith('.bias')) t.data.forEach((_, i) => (t.data[i] = 0.1 * Math.cos(i)));
    const pr = await pruneStructured(c, w0, { ratio: 0.5, importance, calibration: [randomBatch(c, 2, 6, 1)] });
    const trained = await trainedAdapter(pr.config, pr.weights);
    const rec = recoverStructured(trained, pr.plan, c);
    const small = logits(pr.config, pr.weights, trained);
    const big = logits(c, zeroPrunedUnits(w0, pr.plan), rec);
    expect(maxAbsDiff(small, big)).toBeLessThan(1e-5);
    // The adapter matters (not a vacuous equality).
    expect(maxAbsDiff(small, logits(pr.config, pr.weights, null))).toBeGreaterThan(1e-2);
  });

  test('merge W0 + (α/r)·B·A equals running with the adapter attached (incl. lm_head, tied untied)', async () => {
    for (const c of [cfg, tinyConfig({ tieWordEmbeddings: true })]) {
      const w0 = randomWeights(c, 3, 0.2);
      const pr = await pruneStructured(c, w0, { ratio: 0.5, importance: 'random' });
      const rec = recoverStructured(await trainedAdapter(pr.config, pr.weights), pr.plan, c);
      const merged = mergeLora(c, w0, rec);
      expect(merged.config.tieWordEmbeddings).toBe(false);
      const attached = logits(c, w0, rec);
      // Float32 sums in a different order: compare relative to the logit scale.
      expect(maxAbsDiff(logits(merged.config, merged.weights, null), attached) / maxAbs(attached)).toBeLessThan(1e-5);
      expect(maxAbs(attached)).toBeGreaterThan(1);
      // The input map is not modified.
      expect(merged.weights.get('model.embed_tokens.weight')).toBe(w0.get('model.embed_tokens.weight'));
    }
  });

  test('normA fills pruned input columns of o/down A with N(0, (1/r)²); B side stays zero-filled', async () => {
    const pr = await pruneStructured(cfg, w, { ratio: 0.5, importance: 'random' });
    const trained = await trainedAdapter(pr.config, pr.weights);
    const z = recoverStructured(trained, pr.plan, cfg);
    const n = recoverStructured(trained, pr.plan, cfg, { type: 'normA', seed: 1 });
    const lp = pr.plan.layers[0]!;
    const key = moduleKey(lp.layer, 'down_proj');
    const kept = new Set(lp.keptChannels);
    const A = n.modules.get(key)!.A;
    const Az = z.modules.get(key)!.A;
    const I = A.shape[1]!;
    let pr2 = 0;
    let cnt = 0;
    for (let r = 0; r < A.shape[0]!; r++) for (let c = 0; c < I; c++) {
      if (kept.has(c)) expect(A.data[r * I + c]).toBe(Az.data[r * I + c]);
      else {
        expect(Az.data[r * I + c]).toBe(0);
        pr2 += A.data[r * I + c]! ** 2;
        cnt++;
      }
    }
    expect(Math.sqrt(pr2 / cnt)).toBeGreaterThan(0.15);
    expect(Math.sqrt(pr2 / cnt)).toBeLessThan(0.35); // 1/r = 0.25
    expect(n.modules.get(moduleKey(lp.layer, 'up_proj'))!.B.data).toEqual(z.modules.get(moduleKey(lp.layer, 'up_proj'))!.B.data);
  });

  test('clear errors: plan from a different model, adapter shaped for another model, bad type', async () => {
    const pr = await pruneStructured(cfg, w, { ratio: 0.5, importance: 'random' });
    const trained = await trainedAdapter(pr.config, pr.weights, ['q_proj', 'down_proj']);
    const other = tinyConfig({ intermediateSize: 64 });
    expect(() => recoverStructured(trained, pr.plan, other)).toThrow(/prune plan was made from a different model.*intermediate_size: plan 48, model 64/);
    const pr2 = await pruneStructured(cfg, w, { ratio: 0.25, importance: 'random' });
    expect(() => recoverStructured(trained, pr2.plan, cfg)).toThrow(/adapter does not fit the pruned model of the plan[^]*model\.layers\.1\.self_attn\.q_proj: ΔW = B·A is \[16, 32\] \(lora_A \[4, 32\], lora_B \[16, 4\]\) but the model's model\.layers\.1\.self_attn\.q_proj\.weight is \[24, 32\]/);
    expect(() => recoverStructured(trained, pr.plan, cfg, { type: 'bad' as 'zeroA' })).toThrow(/zeroA/);
    // Merging an adapter shaped for the pruned model into the original is refused too.
    expect(() => mergeLora(cfg, w, trained)).toThrow(/adapter does not fit the model[^]*model\.layers\.1\.self_attn\.q_proj/);
  });
});

describe('non-structured recovery', () => {
  beforeAll(async () => {
    await initBackend();
  });

  const cfg = tinyConfig({ numLayers: 2 });
  const w = randomWeights(cfg, 4, 0.2);

  test('mask (default) vs identity', async () => {
    const sp = await pruneSparse(cfg, w, { method: 'wanda', pattern: '2:4', calibration: [randomBatch(cfg, 2, 8, 1)] });
    const trained = await trainedAdapter(cfg, sp.weights);
    const s = loraScale(trained.config);

    const masked = recoverSparse(trained, sp.plan, cfg);
    expect(masked.dense.size).toBe(2 * 7);
    expect([...masked.adapter.modules.keys()]).toEqual(['lm_head']); // not pruned → stays low-rank
    for (const [name, m] of sp.plan.masks) {
      const key = name.replace(/\.weight$/, '');
      const full = loraDelta(trained.modules.get(key)!, s);
      const d = masked.dense.get(name)!;
      const bits = unpackMask(m);
      for (let i = 0; i < bits.length; i++) expect(d.data[i]).toBe(bits[i] ? full.data[i] : 0);
    }
    const ident = recoverSparse(trained, sp.plan, cfg, { mode: 'identity' });
    expect(ident.dense.size).toBe(0);
    expect(ident.adapter.modules.size).toBe(trained.modules.size);

    // Merge paths: identity merge = attaching the adapter; mask merge = W0 + ΔW ⊙ M (+ lm_head low-rank).
    const mi = mergeRecovered(cfg, w, ident);
    const att = logits(cfg, w, trained);
    expect(maxAbsDiff(logits(mi.config, mi.weights, null), att) / maxAbs(att)).toBeLessThan(1e-5);
    const mm = mergeRecovered(cfg, w, masked);
    const q = linearName(1, 'q_proj');
    const expectQ: HostTensor = mergeDense(w, new Map([[q, masked.dense.get(q)!]])).get(q)!;
    expect(mm.weights.get(q)!.data).toEqual(expectQ.data);
    const head = mergeLora(cfg, w, { ...trained, modules: new Map([['lm_head', trained.modules.get('lm_head')!]]) }).weights.get('lm_head.weight')!;
    expect(mm.weights.get('lm_head.weight')!.data).toEqual(head.data);
    // Pruned positions of W0 receive no update under mask recovery.
    const bits = unpackMask(sp.plan.masks.get(q)!);
    const w0q = w.get(q)!;
    for (let i = 0; i < bits.length; i++) if (!bits[i]) expect(mm.weights.get(q)!.data[i]).toBe(w0q.data[i]);
    expect(maxAbsDiff(logits(mm.config, mm.weights, null), logits(mi.config, mi.weights, null))).toBeGreaterThan(1e-4);
  });

  test('errors: a plan from another model, a structured plan', async () => {
    const sp = await pruneSparse(cfg, w, { method: 'magnitude', pattern: 'unstructured', sparsity: 0.5 });
    const trained = await trainedAdapter(cfg, sp.weights, ['q_proj']);
    expect(() => recoverSparse(trained, sp.plan, tinyConfig({ numLayers: 3 }))).toThrow(/different model.*numLayers: plan 2, model 3/);
    const pr = await pruneStructured(cfg, w, { ratio: 0.5, importance: 'random', layerRange: [0, 1] });
    expect(() => recoverSparse(trained, pr.plan as never, cfg)).toThrow(/expected a sparse prune plan/);
  });
});
