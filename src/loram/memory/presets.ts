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

export const PRESET_HF_CONFIGS = {
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
