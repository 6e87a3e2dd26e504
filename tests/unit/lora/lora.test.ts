import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf } from '../../../src/loram/backend/tf';
import { initBackend } from '../../../src/loram/backend/backend';
import { LINEAR_MODULES } from '../../../src/loram/model/config';
import type { LlamaConfig } from '../../../src/loram/model/config';
import { LlamaModel, randomWeights } from '../../../src/loram/model/llama';
import { meanLoss } from '../../../src/loram/align';
import {
  ADAPTER_CONFIG_NAME,
  ADAPTER_WEIGHTS_NAME,
  DEFAULT_LORA_SPEC,
  LoraLinear,
  adapterTensors,
  attachLora,
  loadAdapter,
  moduleKey,
  parseModuleKey,
  peftTensorName,
  saveAdapter,
  trainLora,
} from '../../../src/loram/lora';
import type { LoraAdapter, LoraSpec } from '../../../src/loram/lora';
import { readSafetensorsHeader } from '../../../src/loram/io/safetensors';
import { pruneStructured } from '../../../src/loram/prune';
import { Rng } from '../../../src/loram/util/rng';
import type { WeightMap } from '../../../src/loram/util/tensor';
import { logitsOf, maxAbsDiff, patternBatch, randomBatch, tinyConfig } from '../../helpers/loram-fixtures';

const spec = (o: Partial<LoraSpec> = {}): LoraSpec => ({ ...DEFAULT_LORA_SPEC, r: 4, alpha: 8, ...o });

function sameWeights(a: WeightMap, b: WeightMap): boolean {
  if (a.size !== b.size) return false;
  for (const [k, t] of a) {
    const u = b.get(k);
    if (!u || u.data.length !== t.data.length) return false;
    for (let i = 0; i < t.data.length; i++) if (!Object.is(t.data[i], u.data[i])) return false;
  }
  return true;
}

/** Give every B random values so the adapter is not a no-op. */
function randomizeB(adapter: LoraAdapter, seed: number, std = 0.3): LoraAdapter {
  const rng = new Rng(seed);
  for (const w of adapter.modules.values()) for (let i = 0; i < w.B.data.length; i++) w.B.data[i] = rng.normal() * std;
  return adapter;
}

describe('LoRA', () => {
  beforeAll(async () => {
    await initBackend();
  });

  test('PEFT init: A Kaiming-uniform(a=√5) within ±1/√in, B zero, so the fresh adapter changes nothing', () => {
    const cfg = tinyConfig();
    const m = LlamaModel.random(cfg, 1, 0.2, { trainable: false });
    const b = randomBatch(cfg, 2, 6, 1);
    const before = logitsOf(m, b);
    const h = attachLora(m, spec());
    expect(h.modules.size).toBe(cfg.numLayers * 7 + 1);
    const a = h.export();
    for (const [key, w] of a.modules) {
      const inF = w.A.shape[1]!;
      const bound = 1 / Math.sqrt(inF);
      expect(Math.max(...w.A.data.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...w.A.data.map(Math.abs))).toBeGreaterThan(0.8 * bound);
      expect(w.B.data.every((v) => v === 0)).toBe(true);
      expect(w.A.shape[0]).toBe(4);
      expect(parseModuleKey(key)).not.toBeNull();
    }
    expect(a.modules.get('lm_head')!.A.shape).toEqual([4, cfg.hiddenSize]);
    expect(a.modules.get('lm_head')!.B.shape).toEqual([cfg.vocabSize, 4]);
    expect(logitsOf(m, b)).toEqual(before);
    // Seeded: same seed, same A.
    h.detach();
    const h2 = attachLora(m, spec());
    expect(h2.export().modules.get(moduleKey(2, 'v_proj'))!.A.data).toEqual(a.modules.get(moduleKey(2, 'v_proj'))!.A.data);
    m.dispose();
  });

  test('training changes only A and B (base bit-identical) and lowers held-out loss', async () => {
    const cfg = tinyConfig({ vocabSize: 23, numLayers: 2 });
    // Base built trainable on purpose: LoRA training must still leave it alone.
    const m = LlamaModel.fromWeights(cfg, randomWeights(cfg, 3, 0.1), { trainable: true });
    const base = m.toWeights();
    const train = Array.from({ length: 6 }, (_, i) => patternBatch(cfg, 4, 12, 100 + i));
    const heldOut = [patternBatch(cfg, 8, 12, 999)];
    const h = attachLora(m, spec({ r: 8, alpha: 16, dropout: 0.05 }));
    const l0 = meanLoss(m, heldOut);
    const res = await trainLora(m, h, { batches: train, steps: 40, lr: 1e-2, warmupSteps: 4 });
    const l1 = meanLoss(m, heldOut);
    expect(res.steps).toBe(40);
    expect(l1).toBeLessThan(l0 - 0.3);
    expect(sameWeights(m.toWeights(), base)).toBe(true);
    expect(h.export().modules.get(moduleKey(0, 'q_proj'))!.B.data.some((v) => v !== 0)).toBe(true);
    // Detach restores the untouched base model.
    h.detach();
    for (const l of m.layers) for (const mod of LINEAR_MODULES) expect(l.linears[mod]).not.toBeInstanceOf(LoraLinear);
    expect(m.headAdapter).toBeNull();
    expect(sameWeights(m.toWeights(), base)).toBe(true);
    m.dispose();
  });

  test('dropout acts only in training mode; eval forward is deterministic', () => {
    const cfg = tinyConfig();
    const m = LlamaModel.random(cfg, 1, 0.2, { trainable: false });
    const h = attachLora(m, spec({ dropout: 0.5 }));
    const a = randomizeB(h.export(), 4);
    h.detach();
    attachLora(m, { ...a, config: { ...a.config, dropout: 0.5 } });
    const b = randomBatch(cfg, 1, 5, 2);
    const ids = tf.tensor2d(b.inputIds, [1, 5], 'int32');
    const ev1 = tf.tidy(() => m.forward(ids).dataSync().slice());
    const ev2 = tf.tidy(() => m.forward(ids).dataSync().slice());
    const tr1 = tf.tidy(() => m.forward(ids, { training: true, seed: 1 }).dataSync().slice());
    const tr1b = tf.tidy(() => m.forward(ids, { training: true, seed: 1 }).dataSync().slice());
    const tr2 = tf.tidy(() => m.forward(ids, { training: true, seed: 2 }).dataSync().slice());
    expect(ev1).toEqual(ev2);
    expect(maxAbsDiff(tr1, ev1)).toBeGreaterThan(1e-3);
    expect(tr1).toEqual(tr1b);
    expect(maxAbsDiff(tr1, tr2)).toBeGreaterThan(1e-3);
    ids.dispose();
    m.dispose();
  });

  test('PEFT adapter save/load round trip with exact tensor names and config', async () => {
    const cfg = tinyConfig({ numLayers: 2 });
    const m = LlamaModel.random(cfg, 1, 0.2, { trainable: false });
    const h = attachLora(m, spec({ targetModules: ['q_proj', 'v_proj', 'down_proj', 'lm_head'] }));
    const adapter = randomizeB(h.export('tiny-llama'), 7);
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'loram-adapter-'));
    try {
      const out = path.join(dir, 'adapter');
      await saveAdapter(out, adapter);
      expect((await fsp.readdir(out)).sort()).toEqual([ADAPTER_CONFIG_NAME, ADAPTER_WEIGHTS_NAME]);
      const json = JSON.parse(await fsp.readFile(path.join(out, ADAPTER_CONFIG_NAME), 'utf8'));
      expect(json).toMatchObject({
        peft_type: 'LORA',
        task_type: 'CAUSAL_LM',
        r: 4,
        lora_alpha: 8,
        lora_dropout: 0.05,
        target_modules: ['q_proj', 'v_proj', 'down_proj', 'lm_head'],
        bias: 'none',
        fan_in_fan_out: false,
        inference_mode: true,
        base_model_name_or_path: 'tiny-llama',
      });
      const header = await readSafetensorsHeader(path.join(out, ADAPTER_WEIGHTS_NAME));
      const names = [...header.tensors.keys()].sort();
      const expected: string[] = [];
      for (let i = 0; i < 2; i++) {
        for (const [blk, mod] of [['self_attn', 'q_proj'], ['self_attn', 'v_proj'], ['mlp', 'down_proj']]) {
          expected.push(`base_model.model.model.layers.${i}.${blk}.${mod}.lora_A.weight`, `base_model.model.model.layers.${i}.${blk}.${mod}.lora_B.weight`);
        }
      }
      expected.push('base_model.model.lm_head.lora_A.weight', 'base_model.model.lm_head.lora_B.weight');
      expect(names).toEqual(expected.sort());
      expect(header.tensors.get('base_model.model.model.layers.1.mlp.down_proj.lora_A.weight')!.shape).toEqual([4, 48]); // [r, in]
      expect(header.tensors.get('base_model.model.model.layers.1.mlp.down_proj.lora_B.weight')!.shape).toEqual([32, 4]); // [out, r]
      expect(header.tensors.get('base_model.model.lm_head.lora_B.weight')!.shape).toEqual([cfg.vocabSize, 4]);
      expect(header.metadata).toEqual({ format: 'pt' });

      const back = await loadAdapter(out);
      expect(back.config).toEqual(adapter.config);
      expect([...back.modules.keys()]).toEqual([...adapter.modules.keys()]);
      for (const [k, w] of adapter.modules) {
        expect(back.modules.get(k)!.A.data).toEqual(w.A.data);
        expect(back.modules.get(k)!.B.data).toEqual(w.B.data);
      }
      // Attaching the loaded adapter reproduces the logits of the attached original.
      h.detach();
      const b = randomBatch(cfg, 1, 6, 3);
      const h1 = attachLora(m, adapter);
      const y1 = logitsOf(m, b);
      h1.detach();
      attachLora(m, back);
      expect(logitsOf(m, b)).toEqual(y1);
      expect(peftTensorName('lm_head', 'A')).toBe('base_model.model.lm_head.lora_A.weight');
      expect([...adapterTensors(adapter).keys()]).toContain('base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight');
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
      m.dispose();
    }
  });

  test('an adapter whose shapes do not fit the model is refused, naming the module and both shapes', async () => {
    const cfg: LlamaConfig = tinyConfig();
    const w = randomWeights(cfg, 1, 0.2);
    const pr = await pruneStructured(cfg, w, { ratio: 0.5, importance: 'magnitude' });
    const small = LlamaModel.fromWeights(pr.config, pr.weights, { trainable: false });
    const a = small.headAdapter; // null
    expect(a).toBeNull();
    const h = attachLora(small, spec());
    const adapter = h.export();
    small.dispose();
    const big = LlamaModel.fromWeights(cfg, w, { trainable: false });
    expect(() => attachLora(big, adapter)).toThrow(/adapter module model\.layers\.1\.self_attn\.q_proj does not fit the model's layer \[out 32, in 32\] with r=4: lora_B\.weight is \[16, 4\], expected \[32, 4\]/);
    // Nothing was attached by the failed call.
    for (const l of big.layers) for (const mod of LINEAR_MODULES) expect(l.linears[mod]).not.toBeInstanceOf(LoraLinear);
    expect(() => attachLora(big, spec({ targetModules: ['q_proj', 'nope' as 'q_proj'] }))).toThrow(/unknown LoRA target "nope"/);
    expect(() => attachLora(big, spec({ r: 0 }))).toThrow(/rank/);
    const h2 = attachLora(big, spec());
    expect(() => attachLora(big, spec())).toThrow(/already has a LoRA adapter/);
    h2.detach();
    big.dispose();
  });

  test('attach/detach leaks no tensors', () => {
    const cfg = tinyConfig({ numLayers: 2 });
    const m = LlamaModel.random(cfg, 1, 0.2, { trainable: false });
    const before = tf.memory().numTensors;
    const h = attachLora(m, spec());
    logitsOf(m, randomBatch(cfg, 1, 4, 1));
    h.detach();
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });
});
