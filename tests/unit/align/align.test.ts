import { initBackend } from '../../../src/loram/backend/backend';
import { LlamaModel, randomWeights } from '../../../src/loram/model/llama';
import { ALIGN_DEFAULTS, alignModel, alignParams, meanLoss } from '../../../src/loram/align';
import { DEFAULT_LORA_SPEC, attachLora } from '../../../src/loram/lora';
import { pruneStructured } from '../../../src/loram/prune';
import { quantizeModel } from '../../../src/loram/quant/nf4-linear';
import { lrAt } from '../../../src/loram/train/schedule';
import { patternBatch, tinyConfig } from '../../helpers/loram-fixtures';

describe('alignment (continual pre-training of the pruned model)', () => {
  beforeAll(async () => {
    await initBackend();
  });

  test('trains every parameter except lm_head and lowers held-out loss of the pruned model', async () => {
    const cfg = tinyConfig({ vocabSize: 23 });
    const w = randomWeights(cfg, 2, 0.1);
    const pr = await pruneStructured(cfg, w, { ratio: 0.5, importance: 'magnitude' });
    const m = LlamaModel.fromWeights(pr.config, pr.weights, { trainable: true });
    const before = m.toWeights();
    const corpus = Array.from({ length: 8 }, (_, i) => patternBatch(pr.config, 4, 12, 10 + i));
    const held = [patternBatch(pr.config, 8, 12, 77)];
    const l0 = meanLoss(m, held);
    const steps: number[] = [];
    const r = await alignModel(m, { batches: corpus, steps: 30, lr: 3e-3, evalBatches: held, evalEvery: 10, onStep: (i) => void steps.push(i.step) });
    expect(r.steps).toBe(30);
    expect(steps).toEqual([...Array(30).keys()].map((i) => i + 1));
    expect(r.evalLosses.map((e) => e.step)).toEqual([10, 20, 30]);
    expect(r.evalLosses[2]!.loss).toBeLessThan(l0 - 0.3);
    expect(meanLoss(m, held)).toBeCloseTo(r.evalLosses[2]!.loss, 5);
    const after = m.toWeights();
    expect(after.get('lm_head.weight')!.data).toEqual(before.get('lm_head.weight')!.data);
    for (const name of ['model.embed_tokens.weight', 'model.layers.1.self_attn.q_proj.weight', 'model.layers.2.mlp.down_proj.weight', 'model.norm.weight', 'model.layers.0.input_layernorm.weight']) {
      expect(after.get(name)!.data).not.toEqual(before.get(name)!.data);
    }
    // Shapes unchanged (still the pruned model).
    for (const [k, t] of before) expect(after.get(k)!.shape).toEqual(t.shape);
    m.dispose();
  });

  test('defaults follow §3 (lr 5e-5, cosine, warmup) scaled down', () => {
    expect(ALIGN_DEFAULTS.lr).toBe(5e-5);
    expect(ALIGN_DEFAULTS.schedule).toBe('cosine');
    expect(ALIGN_DEFAULTS.weightDecay).toBe(0);
    expect(ALIGN_DEFAULTS.seed).toBe(42);
    // warmup min(100, ceil(steps/8)): the paper's 100 of 800 steps.
    const c = { kind: 'cosine' as const, peakLr: 5e-5, warmupSteps: 25, totalSteps: 200 };
    expect(lrAt(c, 24)).toBeCloseTo(5e-5, 12);
    expect(lrAt(c, 199)).toBeLessThan(1e-7);
  });

  test('tied embeddings: the embedding is lm_head, so it stays frozen too; refusals are clear', async () => {
    const cfg = tinyConfig({ tieWordEmbeddings: true, numLayers: 2 });
    const m = LlamaModel.random(cfg, 1, 0.1);
    expect(alignParams(m)).not.toContain(m.embed);
    const emb = m.embed.dataSync().slice();
    await alignModel(m, { batches: [patternBatch(cfg, 2, 8, 1)], steps: 3, lr: 1e-3 });
    expect(m.embed.dataSync()).toEqual(emb);
    m.dispose();

    const frozen = LlamaModel.random(cfg, 1, 0.1, { trainable: false });
    expect(() => alignParams(frozen)).toThrow(/frozen or quantized/);
    frozen.dispose();
    const q = LlamaModel.random(cfg, 1, 0.1);
    quantizeModel(q);
    expect(() => alignParams(q)).toThrow(/quantize after aligning/);
    q.dispose();
    const l = LlamaModel.random(cfg, 1, 0.1);
    const h = attachLora(l, DEFAULT_LORA_SPEC);
    expect(() => alignParams(l)).toThrow(/LoRA/);
    h.detach();
    l.dispose();
  });
});
