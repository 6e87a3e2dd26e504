import { z } from 'zod';

/**
 * LLaMA-architecture config, read from and written to Hugging Face `config.json`.
 *
 * Extension for structurally pruned models: `loram_per_layer`, an array with one entry per decoder layer
 * giving that layer's `num_attention_heads`, `num_key_value_heads` and `intermediate_size`. Layers may
 * differ (LoRAM prunes only a middle range of layers). `head_dim` is always written explicitly because
 * pruning heads must not change it (HF would otherwise derive it as hidden_size / num_attention_heads).
 * A loader that does not know the extension sees the unpruned sizes, so pruned checkpoints are refused by
 * shape checks rather than silently mis-read.
 */
export const ropeScalingSchema = z
  .object({
    rope_type: z.string().optional(),
    type: z.string().optional(),
    factor: z.number().positive().optional(),
    low_freq_factor: z.number().positive().optional(),
    high_freq_factor: z.number().positive().optional(),
    original_max_position_embeddings: z.number().int().positive().optional(),
  })
  .passthrough();

export const layerSizeSchema = z.object({
  num_attention_heads: z.number().int().nonnegative(),
  num_key_value_heads: z.number().int().nonnegative(),
  intermediate_size: z.number().int().nonnegative(),
});
export type LayerSize = z.infer<typeof layerSizeSchema>;

export const hfConfigSchema = z
  .object({
    model_type: z.string().default('llama'),
    vocab_size: z.number().int().positive(),
    hidden_size: z.number().int().positive(),
    intermediate_size: z.number().int().positive(),
    num_hidden_layers: z.number().int().positive(),
    num_attention_heads: z.number().int().positive(),
    num_key_value_heads: z.number().int().positive().optional(),
    head_dim: z.number().int().positive().optional().nullable(),
    rms_norm_eps: z.number().positive().default(1e-6),
    rope_theta: z.number().positive().default(10000),
    rope_scaling: ropeScalingSchema.nullable().optional(),
    max_position_embeddings: z.number().int().positive().default(2048),
    tie_word_embeddings: z.boolean().default(false),
    attention_bias: z.boolean().default(false),
    mlp_bias: z.boolean().default(false),
    hidden_act: z.string().default('silu'),
    bos_token_id: z.number().int().nullable().optional(),
    eos_token_id: z.union([z.number().int(), z.array(z.number().int())]).nullable().optional(),
    pad_token_id: z.number().int().nullable().optional(),
    loram_per_layer: z.array(layerSizeSchema).optional(),
  })
  .passthrough();

export interface LlamaConfig {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  headDim: number;
  /** Sizes of every decoder layer (all equal for an unpruned model). */
  layers: LayerSize[];
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: z.infer<typeof ropeScalingSchema> | null;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  attentionBias: boolean;
  mlpBias: boolean;
  bosTokenId: number | null;
  eosTokenId: number | null;
  padTokenId: number | null;
  /** Unknown fields of the source config.json, kept so a round trip loses nothing. */
  extra: Record<string, unknown>;
}

const KNOWN = new Set(Object.keys(hfConfigSchema.shape));

/** Parse a config.json object; throws an Error that names every bad field. */
export function parseHfConfig(json: unknown, source = 'config.json'): LlamaConfig {
  const r = hfConfigSchema.safeParse(json);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`${source}: invalid LLaMA config\n${lines.join('\n')}`);
  }
  const c = r.data;
  if (c.hidden_act !== 'silu') throw new Error(`${source}: hidden_act must be "silu" (SwiGLU), got "${c.hidden_act}"`);
  const nKv = c.num_key_value_heads ?? c.num_attention_heads;
  const headDim = c.head_dim ?? c.hidden_size / c.num_attention_heads;
  if (!Number.isInteger(headDim)) throw new Error(`${source}: hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${c.num_attention_heads}; set head_dim`);
  if (c.num_attention_heads % nKv !== 0) throw new Error(`${source}: num_attention_heads ${c.num_attention_heads} is not a multiple of num_key_value_heads ${nKv}`);
  if (headDim % 2 !== 0) throw new Error(`${source}: head_dim ${headDim} must be even for rotary embeddings`);
  const group = c.num_attention_heads / nKv;
  let layers: LayerSize[];
  if (c.loram_per_layer) {
    if (c.loram_per_layer.length !== c.num_hidden_layers) {
      throw new Error(`${source}: loram_per_layer has ${c.loram_per_layer.length} entries, expected num_hidden_layers = ${c.num_hidden_layers}`);
    }
    layers = c.loram_per_layer.map((l) => ({ ...l }));
    layers.forEach((l, i) => {
      const bad = l.num_key_value_heads === 0 ? l.num_attention_heads !== 0 : l.num_attention_heads !== l.num_key_value_heads * group;
      if (bad) {
        throw new Error(`${source}: loram_per_layer[${i}] has ${l.num_attention_heads} query heads for ${l.num_key_value_heads} KV heads; the group size must stay ${group}`);
      }
    });
  } else {
    layers = Array.from({ length: c.num_hidden_layers }, () => ({
      num_attention_heads: c.num_attention_heads,
      num_key_value_heads: nKv,
      intermediate_size: c.intermediate_size,
    }));
  }
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c)) if (!KNOWN.has(k)) extra[k] = v;
  const eos = Array.isArray(c.eos_token_id) ? (c.eos_token_id[0] ?? null) : (c.eos_token_id ?? null);
  return {
    vocabSize: c.vocab_size,
    hiddenSize: c.hidden_size,
    numLayers: c.num_hidden_layers,
    headDim,
    layers,
    rmsNormEps: c.rms_norm_eps,
    ropeTheta: c.rope_theta,
    ropeScaling: c.rope_scaling ?? null,
    maxPositionEmbeddings: c.max_position_embeddings,
    tieWordEmbeddings: c.tie_word_embeddings,
    attentionBias: c.attention_bias,
    mlpBias: c.mlp_bias,
    bosTokenId: c.bos_token_id ?? null,
    eosTokenId: eos,
    padTokenId: c.pad_token_id ?? null,
    extra,
  };
}

/** The base (unpruned) sizes: the largest of each layer field, which is what HF tools expect at top level. */
function baseSizes(cfg: LlamaConfig): LayerSize {
  return {
    num_attention_heads: Math.max(...cfg.layers.map((l) => l.num_attention_heads)),
    num_key_value_heads: Math.max(...cfg.layers.map((l) => l.num_key_value_heads)),
    intermediate_size: Math.max(...cfg.layers.map((l) => l.intermediate_size)),
  };
}

export function isUniform(cfg: LlamaConfig): boolean {
  const b = baseSizes(cfg);
  return cfg.layers.every(
    (l) => l.num_attention_heads === b.num_attention_heads && l.num_key_value_heads === b.num_key_value_heads && l.intermediate_size === b.intermediate_size,
  );
}

/** Serialise to a config.json object (stable key order). */
export function toHfConfig(cfg: LlamaConfig): Record<string, unknown> {
  const b = baseSizes(cfg);
  const out: Record<string, unknown> = {
    ...cfg.extra,
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: cfg.vocabSize,
    hidden_size: cfg.hiddenSize,
    intermediate_size: b.intermediate_size,
    num_hidden_layers: cfg.numLayers,
    num_attention_heads: b.num_attention_heads,
    num_key_value_heads: b.num_key_value_heads,
    head_dim: cfg.headDim,
    rms_norm_eps: cfg.rmsNormEps,
    rope_theta: cfg.ropeTheta,
    rope_scaling: cfg.ropeScaling,
    max_position_embeddings: cfg.maxPositionEmbeddings,
    tie_word_embeddings: cfg.tieWordEmbeddings,
    attention_bias: cfg.attentionBias,
    mlp_bias: cfg.mlpBias,
    hidden_act: 'silu',
    bos_token_id: cfg.bosTokenId,
    eos_token_id: cfg.eosTokenId,
    pad_token_id: cfg.padTokenId,
    torch_dtype: 'float32',
  };
  if (!isUniform(cfg)) out.loram_per_layer = cfg.layers.map((l) => ({ ...l }));
  return out;
}

/** Convenience constructor for tests, benchmarks and the built-in family. */
export function makeConfig(p: {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads?: number;
  intermediateSize: number;
  headDim?: number;
  tieWordEmbeddings?: boolean;
  attentionBias?: boolean;
  ropeTheta?: number;
  ropeScaling?: LlamaConfig['ropeScaling'];
  maxPositionEmbeddings?: number;
  rmsNormEps?: number;
  bosTokenId?: number | null;
  eosTokenId?: number | null;
  padTokenId?: number | null;
}): LlamaConfig {
  const nKv = p.numKvHeads ?? p.numHeads;
  return {
    vocabSize: p.vocabSize,
    hiddenSize: p.hiddenSize,
    numLayers: p.numLayers,
    headDim: p.headDim ?? p.hiddenSize / p.numHeads,
    layers: Array.from({ length: p.numLayers }, () => ({
      num_attention_heads: p.numHeads,
      num_key_value_heads: nKv,
      intermediate_size: p.intermediateSize,
    })),
    rmsNormEps: p.rmsNormEps ?? 1e-5,
    ropeTheta: p.ropeTheta ?? 10000,
    ropeScaling: p.ropeScaling ?? null,
    maxPositionEmbeddings: p.maxPositionEmbeddings ?? 2048,
    tieWordEmbeddings: p.tieWordEmbeddings ?? false,
    attentionBias: p.attentionBias ?? false,
    mlpBias: false,
    bosTokenId: p.bosTokenId ?? null,
    eosTokenId: p.eosTokenId ?? null,
    padTokenId: p.padTokenId ?? null,
    extra: {},
  };
}

/** Expected HF tensor names and shapes ([out, in] for linears) of a config. */
export function expectedShapes(cfg: LlamaConfig): Map<string, number[]> {
  const H = cfg.hiddenSize;
  const hd = cfg.headDim;
  const m = new Map<string, number[]>();
  m.set('model.embed_tokens.weight', [cfg.vocabSize, H]);
  cfg.layers.forEach((l, i) => {
    const p = `model.layers.${i}`;
    const q = l.num_attention_heads * hd;
    const kv = l.num_key_value_heads * hd;
    m.set(`${p}.input_layernorm.weight`, [H]);
    m.set(`${p}.post_attention_layernorm.weight`, [H]);
    m.set(`${p}.self_attn.q_proj.weight`, [q, H]);
    m.set(`${p}.self_attn.k_proj.weight`, [kv, H]);
    m.set(`${p}.self_attn.v_proj.weight`, [kv, H]);
    m.set(`${p}.self_attn.o_proj.weight`, [H, q]);
    if (cfg.attentionBias) {
      // As in HF's LlamaAttention: attention_bias puts a bias on all four projections. o_proj's lives in the
      // hidden dimension, so pruning never changes it.
      m.set(`${p}.self_attn.q_proj.bias`, [q]);
      m.set(`${p}.self_attn.k_proj.bias`, [kv]);
      m.set(`${p}.self_attn.v_proj.bias`, [kv]);
      m.set(`${p}.self_attn.o_proj.bias`, [H]);
    }
    m.set(`${p}.mlp.gate_proj.weight`, [l.intermediate_size, H]);
    m.set(`${p}.mlp.up_proj.weight`, [l.intermediate_size, H]);
    m.set(`${p}.mlp.down_proj.weight`, [H, l.intermediate_size]);
  });
  m.set('model.norm.weight', [H]);
  if (!cfg.tieWordEmbeddings) m.set('lm_head.weight', [cfg.vocabSize, H]);
  return m;
}

/** Total parameter count of a config. */
export function countParams(cfg: LlamaConfig): number {
  let n = 0;
  for (const s of expectedShapes(cfg).values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}

/** The decoder linear modules, in HF naming. */
export const LINEAR_MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type LinearModule = (typeof LINEAR_MODULES)[number];
/** The attention projections (the ones `attention_bias` gives a bias). */
export const ATTENTION_MODULES: readonly LinearModule[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj'];

/** The modules LoRA can adapt: every decoder linear, and the output head. */
export const LORA_TARGETS = [...LINEAR_MODULES, 'lm_head'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

/** The HF module path of a decoder linear: `model.layers.2.self_attn.q_proj`, `model.layers.2.mlp.up_proj`. */
export function moduleName(layer: number, mod: LinearModule): string {
  return `model.layers.${layer}.${ATTENTION_MODULES.includes(mod) ? 'self_attn' : 'mlp'}.${mod}`;
}

/** Inverse of moduleName; null for a name that is not a decoder linear's module. */
export function parseModuleName(name: string): { layer: number; mod: LinearModule } | null {
  const m = /^model\.layers\.(\d+)\.(self_attn|mlp)\.([a-z_]+)$/.exec(name);
  const mod = m?.[3] as LinearModule | undefined;
  if (!m || !mod || !LINEAR_MODULES.includes(mod)) return null;
  const layer = Number(m[1]);
  return moduleName(layer, mod) === name ? { layer, mod } : null;
}

/** The HF weight name of a decoder linear: `model.layers.2.self_attn.q_proj.weight`. */
export function linearName(layer: number, mod: LinearModule): string {
  return `${moduleName(layer, mod)}.weight`;
}
