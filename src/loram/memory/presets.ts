import { parseHfConfig, type LlamaConfig } from '../model/config';

/**
 * The public Hugging Face `config.json` values of the models the LoRAM paper uses (meta-llama/Llama-2-{7b,13b,70b}-hf,
 * meta-llama/Llama-3.1-{8B,70B}). Only architecture fields matter to the planner; they are kept as HF JSON and
 * parsed by `parseHfConfig`, so presets go through the very path a user's own config.json takes.
 * Parameter counts (checked in the tests, loram-method.md §8.2): 6,738,415,616 / 13,015,864,320 /
 * 68,976,648,192 / 8,030,261,248 / 70,553,706,496.
 */
const LLAMA2_COMMON = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  vocab_size: 32000,
  hidden_act: 'silu',
  max_position_embeddings: 4096,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  rope_scaling: null,
  tie_word_embeddings: false,
  attention_bias: false,
  bos_token_id: 1,
  eos_token_id: 2,
  torch_dtype: 'float16',
};

// LLaMA-3.1: rope_theta 500000 and the "llama3" rope scaling (factor 8, low 1, high 4, original context 8192).
const LLAMA31_COMMON = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  vocab_size: 128256,
  hidden_act: 'silu',
  max_position_embeddings: 131072,
  rms_norm_eps: 1e-5,
  rope_theta: 500000,
  rope_scaling: { factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  tie_word_embeddings: false,
  attention_bias: false,
  mlp_bias: false,
  bos_token_id: 128000,
  eos_token_id: 128001,
  torch_dtype: 'bfloat16',
};

/**
 * Small real models (the bench/loram-memory shapes), from their public Hugging Face `config.json`:
 * HuggingFaceTB/SmolLM2-{135M,360M,1.7B}, TinyLlama/TinyLlama-1.1B-Chat-v1.0, meta-llama/Llama-3.2-1B.
 * Parameter counts (checked in the tests): 134,515,008 / 361,821,120 / 1,711,376,384 / 1,100,048,384 / 1,235,814,400.
 */
const SMOLLM2_COMMON = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  vocab_size: 49152,
  hidden_act: 'silu',
  max_position_embeddings: 8192,
  rms_norm_eps: 1e-5,
  rope_scaling: null,
  tie_word_embeddings: true,
  attention_bias: false,
  mlp_bias: false,
  torch_dtype: 'bfloat16',
};

export const PRESET_HF_CONFIGS = {
  'smollm2-135m': { ...SMOLLM2_COMMON, hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30, num_attention_heads: 9, num_key_value_heads: 3, rope_theta: 100000, bos_token_id: 0, eos_token_id: 0 },
  'smollm2-360m': { ...SMOLLM2_COMMON, hidden_size: 960, intermediate_size: 2560, num_hidden_layers: 32, num_attention_heads: 15, num_key_value_heads: 5, rope_theta: 100000, bos_token_id: 0, eos_token_id: 0 },
  'smollm2-1.7b': { ...SMOLLM2_COMMON, hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 24, num_attention_heads: 32, num_key_value_heads: 32, rope_theta: 130000, bos_token_id: 1, eos_token_id: 2 },
  'tinyllama-1.1b': {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: 32000,
    hidden_size: 2048,
    intermediate_size: 5632,
    num_hidden_layers: 22,
    num_attention_heads: 32,
    num_key_value_heads: 4,
    hidden_act: 'silu',
    max_position_embeddings: 2048,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    rope_scaling: null,
    tie_word_embeddings: false,
    attention_bias: false,
    bos_token_id: 1,
    eos_token_id: 2,
    torch_dtype: 'bfloat16',
  },
  'llama-3.2-1b': {
    ...LLAMA31_COMMON,
    rope_scaling: { factor: 32.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
    hidden_size: 2048,
    intermediate_size: 8192,
    num_hidden_layers: 16,
    num_attention_heads: 32,
    num_key_value_heads: 8,
    head_dim: 64,
    tie_word_embeddings: true,
  },
  'llama-2-7b': { ...LLAMA2_COMMON, hidden_size: 4096, intermediate_size: 11008, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 32 },
  'llama-2-13b': { ...LLAMA2_COMMON, hidden_size: 5120, intermediate_size: 13824, num_hidden_layers: 40, num_attention_heads: 40, num_key_value_heads: 40 },
  'llama-2-70b': { ...LLAMA2_COMMON, hidden_size: 8192, intermediate_size: 28672, num_hidden_layers: 80, num_attention_heads: 64, num_key_value_heads: 8 },
  'llama-3.1-8b': { ...LLAMA31_COMMON, hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8 },
  'llama-3.1-70b': { ...LLAMA31_COMMON, hidden_size: 8192, intermediate_size: 28672, num_hidden_layers: 80, num_attention_heads: 64, num_key_value_heads: 8 },
} as const satisfies Record<string, Record<string, unknown>>;

export type PresetName = keyof typeof PRESET_HF_CONFIGS;
export const PRESET_NAMES = Object.keys(PRESET_HF_CONFIGS) as PresetName[];

export function isPresetName(s: string): s is PresetName {
  return Object.prototype.hasOwnProperty.call(PRESET_HF_CONFIGS, s);
}

/** A fresh LlamaConfig for a preset (callers may mutate it). */
export function presetConfig(name: PresetName): LlamaConfig {
  const json = PRESET_HF_CONFIGS[name];
  if (!json) throw new Error(`unknown model preset "${String(name)}"; known: ${PRESET_NAMES.join(', ')}`);
  return parseHfConfig(structuredClone(json), `preset ${name}`);
}
