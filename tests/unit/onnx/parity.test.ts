/**
 * Acceptance: ONNX Runtime logits equal TensorFlow.js logits (max relative error ≤ 1e-4, relative to the
 * largest |logit|) for a random tiny model, structurally pruned shapes and a merged adapter — on padded
 * batches, through both exported graphs (logits and kv with an empty cache).
 */
import os from 'node:os';
import path from 'node:path';
import { promises as fsp } from 'node:fs';
import { initBackend } from '../../../src/loram/backend/backend';
import type { LlamaConfig } from '../../../src/loram/model/config';
import { LlamaModel, randomWeights } from '../../../src/loram/model/llama';
import { attachLora } from '../../../src/loram/lora/attach';
import { mergeLora as mergeAdapter } from '../../../src/loram/recover/merge';
import { rightPad } from '../../../src/loram/eval/lm';
import { exportOnnx } from '../../../src/loram/onnx/export';
import { OrtCausalLM } from '../../../src/loram/onnx/runtime';
import type { WeightMap } from '../../../src/loram/util/tensor';
import { maxRelErr, prunedShape, randomAdapter, randomIds, tfjsLogits, tiny, withBiases } from './helpers';

let tmp: string;
beforeAll(async () => {
  await initBackend();
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'loram-onnx-parity-'));
});
afterAll(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});

const variants: [string, () => { cfg: LlamaConfig; w: WeightMap }][] = [
  ['random tiny (GQA, untied)', () => ({ cfg: tiny(), w: randomWeights(tiny(), 11, 0.2) })],
  [
    'MHA, tied, q/k/v bias, llama3 RoPE scaling',
    () => {
      const cfg = tiny({ numKvHeads: 4, tieWordEmbeddings: true, attentionBias: true, ropeTheta: 500000, ropeScaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8 } });
      return { cfg, w: withBiases(randomWeights(cfg, 12, 0.2)) };
    },
  ],
  ['structurally pruned (per-layer heads/MLP, an attention-less and an MLP-less layer)', () => ({ cfg: prunedShape(), w: randomWeights(prunedShape(), 13, 0.2) })],
  [
    'merged adapter (all linears + lm_head, tied base gets untied)',
    () => {
      const base = tiny({ tieWordEmbeddings: true });
      const m = mergeAdapter(base, randomWeights(base, 14, 0.2), randomAdapter(base, 15, ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj', 'lm_head']));
      return { cfg: m.config, w: m.weights };
    },
  ],
];

describe('ONNX export runs in ONNX Runtime with the logits of LlamaModel.forward', () => {
  test.each(variants)('%s', async (name, make) => {
    const { cfg, w } = make();
    const tag = name.replace(/[^a-z]+/gi, '-').slice(0, 30);
    const logitsArt = await exportOnnx(cfg, w, path.join(tmp, `${tag}-logits`), { kind: 'logits' });
    const kvArt = await exportOnnx(cfg, w, path.join(tmp, `${tag}-kv`), { kind: 'kv' });
    const tfModel = LlamaModel.fromWeights(cfg, w);
    const V = cfg.vocabSize;
    const rows = [randomIds(12, V, 1), randomIds(7, V, 2), randomIds(1, V, 3)];
    const batch = rightPad(rows, 0);
    const ref = tfjsLogits(tfModel, batch.ids, batch.batch, batch.seqLen, batch.mask);
    const keep = (i: number) => batch.mask![Math.floor(i / V)] === 1;
    for (const art of [logitsArt, kvArt]) {
      const lm = await OrtCausalLM.open(art.kind === 'logits' ? { logits: art } : { kv: art }, { threads: 1 });
      const got = await lm.logits(batch);
      expect(got.length).toBe(ref.length);
      expect(maxRelErr(got, ref, keep)).toBeLessThan(1e-4);
      // Unpadded single row too.
      const one = rightPad([rows[0]!], 0);
      expect(maxRelErr(await lm.logits(one), tfjsLogits(tfModel, one.ids, 1, 12))).toBeLessThan(1e-4);
      await lm.dispose();
    }
    tfModel.dispose();
  });

  test('merged adapter in ONNX Runtime = adapter attached as LoRA layers in tfjs (independent path)', async () => {
    const cfg = prunedShape();
    const base = randomWeights(cfg, 21, 0.2);
    // attachLora wants every targeted module of the chosen layers, so adapt the layers that have them all.
    const adapter = randomAdapter(cfg, 22, undefined, [0, 1]);
    const merged = mergeAdapter(cfg, base, adapter);
    const art = await exportOnnx(merged.config, merged.weights, path.join(tmp, 'attached-vs-merged'));
    const lm = await OrtCausalLM.open({ logits: art }, { threads: 1 });
    const tfModel = LlamaModel.fromWeights(cfg, base, { trainable: false });
    const handle = attachLora(tfModel, adapter);
    const ids = Int32Array.from(randomIds(10, cfg.vocabSize, 5));
    const ref = tfjsLogits(tfModel, ids, 1, 10);
    const got = await lm.logits({ ids, batch: 1, seqLen: 10 });
    expect(maxRelErr(got, ref)).toBeLessThan(1e-4);
    // …and the adapter really changes the output (so the comparison is not vacuous).
    handle.detach();
    expect(maxRelErr(tfjsLogits(tfModel, ids, 1, 10), ref)).toBeGreaterThan(1e-2);
    tfModel.dispose();
    await lm.dispose();
  });
});
