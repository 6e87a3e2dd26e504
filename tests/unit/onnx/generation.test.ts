/** Acceptance: KV-cache generation produces the same tokens as full-prefix greedy decoding. */
import os from 'node:os';
import path from 'node:path';
import { promises as fsp } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { initBackend } from '../../../src/loram/backend/backend';
import type { LlamaConfig } from '../../../src/loram/model/config';
import { LlamaModel, randomWeights } from '../../../src/loram/model/llama';
import { argmax, TfjsCausalLM } from '../../../src/loram/eval/lm';
import type { CausalLM } from '../../../src/loram/eval/lm';
import { exportOnnx } from '../../../src/loram/onnx/export';
import { createSession, OrtCausalLM } from '../../../src/loram/onnx/runtime';
import type { WeightMap } from '../../../src/loram/util/tensor';
import { maxRelErr, prunedShape, randomIds, tiny } from './helpers';

let tmp: string;
beforeAll(async () => {
  await initBackend();
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'loram-onnx-gen-'));
});
afterAll(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});

/** Greedy decoding that re-runs the whole prefix every step (no cache). */
async function fullPrefixGreedy(lm: CausalLM, prompt: number[], n: number): Promise<number[]> {
  const seq = [...prompt];
  const out: number[] = [];
  const V = lm.vocabSize;
  for (let s = 0; s < n; s++) {
    const logits = await lm.logits({ ids: Int32Array.from(seq), batch: 1, seqLen: seq.length });
    const t = argmax(logits, (seq.length - 1) * V, V);
    out.push(t);
    seq.push(t);
  }
  return out;
}

async function open(cfg: LlamaConfig, w: WeightMap, tag: string): Promise<OrtCausalLM> {
  const logits = await exportOnnx(cfg, w, path.join(tmp, `${tag}-logits`));
  const kv = await exportOnnx(cfg, w, path.join(tmp, `${tag}-kv`), { kind: 'kv' });
  return OrtCausalLM.open({ logits, kv }, { threads: 1 });
}

describe.each([
  ['random tiny', tiny({ vocabSize: 97 })],
  ['structurally pruned', { ...prunedShape(), vocabSize: 97 }],
] as [string, LlamaConfig][])('KV-cache generation: %s', (tag, cfg) => {
  // A larger init spread makes the argmax decisive (random tiny models otherwise produce near-ties).
  const w = randomWeights(cfg, 41, 0.5);

  test('greedy with the KV cache = full-prefix greedy (ORT and tfjs)', async () => {
    const lm = await open(cfg, w, tag.replace(/ /g, '-'));
    const tfm = new TfjsCausalLM(LlamaModel.fromWeights(cfg, w), { ownsModel: true });
    const prompts = [randomIds(5, cfg.vocabSize, 1), randomIds(11, cfg.vocabSize, 2), randomIds(1, cfg.vocabSize, 3)];
    const n = 16;
    const batched = await lm.generate(prompts, { maxNewTokens: n });
    const tfGen = await tfm.generate(prompts, { maxNewTokens: n });
    for (let i = 0; i < prompts.length; i++) {
      const reference = await fullPrefixGreedy(lm, prompts[i]!, n);
      expect(new Set(reference).size).toBeGreaterThan(3); // not a degenerate repeat
      expect(batched[i]!.tokens).toEqual(reference); // batched, left-padded, cached
      expect(batched[i]!.stopReason).toBe('length');
      expect((await lm.generate([prompts[i]!], { maxNewTokens: n }))[0]!.tokens).toEqual(reference); // alone
      expect(tfGen[i]!.tokens).toEqual(reference); // tfjs, full prefix
    }
    await lm.dispose();
    await tfm.dispose();
  });

  test('each step after the prompt feeds one position and extends the cache by one', async () => {
    const kvArt = await exportOnnx(cfg, w, path.join(tmp, `${tag.replace(/ /g, '-')}-steps`), { kind: 'kv' });
    const { session } = await createSession(kvArt.modelPath, { threads: 1 });
    const full = await open(cfg, w, `${tag.replace(/ /g, '-')}-ref`);
    const seq = randomIds(6, cfg.vocabSize, 7);
    const V = cfg.vocabSize;
    const i64 = (a: number[]) => BigInt64Array.from(a.map(BigInt));
    let past: Record<string, ort.Tensor> = {};
    for (const l of kvArt.kvLayers) for (const p of ['key', 'value']) past[`past_key_values.${l.layer}.${p}`] = new ort.Tensor('float32', new Float32Array(0), [1, l.kvHeads, 0, cfg.headDim]);
    let fed = 0;
    for (let step = 0; step < 4; step++) {
      const input = step === 0 ? seq : [seq[seq.length - 1]!];
      const total = fed + input.length;
      const out = await session.run({
        input_ids: new ort.Tensor('int64', i64(input), [1, input.length]),
        attention_mask: new ort.Tensor('int64', i64(new Array(total).fill(1)), [1, total]),
        ...past,
      });
      expect(out.logits!.dims).toEqual([1, input.length, V]);
      past = {};
      for (const l of kvArt.kvLayers) {
        expect(out[`present.${l.layer}.key`]!.dims).toEqual([1, l.kvHeads, total, cfg.headDim]);
        past[`past_key_values.${l.layer}.key`] = out[`present.${l.layer}.key`]!;
        past[`past_key_values.${l.layer}.value`] = out[`present.${l.layer}.value`]!;
      }
      fed = total;
      const last = (out.logits!.data as Float32Array).slice((input.length - 1) * V, input.length * V);
      const ref = (await full.logits({ ids: Int32Array.from(seq), batch: 1, seqLen: seq.length })).slice((seq.length - 1) * V);
      expect(maxRelErr(last, ref)).toBeLessThan(1e-4);
      seq.push(argmax(last));
    }
    await session.release();
    await full.dispose();
  });
});

describe('sampling and stopping', () => {
  const cfg = tiny({ vocabSize: 97 });
  const w = randomWeights(cfg, 43, 0.5);
  let lm: OrtCausalLM;
  beforeAll(async () => {
    lm = await open(cfg, w, 'sampling');
  });
  afterAll(async () => {
    await lm.dispose();
  });

  test('a stop token ends the row (and is not included)', async () => {
    const prompt = randomIds(4, cfg.vocabSize, 5);
    const greedy = (await lm.generate([prompt], { maxNewTokens: 10 }))[0]!.tokens;
    const stopTok = greedy[3]!;
    const cut = greedy.indexOf(stopTok); // its first occurrence (≤ 3)
    const r = (await lm.generate([prompt, randomIds(2, cfg.vocabSize, 6)], { maxNewTokens: 10, stopTokens: [stopTok] }))[0]!;
    expect(r.tokens).toEqual(greedy.slice(0, cut));
    expect(r.stopReason).toBe('stop');
  });

  test('temperature / top-p sampling is reproducible from its seed; top-p → 0 is greedy', async () => {
    const prompts = [randomIds(3, cfg.vocabSize, 8), randomIds(6, cfg.vocabSize, 9)];
    const a = await lm.generate(prompts, { maxNewTokens: 12, temperature: 1.5, topP: 0.9, seed: 7 });
    const b = await lm.generate(prompts, { maxNewTokens: 12, temperature: 1.5, topP: 0.9, seed: 7 });
    const c = await lm.generate(prompts, { maxNewTokens: 12, temperature: 1.5, topP: 0.9, seed: 8 });
    expect(a).toEqual(b);
    expect(a.map((x) => x.tokens)).not.toEqual(c.map((x) => x.tokens));
    const greedy = await lm.generate(prompts, { maxNewTokens: 12 });
    expect(await lm.generate(prompts, { maxNewTokens: 12, temperature: 1, topP: 1e-6, seed: 3 })).toEqual(greedy);
    expect(await lm.generate(prompts, { maxNewTokens: 12, temperature: 1, topK: 1, seed: 3 })).toEqual(greedy);
  });

  test('a kv export with a position_ids input generates the same tokens', async () => {
    const kv = await exportOnnx(cfg, w, path.join(tmp, 'pos-kv'), { kind: 'kv', positionIdsInput: true });
    const withPos = await OrtCausalLM.open({ kv }, { threads: 1 });
    const prompts = [randomIds(3, cfg.vocabSize, 10), randomIds(7, cfg.vocabSize, 11)];
    expect(await withPos.generate(prompts, { maxNewTokens: 10 })).toEqual(await lm.generate(prompts, { maxNewTokens: 10 }));
    await withPos.dispose();
  });

  test('bad requests fail clearly', async () => {
    await expect(lm.generate([[]], { maxNewTokens: 2 })).rejects.toThrow(/prompt 0 is empty/);
    await expect(lm.generate([[1, 2]], { maxNewTokens: 200 })).rejects.toThrow(/exceeds the model's 128 positions/);
    await expect(lm.generate([[1, 500]], { maxNewTokens: 2 })).rejects.toThrow(/outside the vocabulary/);
    const scoringOnly = await OrtCausalLM.open({ logits: lm.artifacts.logits! }, { threads: 1 });
    await expect(scoringOnly.generate([[1]], { maxNewTokens: 2 })).rejects.toThrow(/kv export/);
    await scoringOnly.dispose();
  });
});
