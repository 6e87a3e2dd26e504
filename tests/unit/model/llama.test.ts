import { tf } from '../../../src/loram/backend/tf';
import { initBackend } from '../../../src/loram/backend/backend';
import { makeConfig, parseHfConfig, toHfConfig } from '../../../src/loram/model/config';
import type { LlamaConfig } from '../../../src/loram/model/config';
import { LlamaModel, randomWeights } from '../../../src/loram/model/llama';
import { lmLoss, IGNORE_INDEX } from '../../../src/loram/model/loss';
import type { LmBatch } from '../../../src/loram/model/loss';
import { train } from '../../../src/loram/train/trainer';
import { referenceLogits } from '../../helpers/reference-llama';
import { Rng } from '../../../src/loram/util/rng';

const tiny = (o: Partial<Parameters<typeof makeConfig>[0]> = {}) =>
  makeConfig({ vocabSize: 37, hiddenSize: 16, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 24, ...o });

function randomBatch(cfg: LlamaConfig, B: number, T: number, seed: number): LmBatch {
  const rng = new Rng(seed);
  const inputIds = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocabSize));
  const labels = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocabSize));
  return { inputIds, labels, batch: B, seqLen: T };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('LLaMA model (tfjs)', () => {
  beforeAll(async () => {
    await initBackend();
  });

  const variants: [string, LlamaConfig][] = [
    ['GQA untied', tiny()],
    ['MHA tied + qkv bias', tiny({ numKvHeads: 4, tieWordEmbeddings: true, attentionBias: true })],
    ['GQA with 4 query heads per KV head', tiny({ hiddenSize: 32, numHeads: 8, numKvHeads: 2 })],
    ['llama3 rope scaling', tiny({ ropeTheta: 500000, ropeScaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8 } })],
    [
      'per-layer sizes (pruned shape)',
      {
        ...tiny({ numLayers: 3 }),
        layers: [
          { num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 24 },
          { num_attention_heads: 2, num_key_value_heads: 1, intermediate_size: 9 },
          { num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 24 },
        ],
      },
    ],
  ];

  test.each(variants)('forward matches a naive float64 reference: %s', (_name, cfg) => {
    const w = randomWeights(cfg, 5, 0.2);
    if (cfg.attentionBias) for (const [k, t] of w) if (k.endsWith('.bias')) t.data.forEach((_, i) => (t.data[i] = 0.1 * Math.sin(i + k.length)));
    const m = LlamaModel.fromWeights(cfg, w);
    const ids = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];
    const got = tf.tidy(() => m.forward(tf.tensor2d([ids], [1, ids.length], 'int32')).dataSync().slice());
    const ref = referenceLogits(cfg, w, ids);
    const flat = Float64Array.from(ref.flatMap((r) => [...r]));
    expect(maxAbsDiff(got, flat)).toBeLessThan(1e-4);
    m.dispose();
  });

  test('right padding does not change the logits of real tokens', () => {
    const cfg = tiny();
    const m = LlamaModel.random(cfg, 2, 0.2);
    const a = [5, 6, 7, 8];
    const both = tf.tidy(() =>
      m.forward(tf.tensor2d([[...a, 0, 0], [1, 2, 3, 4, 5, 6]], [2, 6], 'int32'), { attentionMask: tf.tensor2d([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], [2, 6], 'int32') }).arraySync(),
    ) as number[][][];
    const alone = tf.tidy(() => m.forward(tf.tensor2d([a], [1, 4], 'int32')).arraySync()) as number[][][];
    for (let t = 0; t < 4; t++) expect(maxAbsDiff(both[0]![t]!, alone[0]![t]!)).toBeLessThan(1e-5);
    m.dispose();
  });

  test('finite-difference gradient check on a tiny config', async () => {
    await tf.setBackend('cpu'); // exact same kernels for f(θ±h) and the gradient
    try {
      const cfg = tiny({ vocabSize: 11, hiddenSize: 8, numHeads: 2, numKvHeads: 1, intermediateSize: 12 });
      const m = LlamaModel.random(cfg, 3, 0.5);
      const b = randomBatch(cfg, 2, 5, 9);
      b.labels[3] = IGNORE_INDEX;
      const vars = m.variables();
      const { grads } = tf.variableGrads(() => lmLoss(m, b).loss, vars);
      const rng = new Rng(1);
      let checked = 0;
      for (const v of vars) {
        const g = grads[v.name]!.dataSync();
        const base = v.dataSync().slice();
        for (let trial = 0; trial < 3; trial++) {
          const i = rng.int(base.length);
          const h = 1e-2;
          const at = (delta: number) => {
            const d = base.slice();
            d[i]! += delta;
            v.assign(tf.tensor(d, v.shape));
            return tf.tidy(() => lmLoss(m, b).loss.dataSync()[0]!);
          };
          const fd = (at(h) - at(-h)) / (2 * h);
          v.assign(tf.tensor(base, v.shape));
          expect(Math.abs(fd - g[i]!)).toBeLessThan(2e-3 + 2e-2 * Math.abs(fd));
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(30);
      tf.dispose(Object.values(grads));
      m.dispose();
    } finally {
      await tf.setBackend('wasm');
    }
  });

  test('a random tiny model trained 100 steps on a fixed batch at least halves its loss, without leaking tensors', async () => {
    const cfg = tiny({ vocabSize: 64, hiddenSize: 32, numHeads: 4, numKvHeads: 2, intermediateSize: 48 });
    const m = LlamaModel.random(cfg, 4);
    const b = randomBatch(cfg, 4, 16, 10);
    const before = tf.memory().numTensors;
    const steps: number[] = [];
    const r = await train({
      params: m.variables(),
      config: { steps: 100, lr: 1e-2, warmupSteps: 5, schedule: 'cosine', maxGradNorm: 1, gradAccum: 2, seed: 1, adamw: { weightDecay: 0.01 } },
      microLoss: () => {
        const { loss, count } = lmLoss(m, b);
        return { loss, count, positions: b.batch * b.seqLen };
      },
      onStep: (s) => void steps.push(s.step),
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(steps).toHaveLength(100);
    expect(r.finalLoss).toBeLessThan(r.losses[0]! / 2);
    m.dispose();
  });

  test('training is deterministic for a seed', async () => {
    const cfg = tiny();
    const run = async () => {
      const m = LlamaModel.random(cfg, 4);
      const b = randomBatch(cfg, 2, 8, 3);
      const r = await train({
        params: m.variables(),
        config: { steps: 5, lr: 5e-3, warmupSteps: 0, schedule: 'constant', maxGradNorm: 1, gradAccum: 1, seed: 7 },
        microLoss: () => ({ ...lmLoss(m, b), positions: 16 }),
      });
      const w = m.toWeights().get('model.layers.1.mlp.down_proj.weight')!.data.slice();
      m.dispose();
      return { losses: r.losses, w };
    };
    const a = await run();
    const b = await run();
    expect(a.losses).toEqual(b.losses);
    expect(Array.from(a.w)).toEqual(Array.from(b.w));
  });

  test('cancelling from the progress callback stops at that step and leaks nothing', async () => {
    const cfg = tiny();
    const m = LlamaModel.random(cfg, 4);
    const b = randomBatch(cfg, 2, 8, 3);
    const before = tf.memory().numTensors;
    let last = 0;
    await expect(
      train({
        params: m.variables(),
        config: { steps: 50, lr: 1e-3, warmupSteps: 0, schedule: 'constant', maxGradNorm: 1, gradAccum: 1, seed: 7 },
        microLoss: () => ({ ...lmLoss(m, b), positions: 16 }),
        onStep: (s) => {
          last = s.step;
          if (s.step === 3) throw new Error('stop');
        },
      }),
    ).rejects.toThrow('stop');
    expect(last).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  test('toWeights round-trips and config.json round-trips the per-layer extension', () => {
    const cfg = variants.find(([n]) => n.startsWith('per-layer'))![1];
    const w = randomWeights(cfg, 1);
    const m = LlamaModel.fromWeights(cfg, w);
    const back = m.toWeights();
    for (const [k, t] of w) expect(maxAbsDiff(back.get(k)!.data, t.data)).toBe(0);
    const json = JSON.parse(JSON.stringify(toHfConfig(cfg)));
    expect(json.loram_per_layer).toHaveLength(3);
    expect(parseHfConfig(json).layers).toEqual(cfg.layers);
    m.dispose();
  });

  test('weights that do not fit the config are refused with the tensor name and both shapes', () => {
    const cfg = tiny();
    const w = randomWeights(cfg, 1);
    w.delete('model.layers.1.mlp.up_proj.weight');
    expect(() => LlamaModel.fromWeights(cfg, w)).toThrow(/missing tensor model\.layers\.1\.mlp\.up_proj\.weight \(expected shape \[24, 16\]\)/);
    const w2 = randomWeights(cfg, 1);
    w2.set('model.layers.0.self_attn.k_proj.weight', { shape: [16, 16], data: new Float32Array(256) });
    expect(() => LlamaModel.fromWeights(cfg, w2)).toThrow(/model\.layers\.0\.self_attn\.k_proj\.weight has shape \[16, 16\], expected \[8, 16\]/);
  });
});
