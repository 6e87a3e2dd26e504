/**
 * Hugging Face LLaMA checkpoints with `attention_bias: true` carry a bias on o_proj as well as on q/k/v. Such a
 * checkpoint loads, exports to ONNX with the logits of the tfjs forward (to 1e-4), keeps its o_proj bias through
 * structured pruning (it lives in the hidden dimension) and through LoRA recovery and merging.
 */
import os from 'node:os';
import path from 'node:path';
import { promises as fsp } from 'node:fs';
import { initBackend } from '../../../src/loram/backend/backend';
import { loadModelDir, saveModelDir } from '../../../src/loram/io/model-dir';
import { LlamaModel, randomWeights } from '../../../src/loram/model/llama';
import { rightPad } from '../../../src/loram/eval/lm';
import { exportOnnx } from '../../../src/loram/onnx/export';
import { OrtCausalLM } from '../../../src/loram/onnx/runtime';
import { pruneStructured } from '../../../src/loram/prune/structured';
import { zeroPrunedUnits } from '../../../src/loram/prune/plan';
import { recoverStructured } from '../../../src/loram/recover/structured';
import { mergeLora } from '../../../src/loram/recover/merge';
import { maxRelErr, randomAdapter, randomIds, tfjsLogits, tiny, withBiases } from './helpers';

const O_BIAS = 'model.layers.1.self_attn.o_proj.bias';
let tmp: string;
beforeAll(async () => {
  await initBackend();
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'loram-attn-bias-'));
});
afterAll(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});

/** A checkpoint written as HF writes one: config.json says attention_bias, safetensors hold q/k/v/o biases. */
async function biasedCheckpoint(): Promise<string> {
  const cfg = tiny({ attentionBias: true });
  const dir = path.join(tmp, 'hf');
  await saveModelDir(dir, cfg, withBiases(randomWeights(cfg, 31, 0.2)));
  const hf = JSON.parse(await fsp.readFile(path.join(dir, 'config.json'), 'utf8'));
  expect(hf.attention_bias).toBe(true);
  return dir;
}

function logitsOf(cfg: Parameters<typeof LlamaModel.fromWeights>[0], w: Parameters<typeof LlamaModel.fromWeights>[1], batch: ReturnType<typeof rightPad>) {
  const m = LlamaModel.fromWeights(cfg, w);
  try {
    return tfjsLogits(m, batch.ids, batch.batch, batch.seqLen, batch.mask);
  } finally {
    m.dispose();
  }
}

describe('o_proj bias (attention_bias: true)', () => {
  test('a checkpoint with q/k/v/o biases loads and its ONNX export matches the tfjs forward to 1e-4', async () => {
    const { config, weights } = await loadModelDir(await biasedCheckpoint());
    expect(weights.get(O_BIAS)!.shape).toEqual([config.hiddenSize]);
    const V = config.vocabSize;
    const batch = rightPad([randomIds(10, V, 1), randomIds(6, V, 2)], 0);
    const ref = logitsOf(config, weights, batch);
    // The o_proj bias is used: without it the logits differ.
    const noBias = new Map(weights).set(O_BIAS, { shape: [config.hiddenSize], data: new Float32Array(config.hiddenSize) });
    expect(maxRelErr(logitsOf(config, noBias, batch), ref)).toBeGreaterThan(1e-3);
    const keep = (i: number) => batch.mask![Math.floor(i / V)] === 1;
    for (const kind of ['logits', 'kv'] as const) {
      const art = await exportOnnx(config, weights, path.join(tmp, kind), { kind });
      const lm = await OrtCausalLM.open(kind === 'logits' ? { logits: art } : { kv: art }, { threads: 1 });
      try {
        expect(maxRelErr(await lm.logits(batch), ref, keep)).toBeLessThan(1e-4);
      } finally {
        await lm.dispose();
      }
    }
  });

  test('structured pruning keeps the o_proj bias, and the pruned model computes the original with pruned units zeroed', async () => {
    const { config, weights } = await loadModelDir(await biasedCheckpoint());
    const pruned = await pruneStructured(config, weights, { ratio: 0.5, importance: 'magnitude', layerRange: [0, 2] });
    expect(pruned.weights.get(O_BIAS)!.data).toEqual(weights.get(O_BIAS)!.data);
    const batch = rightPad([randomIds(8, config.vocabSize, 3)], 0);
    const zeroed = zeroPrunedUnits(weights, pruned.plan);
    expect(maxRelErr(logitsOf(pruned.config, pruned.weights, batch), logitsOf(config, zeroed, batch))).toBeLessThan(1e-5);
  });

  test('an adapter trained on the pruned model recovers and merges onto the original, o_proj bias untouched', async () => {
    const { config, weights } = await loadModelDir(await biasedCheckpoint());
    const pruned = await pruneStructured(config, weights, { ratio: 0.5, importance: 'magnitude', layerRange: [0, 2] });
    const adapter = randomAdapter(pruned.config, 32, ['q_proj', 'o_proj', 'down_proj']);
    const recovered = recoverStructured(adapter, pruned.plan, config);
    const merged = mergeLora(config, weights, recovered);
    expect(merged.weights.get(O_BIAS)!.data).toEqual(weights.get(O_BIAS)!.data);
    const art = await exportOnnx(merged.config, merged.weights, path.join(tmp, 'merged'));
    const lm = await OrtCausalLM.open({ logits: art }, { threads: 1 });
    try {
      const batch = rightPad([randomIds(9, config.vocabSize, 4)], 0);
      expect(maxRelErr(await lm.logits(batch), logitsOf(merged.config, merged.weights, batch))).toBeLessThan(1e-4);
    } finally {
      await lm.dispose();
    }
  });
});
