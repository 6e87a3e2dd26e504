import { countParams, makeConfig, parseHfConfig, type LlamaConfig } from '../../../src/loram/model/config';
import {
  decoderLinearParams,
  defaultPrunedLayerRange,
  keptKvHeads,
  keptLayerSizes,
  layerLinearShapes,
  loraParams,
  planMemory,
  type PruneStrategy,
  type QuantMode,
} from '../../../src/loram/memory/planner';
import { PRESET_HF_CONFIGS, PRESET_NAMES, presetConfig, type PresetName } from '../../../src/loram/memory/presets';

const GIB = 2 ** 30;
const fixed2 = (x: number) => x.toFixed(2);

/** One decoder layer's parameters: linears + two RMSNorms (§8.1 layer(a, b, c)). */
function layerParams(cfg: LlamaConfig, layer: number, sizes = cfg.layers): number {
  let n = 2 * cfg.hiddenSize;
  for (const [o, i] of Object.values(layerLinearShapes(cfg, sizes[layer]!))) n += o * i;
  return n;
}

describe('presets (exact public HF configs)', () => {
  it.each([
    ['llama-2-7b', 6_738_415_616],
    ['llama-2-13b', 13_015_864_320],
    ['llama-2-70b', 68_976_648_192],
    ['llama-3.1-8b', 8_030_261_248],
    ['llama-3.1-70b', 70_553_706_496],
    // Small real models (their published parameter counts).
    ['smollm2-135m', 134_515_008],
    ['smollm2-360m', 361_821_120],
    ['smollm2-1.7b', 1_711_376_384],
    ['tinyllama-1.1b', 1_100_048_384],
    ['llama-3.2-1b', 1_235_814_400],
  ] as [PresetName, number][])('%s has %d parameters', (name, n) => {
    expect(countParams(presetConfig(name))).toBe(n);
  });

  it('LLaMA-3.1 presets carry rope_theta 500000 and llama3 rope scaling; all untied, head_dim 128', () => {
    for (const name of ['llama-3.1-8b', 'llama-3.1-70b'] as const) {
      const c = presetConfig(name);
      expect(c.ropeTheta).toBe(500000);
      expect(c.ropeScaling).toMatchObject({ rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 });
      expect(c.vocabSize).toBe(128256);
    }
    for (const name of PRESET_NAMES.filter((n) => n.startsWith('llama-2') || n.startsWith('llama-3.1'))) {
      expect(presetConfig(name).tieWordEmbeddings).toBe(false);
      expect(presetConfig(name).headDim).toBe(128);
    }
    expect(presetConfig('llama-2-70b').layers[0]).toEqual({ num_attention_heads: 64, num_key_value_heads: 8, intermediate_size: 28672 });
  });

  it('baseline ratios of model sizes (§8.2): 5.30×, 1.93×, 8.79×', () => {
    const n = (p: PresetName) => countParams(presetConfig(p));
    expect(fixed2(n('llama-2-70b') / n('llama-2-13b'))).toBe('5.30');
    expect(fixed2(n('llama-2-13b') / n('llama-2-7b'))).toBe('1.93');
    expect(fixed2(n('llama-3.1-70b') / n('llama-3.1-8b'))).toBe('8.79');
  });
});

describe('default pruned layer range', () => {
  it('is the paper/code range [4, L−2) for the 80- and 40-layer models and LLM-Pruner’s 4..30 for 32 layers', () => {
    expect(defaultPrunedLayerRange(80)).toEqual([4, 78]);
    expect(defaultPrunedLayerRange(40)).toEqual([4, 38]);
    expect(defaultPrunedLayerRange(32)).toEqual([4, 30]);
  });

  it('scales down for shallow models and always keeps the first and last layer', () => {
    expect(defaultPrunedLayerRange(8)).toEqual([1, 7]);
    expect(defaultPrunedLayerRange(16)).toEqual([2, 15]);
    expect(defaultPrunedLayerRange(2)).toEqual([1, 1]);
    expect(defaultPrunedLayerRange(1)).toEqual([1, 1]);
    expect(defaultPrunedLayerRange(0)).toEqual([0, 0]);
    for (let L = 1; L <= 200; L++) {
      const [s, e] = defaultPrunedLayerRange(L);
      expect(s).toBeGreaterThanOrEqual(1);
      expect(e).toBeLessThanOrEqual(Math.max(s, L - 1));
      expect(s).toBeLessThanOrEqual(e);
      if (L >= 40) expect([s, e]).toEqual([4, L - 2]);
    }
  });
});

describe('kept layer sizes (§2.2)', () => {
  it.each([
    ['llama-2-13b', 0.65, 14, 14, 4838, 111_022_080, 317_204_480],
    ['llama-2-70b', 0.65, 24, 3, 10035, 303_259_648, 855_654_400],
    ['llama-2-70b', 0.75, 16, 2, 7168, 213_925_888, 855_654_400],
    ['llama-2-70b', 0.85, 16, 2, 4300, 143_441_920, 855_654_400],
    ['llama-3.1-70b', 0.85, 16, 2, 4300, 143_441_920, 855_654_400],
    ['llama-2-70b', 0.95, 8, 1, 1433, 54_108_160, 855_654_400],
  ] as [PresetName, number, number, number, number, number, number][])(
    '%s p=%d → %d/%d heads, %d channels, %d params per pruned layer',
    (name, p, heads, kv, channels, perLayer, perLayerOrig) => {
      const cfg = presetConfig(name);
      const sizes = keptLayerSizes(cfg, p);
      const [start, end] = defaultPrunedLayerRange(cfg.numLayers);
      for (let i = 0; i < cfg.numLayers; i++) {
        if (i >= start && i < end) {
          expect(sizes[i]).toEqual({ num_attention_heads: heads, num_key_value_heads: kv, intermediate_size: channels });
          expect(layerParams(cfg, i, sizes)).toBe(perLayer);
        } else {
          expect(sizes[i]).toEqual(cfg.layers[i]);
          expect(layerParams(cfg, i, sizes)).toBe(perLayerOrig);
        }
      }
    },
  );

  it('uses the ε-guarded floor (100·0.57 = 56.99999999999999 still removes 57 heads)', () => {
    expect(100 * 0.57).toBeLessThan(57);
    expect(keptKvHeads(100, 0.57)).toBe(43);
  });

  it('removes whole KV groups for GQA and keeps the group size; p=0 is the identity', () => {
    const cfg = makeConfig({ vocabSize: 100, hiddenSize: 64, numLayers: 8, numHeads: 8, numKvHeads: 2, intermediateSize: 96, headDim: 8 });
    const sizes = keptLayerSizes(cfg, 0.5);
    expect(sizes.map((s) => s.num_key_value_heads)).toEqual([2, 1, 1, 1, 1, 1, 1, 2]);
    expect(sizes.map((s) => s.num_attention_heads)).toEqual([8, 4, 4, 4, 4, 4, 4, 8]);
    expect(sizes[3]!.intermediate_size).toBe(48);
    expect(keptLayerSizes(cfg, 0.5, [0, 8]).every((s) => s.num_attention_heads === 4)).toBe(true);
    expect(keptLayerSizes(cfg, 0)).toEqual(cfg.layers);
    // The result is a valid pruned config: it round-trips through the loram_per_layer extension.
    const pruned = { ...cfg, layers: sizes };
    expect(() => parseHfConfig({ vocab_size: 100, hidden_size: 64, intermediate_size: 96, num_hidden_layers: 8, num_attention_heads: 8, num_key_value_heads: 2, head_dim: 8, loram_per_layer: pruned.layers })).not.toThrow();
  });

  it('rejects ratios outside [0, 1) and invalid ranges', () => {
    const cfg = presetConfig('llama-2-7b');
    expect(() => keptLayerSizes(cfg, 1)).toThrow(/ratio/);
    expect(() => keptLayerSizes(cfg, -0.1)).toThrow(/ratio/);
    expect(() => keptLayerSizes(cfg, 0.5, [5, 3])).toThrow(/range/);
    expect(() => keptLayerSizes(cfg, 0.5, [0, 33])).toThrow(/range/);
  });
});

describe('§8.2 table: parameter counts, reductions, HBM (paper accounting)', () => {
  type Row = [PresetName, PruneStrategy, number, QuantMode, number, number, number, string, string];
  // model, strategy, p, quant, #Orig, N_pruned, #Pruned column (N_eq), reduction, HBM GiB
  const rows: Row[] = [
    ['llama-2-13b', 'semi', 0.5, 'none', 13_015_864_320, 6_671_979_520, 6_671_979_520, '1.95', '12.43'],
    ['llama-2-13b', 'unst', 0.55, 'none', 13_015_864_320, 6_037_591_040, 6_037_591_040, '2.16', '11.25'],
    ['llama-2-13b', 'rand', 0.65, 'none', 13_015_864_320, 6_005_662_720, 6_005_662_720, '2.17', '11.19'],
    ['llama-2-13b', 'stru', 0.65, 'none', 13_015_864_320, 6_005_662_720, 6_005_662_720, '2.17', '11.19'],
    ['llama-2-70b', 'stru', 0.65, 'none', 68_976_648_192, 28_099_436_544, 28_099_436_544, '2.45', '52.34'],
    ['llama-2-70b', 'stru', 0.75, 'none', 68_976_648_192, 21_488_738_304, 21_488_738_304, '3.21', '40.03'],
    ['llama-2-70b', 'stru', 0.85, 'none', 68_976_648_192, 16_272_924_672, 16_272_924_672, '4.24', '30.31'],
    ['llama-2-70b', 'rand', 0.95, 'none', 68_976_648_192, 9_662_226_432, 9_662_226_432, '7.14', '18.00'],
    ['llama-3.1-70b', 'stru', 0.85, 'none', 70_553_706_496, 17_849_982_976, 17_849_982_976, '3.95', '33.25'],
    ['llama-2-70b', 'stru', 0.65, 'nf4', 68_976_648_192, 28_099_436_544, 7_024_859_136, '9.82', '13.08'],
    ['llama-2-70b', 'rand', 0.75, 'nf4', 68_976_648_192, 21_488_738_304, 5_372_184_576, '12.84', '10.01'],
    ['llama-2-70b', 'stru', 0.85, 'nf4', 68_976_648_192, 16_272_924_672, 4_068_231_168, '16.95', '7.58'],
    ['llama-2-70b', 'stru', 0.95, 'nf4', 68_976_648_192, 9_662_226_432, 2_415_556_608, '28.56', '4.50'],
    ['llama-3.1-70b', 'stru', 0.85, 'nf4', 70_553_706_496, 17_849_982_976, 4_462_495_744, '15.81', '8.31'],
  ];
  it.each(rows)('%s %s p=%d %s', (model, strategy, p, quant, orig, pruned, eq, red, hbm) => {
    const plan = planMemory({ model, strategy, ratio: p, quant });
    expect(plan.originalParams).toBe(orig);
    expect(plan.prunedParams).toBe(pruned);
    expect(plan.equivalentParams).toBe(eq);
    expect(fixed2(plan.reduction)).toBe(red);
    expect(fixed2(plan.hbmGiB)).toBe(hbm);
  });

  it('worked example of §8.2 (3.1-70B, p=0.85)', () => {
    const cfg = presetConfig('llama-3.1-70b');
    expect(2_101_346_304 + 8_192 + 6 * 855_654_400 + 74 * 143_441_920).toBe(17_849_982_976);
    expect(countParams({ ...cfg, layers: keptLayerSizes(cfg, 0.85, [4, 78]) })).toBe(17_849_982_976);
  });

  it('printed table quirks: Unst 6,037,628,912 (SparseGPT nonzeros) gives the same 2.16×/11.25; Semi’s printed count is the 7B size', () => {
    const orig = 13_015_864_320;
    expect(fixed2(orig / 6_037_628_912)).toBe('2.16');
    expect(fixed2((2 * 6_037_628_912) / GIB)).toBe('11.25');
    expect(countParams(presetConfig('llama-2-7b'))).toBe(6_738_415_616);
    expect(fixed2((2 * 6_738_415_616) / GIB)).toBe('12.55');
  });

  it('non-structured sparsity counts all decoder linears of all layers (§2.3, §8.1)', () => {
    const cfg = presetConfig('llama-2-13b');
    expect(decoderLinearParams(cfg)).toBe(40 * 317_194_240);
    const p = planMemory({ model: 'llama-2-13b', strategy: 'unst', ratio: 0.55 });
    expect(p.prunedLayerRange).toEqual([0, 40]);
    expect(p.storedParams).toBe(p.originalParams);
  });

  it('p = 0 structured and strategy "none" are the identity for every preset', () => {
    for (const model of PRESET_NAMES) {
      const a = planMemory({ model, strategy: 'stru', ratio: 0 });
      const b = planMemory({ model, strategy: 'none' });
      expect(a.prunedParams).toBe(a.originalParams);
      expect(a.layerSizes).toEqual(presetConfig(model).layers);
      expect(a.reduction).toBe(1);
      expect(a.bytes.total).toBe(b.bytes.total);
      expect(planMemory({ model, strategy: 'none', quant: 'nf4' }).reduction).toBe(4);
    }
  });

  it('accepts a raw config.json and a parsed LlamaConfig as well as a preset name', () => {
    const json = structuredClone(PRESET_HF_CONFIGS['llama-2-70b']);
    const fromJson = planMemory({ model: json, strategy: 'stru', ratio: 0.85, quant: 'nf4' });
    const fromCfg = planMemory({ model: parseHfConfig(json), strategy: 'stru', ratio: 0.85, quant: 'nf4' });
    expect(fromJson.prunedParams).toBe(16_272_924_672);
    expect(fromCfg.bytes.total).toBe(fromJson.bytes.total);
  });
});

describe('realistic byte estimate', () => {
  it('3.1-70B p=0.85 NF4+DQ base weights ≈ 11.5 GiB (§8.3): 15.75 B linears at ~4.127 bit + 2.10 B bf16 embeddings', () => {
    const plan = planMemory({ model: 'llama-3.1-70b', strategy: 'stru', ratio: 0.85, quant: 'nf4' });
    const cfg = plan.config;
    const linears = decoderLinearParams(cfg, plan.layerSizes);
    expect(linears).toBe(15_747_317_760);
    const bits = (plan.bytes.base.decoderLinears * 8) / linears;
    expect(bits).toBeGreaterThan(4.126);
    expect(bits).toBeLessThan(4.128);
    expect(plan.bytes.base.embedTokens + plan.bytes.base.lmHead).toBe(2_101_346_304 * 2); // 2·V·H params in bf16
    expect(plan.gib.baseWeights).toBeGreaterThan(11.4);
    expect(plan.gib.baseWeights).toBeLessThan(11.6);
    // The paper's 8.31 GiB ignores quantization constants and the 16-bit embeddings.
    expect(plan.gib.baseWeights).toBeGreaterThan(plan.hbmGiB);
  });

  it('16-bit base weights equal 2 bytes × stored params; semi/unst save nothing', () => {
    const stru = planMemory({ model: 'llama-2-13b', strategy: 'stru', ratio: 0.65 });
    expect(stru.bytes.baseWeights).toBe(2 * 6_005_662_720);
    const full = planMemory({ model: 'llama-2-13b', strategy: 'none' });
    for (const s of ['semi', 'unst'] as const) {
      const p = planMemory({ model: 'llama-2-13b', strategy: s, ratio: 0.5 });
      expect(p.bytes.total).toBe(full.bytes.total);
      expect(p.reduction).toBeGreaterThan(1.9);
    }
  });

  it('LoRA parameters follow the stored (pruned) shapes; 16 bytes each with gradients and AdamW states', () => {
    const cfg = presetConfig('llama-2-13b');
    // per layer 8·[4·(5120+5120) + 3·(5120+13824)] and lm_head 8·(32000+5120)
    expect(loraParams(cfg, cfg.layers, 8, ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj', 'lm_head'])).toBe(40 * 782_336 + 296_960);
    const full = planMemory({ model: 'llama-2-13b', strategy: 'none' });
    const pruned = planMemory({ model: 'llama-2-13b', strategy: 'stru', ratio: 0.65 });
    expect(full.lora.params).toBe(31_590_400);
    expect(pruned.lora.params).toBeLessThan(full.lora.params);
    const b = pruned.bytes;
    expect(b.loraWeights + b.loraGrads + b.optimizerStates).toBe(16 * pruned.lora.params);
    expect(planMemory({ model: 'llama-2-13b', strategy: 'none', lora: { targets: ['q_proj', 'v_proj'], rank: 16 } }).lora.params).toBe(40 * 16 * 2 * 10240);
  });

  it('lands within 5% of the measured peaks of Table 8 (LLaMA-2, micro-batch 4 × 512, bf16)', () => {
    const MiB = 2 ** 20;
    const cases: [PresetName, PruneStrategy, number, number][] = [
      ['llama-2-7b', 'none', 0, 30_517],
      ['llama-2-13b', 'none', 0, 51_661],
      ['llama-2-13b', 'stru', 0.65, 29_799],
    ];
    for (const [model, strategy, ratio, measured] of cases) {
      const est = planMemory({ model, strategy, ratio, batch: 4, seqLen: 512 }).bytes.total / MiB;
      expect(Math.abs(est / measured - 1)).toBeLessThan(0.05);
    }
  });

  it('gradient checkpointing and eager attention move activations the expected way; fits follows gpuGiB', () => {
    const base = { model: 'llama-3.1-70b', strategy: 'stru', ratio: 0.85, quant: 'nf4' } as const;
    const plain = planMemory(base);
    const ckpt = planMemory({ ...base, gradientCheckpointing: true, gpuGiB: 20 });
    const eager = planMemory({ ...base, attention: 'eager' });
    expect(ckpt.bytes.activations).toBeLessThan(plain.bytes.activations / 4);
    expect(eager.bytes.activations).toBeGreaterThan(plain.bytes.activations);
    expect(plain.fits).toBeNull();
    // The abstract's "20G HBM" is consistent with QLoRAM-Stru 3.1-70B at micro-batch 4 × 512 with checkpointing.
    expect(ckpt.fits).toBe(true);
    expect(ckpt.gib.total).toBeLessThan(20);
    expect(planMemory({ ...base, gpuGiB: 20 }).fits).toBe(false);
    expect(ckpt.bytes.workspace).toBe(8192 * 28672 * 2);
    expect(ckpt.bytes.total).toBe(
      ckpt.bytes.baseWeights + ckpt.bytes.loraWeights + ckpt.bytes.loraGrads + ckpt.bytes.optimizerStates + ckpt.bytes.activations + ckpt.bytes.workspace,
    );
  });

  it('works for a small custom config (8 layers keep the first and last layer)', () => {
    const cfg = makeConfig({ vocabSize: 512, hiddenSize: 128, numLayers: 8, numHeads: 4, numKvHeads: 2, intermediateSize: 344 });
    const plan = planMemory({ model: cfg, strategy: 'stru', ratio: 0.5, quant: 'nf4', batch: 2, seqLen: 64, gpuGiB: 1 });
    expect(plan.prunedLayerRange).toEqual([1, 7]);
    expect(plan.layerSizes[0]).toEqual(cfg.layers[0]);
    expect(plan.layerSizes[1]).toEqual({ num_attention_heads: 2, num_key_value_heads: 1, intermediate_size: 172 });
    expect(plan.prunedParams).toBeLessThan(plan.originalParams);
    expect(plan.fits).toBe(true);
    expect(() => planMemory({ model: cfg, strategy: 'stru', ratio: 1 })).toThrow(/ratio/);
    expect(() => planMemory({ model: cfg, strategy: 'stru', ratio: 0.5, batch: 0 })).toThrow(/batch/);
  });
});
