import { initBackend } from '../../../src/loram/backend/backend';
import { LINEAR_MODULES, linearName } from '../../../src/loram/model/config';
import type { LlamaConfig } from '../../../src/loram/model/config';
import { LlamaModel, randomWeights } from '../../../src/loram/model/llama';
import type { LmBatch } from '../../../src/loram/model/loss';
import {
  CaptureLinear,
  applyMask,
  countKept,
  magnitudePrune,
  maskFromBase64,
  maskToBase64,
  packMask,
  planFromJson,
  planToJson,
  pruneSparse,
  sparseGptPrune,
  unpackMask,
  wandaPrune,
} from '../../../src/loram/prune';
import type { MatrixPattern, SparsePrunePlan } from '../../../src/loram/prune';
import { Rng } from '../../../src/loram/util/rng';
import type { HostTensor, WeightMap } from '../../../src/loram/util/tensor';
import { logitsOf, maxAbsDiff, randomBatch, tinyConfig } from '../../helpers/loram-fixtures';

/** Correlated activations with uneven column scales (as LLM activations have). */
function activations(n: number, d: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const mix = Float64Array.from({ length: d * d }, () => rng.normal());
  const scale = Float64Array.from({ length: d }, (_, j) => (j % 7 === 0 ? 8 : 1) * (0.5 + rng.next()));
  const X = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const z = Float64Array.from({ length: d }, () => rng.normal());
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += z[k]! * mix[k * d + j]! * (k < d / 4 ? 1 : 0.2);
      X[i * d + j] = s * scale[j]!;
    }
  }
  return X;
}

function gram(X: Float64Array, n: number, d: number): Float64Array {
  const G = new Float64Array(d * d);
  for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) {
    const xa = X[i * d + a]!;
    for (let b = 0; b < d; b++) G[a * d + b]! += xa * X[i * d + b]!;
  }
  return G;
}

/** ‖X·Wᵀ − X·Ŵᵀ‖_F² via the Gram matrix: Σ_rows δᵀ G δ. */
function reconError(G: Float64Array, W: HostTensor, Wh: HostTensor): number {
  const [rows, d] = W.shape as [number, number];
  let e = 0;
  for (let r = 0; r < rows; r++) {
    const dl = Float64Array.from({ length: d }, (_, j) => W.data[r * d + j]! - Wh.data[r * d + j]!);
    for (let a = 0; a < d; a++) {
      if (dl[a] === 0) continue;
      let s = 0;
      for (let b = 0; b < d; b++) s += G[a * d + b]! * dl[b]!;
      e += dl[a]! * s;
    }
  }
  return e;
}

function expectNm(t: HostTensor, n: number, m: number): void {
  const [rows, cols] = t.shape as [number, number];
  for (let r = 0; r < rows; r++) for (let g = 0; g < cols; g += m) {
    let nz = 0;
    for (let k = 0; k < m; k++) if (t.data[r * cols + g + k] !== 0) nz++;
    if (nz !== n) throw new Error(`row ${r} group ${g / m}: ${nz} nonzeros, expected ${n}`);
  }
}

function sparsityOf(t: HostTensor): number {
  let z = 0;
  for (const v of t.data) if (v === 0) z++;
  return z / t.data.length;
}

describe('non-structured pruning kernels', () => {
  const d = 64;
  const rows = 48;
  const n = 512;
  const X = activations(n, d, 1);
  const G = gram(X, n, d);
  const H = G.map((v) => (2 * v) / n);
  const colSq = Float64Array.from({ length: d }, (_, j) => G[j * d + j]!);
  const rng = new Rng(2);
  const W: HostTensor = { shape: [rows, d], data: Float32Array.from({ length: rows * d }, () => rng.normal() * 0.1) };

  test.each<[string, MatrixPattern]>([
    ['unstructured 50%', { kind: 'unstructured', sparsity: 0.5 }],
    ['unstructured 55%', { kind: 'unstructured', sparsity: 0.55 }],
    ['2:4', { kind: 'nm', n: 2, m: 4 }],
  ])('SparseGPT has lower layer-output reconstruction error than magnitude pruning: %s', (_n, pattern) => {
    const sg = sparseGptPrune(W, H, pattern, { blockSize: 16 });
    const mag = magnitudePrune(W, pattern);
    const wa = wandaPrune(W, colSq, pattern);
    const s = pattern.kind === 'nm' ? 0.5 : pattern.sparsity;
    for (const r of [sg, mag, wa]) {
      expect(Math.abs(sparsityOf(r.weight) - s)).toBeLessThan(0.01);
      // The mask describes the zeros.
      const bits = unpackMask(r.mask);
      for (let i = 0; i < bits.length; i++) if (!bits[i]) expect(r.weight.data[i]).toBe(0);
    }
    const eSg = reconError(G, W, sg.weight);
    const eMag = reconError(G, W, mag.weight);
    const eWa = reconError(G, W, wa.weight);
    expect(eSg).toBeLessThan(0.7 * eMag);
    expect(eSg).toBeLessThan(eWa);
    expect(eWa).toBeLessThan(eMag); // activation-aware beats plain magnitude on uneven activations
    if (pattern.kind === 'nm') for (const r of [sg, mag, wa]) expectNm(r.weight, 2, 4);
  });

  test('SparseGPT updates the surviving weights (not just W ⊙ M), and with sparsity 0 is the identity', () => {
    const sg = sparseGptPrune(W, H, { kind: 'unstructured', sparsity: 0.5 });
    const masked = applyMask(W, sg.mask);
    expect(maxAbsDiff(sg.weight.data, masked.data)).toBeGreaterThan(1e-3);
    const id = sparseGptPrune(W, H, { kind: 'unstructured', sparsity: 0 });
    expect(maxAbsDiff(id.weight.data, W.data)).toBeLessThan(1e-6);
    expect(countKept(id.mask)).toBe(rows * d);
  });

  test('masks pack to one bit per weight and round-trip through base64', () => {
    const keep = Uint8Array.from({ length: 7 * 9 }, (_, i) => (i * 5) % 3 === 0 ? 1 : 0);
    const m = packMask(keep, [7, 9]);
    expect(m.bits.length).toBe(Math.ceil(63 / 8));
    expect(unpackMask(m)).toEqual(keep);
    expect(unpackMask(maskFromBase64(maskToBase64(m), [7, 9]))).toEqual(keep);
    expect(countKept(m)).toBe(keep.reduce((a, b) => a + b, 0));
    expect(() => sparseGptPrune({ shape: [2, 6], data: new Float32Array(12) }, new Float64Array(36), { kind: 'nm', n: 2, m: 4 })).toThrow(/multiple of 4/);
  });
});

describe('non-structured pruning of a model', () => {
  beforeAll(async () => {
    await initBackend();
  });

  const cfg = tinyConfig({ numLayers: 3 });
  const w = randomWeights(cfg, 4, 0.2);
  const calibration = [randomBatch(cfg, 4, 16, 1), randomBatch(cfg, 4, 16, 2)];

  function logitErr(a: WeightMap): number {
    const m0 = LlamaModel.fromWeights(cfg, w, { trainable: false });
    const m1 = LlamaModel.fromWeights(cfg, a, { trainable: false });
    try {
      let e = 0;
      for (const b of calibration) {
        const x = logitsOf(m0, b);
        const y = logitsOf(m1, b);
        for (let i = 0; i < x.length; i++) e += (x[i]! - y[i]!) ** 2;
      }
      return e;
    } finally {
      m0.dispose();
      m1.dispose();
    }
  }

  /** Inputs of layer 0's q_proj on the calibration data (identical for every method: nothing before it is pruned). */
  function layer0Gram(): Float64Array {
    const m = LlamaModel.fromWeights(cfg, w, { trainable: false });
    const H = cfg.hiddenSize;
    const G = new Float64Array(H * H);
    const cap = new CaptureLinear(m.layers[0]!.linears.q_proj, (x) => {
      const xs = x.dataSync();
      const N = x.shape[0];
      for (let i = 0; i < N; i++) for (let a = 0; a < H; a++) for (let b = 0; b < H; b++) G[a * H + b]! += xs[i * H + a]! * xs[i * H + b]!;
    });
    m.setLinear(0, 'q_proj', cap);
    for (const b of calibration) logitsOf(m, b);
    m.dispose();
    return G;
  }

  test('2:4 (LoRAM-Semi): exactly 2 nonzeros in every group of 4 inputs of every row, all 7 linears of all layers', async () => {
    for (const method of ['sparsegpt', 'wanda', 'magnitude'] as const) {
      const r = await pruneSparse(cfg, w, { method, pattern: '2:4', calibration });
      expect(r.plan.layerRange).toEqual([0, 3]);
      expect(r.plan.masks.size).toBe(3 * 7);
      expect(r.plan.sparsity).toBe(0.5);
      for (let i = 0; i < 3; i++) for (const mod of LINEAR_MODULES) {
        const name = linearName(i, mod);
        const t = r.weights.get(name)!;
        expect(t.shape).toEqual(w.get(name)!.shape);
        expectNm(t, 2, 4);
        const bits = unpackMask(r.plan.masks.get(name)!);
        expectNm({ shape: t.shape, data: Float32Array.from(bits) }, 2, 4);
      }
      expect(r.weights.get('model.embed_tokens.weight')).toBe(w.get('model.embed_tokens.weight'));
    }
  });

  test('SparseGPT beats magnitude on layer-output reconstruction and on the final logits', async () => {
    const G = layer0Gram();
    for (const pattern of ['2:4', 'unstructured'] as const) {
      const sg = await pruneSparse(cfg, w, { method: 'sparsegpt', pattern, sparsity: 0.55, calibration });
      const mag = await pruneSparse(cfg, w, { method: 'magnitude', pattern, sparsity: 0.55 });
      const q = linearName(0, 'q_proj');
      expect(reconError(G, w.get(q)!, sg.weights.get(q)!)).toBeLessThan(reconError(G, w.get(q)!, mag.weights.get(q)!));
      expect(logitErr(sg.weights)).toBeLessThan(logitErr(mag.weights));
    }
  });

  test('unstructured (LoRAM-Unst): sparsity per linear, masks match zeros, range and modules respected, plan JSON round trip', async () => {
    const r = await pruneSparse(cfg, w, { method: 'sparsegpt', pattern: 'unstructured', sparsity: 0.55, calibration, layerRange: [1, 3], modules: ['q_proj', 'down_proj'] });
    expect([...r.plan.masks.keys()].sort()).toEqual([linearName(1, 'down_proj'), linearName(1, 'q_proj'), linearName(2, 'down_proj'), linearName(2, 'q_proj')].sort());
    for (const [name, m] of r.plan.masks) {
      const t = r.weights.get(name)!;
      expect(Math.abs(sparsityOf(t) - 0.55)).toBeLessThan(0.01);
      const bits = unpackMask(m);
      t.data.forEach((v, i) => expect(v === 0).toBe(bits[i] === 0));
    }
    expect(r.weights.get(linearName(0, 'q_proj'))).toBe(w.get(linearName(0, 'q_proj')));
    expect(r.weights.get(linearName(1, 'k_proj'))).toBe(w.get(linearName(1, 'k_proj')));
    const back = planFromJson(JSON.parse(JSON.stringify(planToJson(r.plan)))) as SparsePrunePlan;
    expect(back.kind).toBe('sparse');
    for (const [k, m] of r.plan.masks) expect(back.masks.get(k)!.bits).toEqual(m.bits);
  });

  test('padding positions do not count as calibration tokens', async () => {
    const a = randomBatch(cfg, 1, 8, 5);
    const b = randomBatch(cfg, 1, 4, 6);
    const padded: LmBatch = {
      inputIds: Int32Array.from([...a.inputIds, ...b.inputIds, 0, 0, 0, 0]),
      labels: Int32Array.from([...a.labels, ...b.labels, -100, -100, -100, -100]),
      attentionMask: Int32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]),
      batch: 2,
      seqLen: 8,
    };
    const r1 = await pruneSparse(cfg, w, { method: 'wanda', pattern: 'unstructured', sparsity: 0.5, calibration: [padded] });
    const r2 = await pruneSparse(cfg, w, { method: 'wanda', pattern: 'unstructured', sparsity: 0.5, calibration: [a, b] });
    for (const [k, m] of r1.plan.masks) expect(m.bits).toEqual(r2.plan.masks.get(k)!.bits);
  });

  test('clear errors: no calibration, N:M on a width not divisible by M, bad sparsity', async () => {
    await expect(pruneSparse(cfg, w, { method: 'sparsegpt', pattern: '2:4' })).rejects.toThrow(/SparseGPT needs calibration batches/);
    await expect(pruneSparse(cfg, w, { method: 'wanda', pattern: 'unstructured', sparsity: 0.5, calibration: [] })).rejects.toThrow(/Wanda needs calibration/);
    const odd: LlamaConfig = tinyConfig({ numLayers: 2, intermediateSize: 50 });
    await expect(pruneSparse(odd, randomWeights(odd, 1), { method: 'magnitude', pattern: '2:4' })).rejects.toThrow(/down_proj.*multiple of 4, got 50/);
    await expect(pruneSparse(cfg, w, { method: 'magnitude', pattern: 'unstructured', sparsity: 1.5 })).rejects.toThrow(/sparsity/);
    await expect(pruneSparse(cfg, w, { method: 'magnitude', pattern: '4:2' as '2:4' })).rejects.toThrow(/N < M/);
  });
});
