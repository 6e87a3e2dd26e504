/** Acceptance: an adapter that does not fit the model → an error naming the module and both shapes. */
import os from 'node:os';
import path from 'node:path';
import { promises as fsp } from 'node:fs';
import { initBackend } from '../../../src/loram/backend/backend';
import { randomWeights } from '../../../src/loram/model/llama';
import { adapterMisfits, checkAdapterFits } from '../../../src/loram/lora/shape-check';
import { mergeLora as mergeAdapter } from '../../../src/loram/recover/merge';
import { openCausalLM } from '../../../src/loram/eval/open';
import { rightPad } from '../../../src/loram/eval/lm';
import { maxRelErr, prunedShape, randomAdapter, randomIds, tiny } from '../onnx/helpers';

describe('adapter compatibility', () => {
  const base = tiny(); // 2 layers, d 32, 4 q / 2 kv heads of 8, MLP 40
  const pruned = prunedShape();

  test('an adapter trained on the original does not fit a pruned model: module and both shapes named', () => {
    const adapter = randomAdapter(base, 1);
    expect(adapterMisfits(base, adapter)).toEqual([]);
    const err = (() => {
      try {
        checkAdapterFits(pruned, adapter, 'loram-tiny (pruned)');
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(err).toMatch(/^adapter does not fit loram-tiny \(pruned\) \(\d+ problems\)/);
    // Layer 1 of the pruned model has 2 query heads (16 rows) and MLP 17; the adapter was made for 32 and 40.
    expect(err).toContain('adapter module model.layers.1.self_attn.q_proj: ΔW = B·A is [32, 32] (lora_A [4, 32], lora_B [32, 4]) but the model\'s model.layers.1.self_attn.q_proj.weight is [16, 32]');
    expect(err).toContain('adapter module model.layers.1.mlp.down_proj: ΔW = B·A is [32, 40] (lora_A [4, 40], lora_B [32, 4]) but the model\'s model.layers.1.mlp.down_proj.weight is [32, 17]');
  });

  test('a module the model does not have (layer beyond the model) is named with its shape', () => {
    const adapter = randomAdapter(tiny({ numLayers: 3 }), 2, ['up_proj']);
    expect(() => checkAdapterFits(base, adapter)).toThrow(
      /adapter module model\.layers\.2\.mlp\.up_proj \(ΔW \[40, 32\]; lora_A \[4, 32\], lora_B \[40, 4\]\) is missing from the model: the model has 2 decoder layers/,
    );
  });

  test('factors that do not chain are reported', () => {
    const adapter = randomAdapter(base, 3, ['o_proj']);
    const m = adapter.modules.get('model.layers.0.self_attn.o_proj')!;
    adapter.modules.set('model.layers.0.self_attn.o_proj', { A: m.A, B: { shape: [32, 5], data: new Float32Array(160) } });
    expect(() => checkAdapterFits(base, adapter)).toThrow(/model\.layers\.0\.self_attn\.o_proj: lora_A and lora_B do not chain \(lora_A \[4, 32\], lora_B \[32, 5\]/);
  });

  test('merge is W0 + (α/r)·B·A; untouched tensors are shared, not copied', () => {
    const w = randomWeights(base, 4, 0.1);
    const adapter = randomAdapter(base, 5, ['v_proj'], null, 2, 6); // r 2, α 6 → scale 3
    const merged = mergeAdapter(base, w, adapter);
    const name = 'model.layers.1.self_attn.v_proj.weight';
    const { A, B } = adapter.modules.get('model.layers.1.self_attn.v_proj')!;
    const [o, i] = [5, 7];
    const expected = w.get(name)!.data[o * 32 + i]! + 3 * (B.data[o * 2]! * A.data[i]! + B.data[o * 2 + 1]! * A.data[32 + i]!);
    expect(merged.weights.get(name)!.data[o * 32 + i]).toBeCloseTo(expected, 6);
    expect(merged.weights.get('model.layers.1.self_attn.q_proj.weight')).toBe(w.get('model.layers.1.self_attn.q_proj.weight'));
    expect(merged.weights.get(name)).not.toBe(w.get(name));
    expect(w.get(name)!.data[o * 32 + i]).not.toBeCloseTo(expected, 6); // input untouched
    expect(() => mergeAdapter(pruned, randomWeights(pruned, 1, 0.1), randomAdapter(base, 1))).toThrow(/does not fit/);
  });
});

describe('evaluating a model with an adapter', () => {
  let tmp: string;
  beforeAll(async () => {
    await initBackend();
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'loram-eval-adapter-'));
  });
  afterAll(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  test('a pruned model with its own adapter: onnxruntime (merged) = tfjs (merged) = tfjs (attached)', async () => {
    const cfg = prunedShape();
    const weights = randomWeights(cfg, 6, 0.2);
    const adapter = randomAdapter(cfg, 7, undefined, [0, 1]);
    const batch = rightPad([randomIds(9, cfg.vocabSize, 1), randomIds(4, cfg.vocabSize, 2)]);
    const keep = (k: number) => batch.mask![Math.floor(k / cfg.vocabSize)] === 1;
    const runs = [
      { runtime: 'onnxruntime', adapterMode: 'merged' },
      { runtime: 'tfjs', adapterMode: 'merged' },
      { runtime: 'tfjs', adapterMode: 'attached' },
    ] as const;
    const logits: Float32Array[] = [];
    for (const r of runs) {
      const { lm, describe } = await openCausalLM({ ...r, config: cfg, weights, adapter, adapterId: 'own-adapter', model: 'tiny pruned', cacheDir: tmp, kinds: ['logits'], threads: 1 });
      expect(describe).toEqual({ model: 'tiny pruned', adapter: r.adapterMode, adapterId: 'own-adapter' });
      logits.push(await lm.logits(batch));
      await lm.dispose();
    }
    expect(maxRelErr(logits[0]!, logits[2]!, keep)).toBeLessThan(1e-4);
    expect(maxRelErr(logits[1]!, logits[2]!, keep)).toBeLessThan(1e-4);
  });

  test('misuse is refused clearly', async () => {
    const cfg = tiny();
    const weights = randomWeights(cfg, 8, 0.1);
    const adapter = randomAdapter(cfg, 9);
    await expect(openCausalLM({ runtime: 'onnxruntime', config: cfg, weights, adapter, adapterId: 'a', adapterMode: 'attached', model: 'm', cacheDir: tmp })).rejects.toThrow(/attached.*tfjs/);
    await expect(openCausalLM({ runtime: 'tfjs', config: cfg, weights, adapter, model: 'm' })).rejects.toThrow(/adapterId/);
    await expect(openCausalLM({ runtime: 'onnxruntime', config: cfg, weights, model: 'm' })).rejects.toThrow(/cacheDir/);
    const pruned = prunedShape();
    await expect(openCausalLM({ runtime: 'tfjs', adapterMode: 'attached', config: pruned, weights: randomWeights(pruned, 1, 0.1), adapter, adapterId: 'a', model: 'pruned' })).rejects.toThrow(
      /adapter does not fit pruned[\s\S]*model\.layers\.1\.self_attn\.q_proj: ΔW = B·A is \[32, 32\]/,
    );
  });
});
