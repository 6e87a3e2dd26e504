import {
  countParams,
  LORA_TARGETS,
  parseHfConfig,
  type LoraTarget,
  type LayerSize,
  type LinearModule,
  type LlamaConfig,
} from '../model/config';
import { nf4StorageBytesFor, NF4_DEFAULT_BLOCK_SIZE, NF4_NESTED_BLOCK_SIZE } from '../quant/nf4';
import { isPresetName, presetConfig, type PresetName } from './presets';
import { PRUNE_STRATEGY_NAMES, strategyOf } from '../prune/strategy-rules';
import type { PruneStrategyName } from '../prune/strategies';

/**
 * LoRAM memory planner (loram-method.md §7, §8).
 *
 * Two accountings are reported side by side, as §12.4 asks:
 * - the paper's: parameter counts only, every parameter at 16 bit (LoRAM) or exactly 4 bit (QLoRAM),
 *   `reduction` and `hbmGiB` exactly as in Tables 4-6;
 * - a realistic byte estimate: NF4 + double quantization on decoder linears only, 16-bit embeddings, lm_head
 *   and norms, LoRA weights/gradients/AdamW states, activations for one micro-batch, and a dequantization
 *   workspace.
 */

/** ε of §8.1: guards floor() against float error (e.g. 40·0.65 = 25.999…). */
export const PRUNE_EPS = 1e-9;

/** What the planner plans: no pruning (plain LoRA), or a strategy of the table in prune/strategies.ts. */
export type PruneStrategy = 'none' | PruneStrategyName;
export const PLAN_STRATEGIES: readonly PruneStrategy[] = ['none', ...PRUNE_STRATEGY_NAMES];
export type QuantMode = 'none' | 'nf4';
export type LayerRange = readonly [start: number, end: number];
/** §4: r=8 on the 7 projections AND lm_head. */
export const DEFAULT_LORA_TARGETS: readonly LoraTarget[] = LORA_TARGETS;

export function isStructured(s: PruneStrategy): boolean {
  return s !== 'none' && strategyOf(s).structured;
}

/**
 * Default pruned layer range [start, end) (§2.2: the first 4 and last 2 decoder layers stay unpruned).
 * Rule: keep head = min(4, ceil(L/10)) leading and tail = min(2, ceil(L/20)) trailing layers, i.e. about 10% of the
 * depth in front and 5% at the back (the layers pruning hurts most), never more than the paper's 4 and 2, never
 * fewer than 1 each. Gives [4, L−2) for every L ≥ 31 (80 → [4,78) as in the code, 40 → [4,38), 32 → [4,30) as
 * LLM-Pruner's 7B recipe), [2,15) for L=16, [1,7) for L=8; L ≤ 2 prunes nothing (empty range).
 */
export function defaultPrunedLayerRange(numLayers: number): [number, number] {
  if (!Number.isInteger(numLayers) || numLayers < 0) throw new Error(`numLayers must be a non-negative integer, got ${numLayers}`);
  const head = Math.min(4, Math.ceil(numLayers / 10));
  const tail = Math.min(2, Math.ceil(numLayers / 20));
  const start = Math.min(head, numLayers);
  return [start, Math.max(start, numLayers - tail)];
}

/** The layers a strategy prunes by default: the paper's range for structured, every layer otherwise. */
export function defaultLayerRange(strategy: PruneStrategyName, numLayers: number): [number, number] {
  return strategyOf(strategy).structured ? defaultPrunedLayerRange(numLayers) : [0, numLayers];
}

function checkRange(range: LayerRange, numLayers: number): [number, number] {
  const [s, e] = range;
  if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e < s || e > numLayers) {
    throw new Error(`pruned layer range [${s}, ${e}) is not a valid [start, end) within 0..${numLayers}`);
  }
  return [s, e];
}

function checkRatio(ratio: number, structured: boolean): void {
  const ok = Number.isFinite(ratio) && ratio >= 0 && (structured ? ratio < 1 : ratio <= 1);
  if (!ok) throw new Error(`pruning ratio must be in [0, 1${structured ? ')' : ']'}, got ${ratio}`);
}

/** Kept KV heads: n_kv − floor(n_kv·p + ε) (§2.2, §8.1). With n_kv = n_h (MHA) this is the kept head count. */
export function keptKvHeads(numKvHeads: number, ratio: number): number {
  return numKvHeads - Math.floor(numKvHeads * ratio + PRUNE_EPS);
}

/** Kept MLP channels: floor(I·(1−p) + ε) (§2.2: code's I − ceil(I·p), LLM-Pruner's int(C·(1−p))). */
export function keptChannels(intermediate: number, ratio: number): number {
  return Math.floor(intermediate * (1 - ratio) + PRUNE_EPS);
}

/**
 * Per-layer sizes after structured pruning with ratio p of the layers in `layerRange` (default
 * `defaultPrunedLayerRange`). THE single source of truth for kept sizes: the pruning code uses it too.
 * GQA removes whole KV groups (n_kv' = n_kv − floor(n_kv·p+ε), n_h' = n_kv'·g); MHA (g = 1) is the same formula.
 * `cfg` must be the original (unpruned) config: the ratio applies to each layer's current sizes.
 */
export function keptLayerSizes(cfg: LlamaConfig, ratio: number, layerRange?: LayerRange): LayerSize[] {
  checkRatio(ratio, true);
  const [start, end] = checkRange(layerRange ?? defaultPrunedLayerRange(cfg.numLayers), cfg.numLayers);
  return cfg.layers.map((l, i) => {
    if (i < start || i >= end) return { ...l };
    const group = l.num_attention_heads / l.num_key_value_heads;
    const kv = keptKvHeads(l.num_key_value_heads, ratio);
    return { num_attention_heads: kv * group, num_key_value_heads: kv, intermediate_size: keptChannels(l.intermediate_size, ratio) };
  });
}

/** [out, in] of every decoder linear of a layer with the given sizes. */
export function layerLinearShapes(cfg: LlamaConfig, size: LayerSize): Record<LinearModule, [number, number]> {
  const H = cfg.hiddenSize;
  const q = size.num_attention_heads * cfg.headDim;
  const kv = size.num_key_value_heads * cfg.headDim;
  const I = size.intermediate_size;
  return {
    q_proj: [q, H],
    k_proj: [kv, H],
    v_proj: [kv, H],
    o_proj: [H, q],
    gate_proj: [I, H],
    up_proj: [I, H],
    down_proj: [H, I],
  };
}

/** Σ of decoder linear weights over layers [start, end) (biases excluded, as in §8.1). */
export function decoderLinearParams(cfg: LlamaConfig, layers: readonly LayerSize[] = cfg.layers, range: LayerRange = [0, layers.length]): number {
  let n = 0;
  for (let i = range[0]; i < range[1]; i++) {
    for (const [o, inp] of Object.values(layerLinearShapes(cfg, layers[i]!))) n += o * inp;
  }
  return n;
}

/** Accept a preset name, a parsed LlamaConfig, or a raw HF config.json object. */
export function resolveConfig(model: PresetName | LlamaConfig | Record<string, unknown>): LlamaConfig {
  if (typeof model === 'string') {
    if (!isPresetName(model)) throw new Error(`unknown model preset "${model}"`);
    return presetConfig(model);
  }
  if ('layers' in model && 'hiddenSize' in model) return model as LlamaConfig;
  return parseHfConfig(model);
}

export interface MemoryPlanInput {
  model: PresetName | LlamaConfig | Record<string, unknown>;
  strategy: PruneStrategy;
  /** Pruning ratio p (structured) or sparsity s (semi/unst). Ignored for 'none'. Default 0. */
  ratio?: number;
  quant?: QuantMode;
  /**
   * Layers pruned, [start, end). Structured default: `defaultPrunedLayerRange`. Non-structured default: all layers
   * (§2.3: SparseGPT on every linear of all 40 layers).
   */
  layerRange?: LayerRange;
  lora?: { rank?: number; targets?: readonly LoraTarget[]; dropout?: number };
  /** Micro-batch size (Table 8: 4). */
  batch?: number;
  /** Sequence length in tokens (Table 8 / cutoff_len: 512). */
  seqLen?: number;
  /** HF per-decoder-layer gradient checkpointing (the LoRAM code does not use it). */
  gradientCheckpointing?: boolean;
  /** 'sdpa' (flash / memory-efficient, no T² buffer; transformers' default) or 'eager' (stores b·h·T² probabilities). */
  attention?: 'sdpa' | 'eager';
  /** GPU memory in GiB; sets `fits`. */
  gpuGiB?: number;
  nf4?: { blockSize?: number; doubleQuant?: boolean };
}

export interface ByteBreakdown {
  decoderLinears: number;
  embedTokens: number;
  lmHead: number;
  norms: number;
  biases: number;
}

export interface MemoryPlan {
  config: LlamaConfig;
  strategy: PruneStrategy;
  ratio: number;
  quant: QuantMode;
  /** Layers the strategy prunes ([start, end)); null for 'none'. */
  prunedLayerRange: [number, number] | null;
  /** Stored per-layer sizes (structured: pruned; others: original). */
  layerSizes: LayerSize[];

  /** N_orig. */
  originalParams: number;
  /** N_pruned: parameters after pruning (structured: physically kept; semi/unst: non-zeros). */
  prunedParams: number;
  /** Parameters actually held in memory (semi/unst store zeros densely: = originalParams). */
  storedParams: number;
  /** The paper's "#Pruned" column: N_pruned, or N_pruned/4 for QLoRAM (every parameter at exactly 4 bit). */
  equivalentParams: number;
  /** Paper accounting (§8.2): N_orig/N_pruned, QLoRAM 4·N_orig/N_pruned. */
  reduction: number;
  /** Paper accounting (§8.2): 2·N_pruned/2^30, QLoRAM N_pruned/2^31. */
  hbmGiB: number;

  lora: { rank: number; targets: LoraTarget[]; dropout: number; params: number };
  bytes: {
    baseWeights: number;
    base: ByteBreakdown;
    loraWeights: number;
    loraGrads: number;
    optimizerStates: number;
    activations: number;
    /** Activation part stored per decoder layer (before checkpointing is applied). */
    activationPerLayer: number[];
    /** Final norm, lm_head LoRA and logits/loss buffers. */
    activationHead: number;
    /** Transient buffers: one dequantized bf16 decoder weight at a time under NF4. */
    workspace: number;
    total: number;
  };
  gib: { baseWeights: number; lora: number; activations: number; workspace: number; total: number };
  gpuGiB: number | null;
  fits: boolean | null;
  /** Precision and modelling assumptions behind the realistic estimate. */
  assumptions: string[];
}

const GIB = 2 ** 30;
/** bf16 for frozen 16-bit weights and activations (§4: bf16 training). */
const HALF = 2;
/** PEFT keeps adapters in fp32; fp32 gradients; torch AdamW: fp32 m and v. */
const LORA_WEIGHT_BYTES = 4;
const LORA_GRAD_BYTES = 4;
const ADAM_STATE_BYTES = 8;

/** LoRA parameter count r·(in + out) for each target module, on the stored shapes. */
export function loraParams(cfg: LlamaConfig, layers: readonly LayerSize[], rank: number, targets: readonly LoraTarget[]): number {
  let n = 0;
  for (const size of layers) {
    const shapes = layerLinearShapes(cfg, size);
    for (const t of targets) if (t !== 'lm_head') n += rank * (shapes[t][0] + shapes[t][1]);
  }
  if (targets.includes('lm_head')) n += rank * (cfg.vocabSize + cfg.hiddenSize);
  return n;
}

export interface ActivationOptions {
  batch: number;
  seqLen: number;
  rank: number;
  targets: readonly LoraTarget[];
  dropout: number;
  attention: 'sdpa' | 'eager';
}

/**
 * Bytes autograd keeps for backward in one decoder layer (bf16 activations, a = 2; N = batch·seqLen tokens;
 * q = n_h'·hd, kv = n_kv'·hd, I = I'):
 *   attention: residual input N·H·a, RMSNorm output N·H·a + rstd N·4, RoPE'd q, k and v N·(q+2kv)·a,
 *     sdpa: saved output N·q·a + logsumexp b·h·T·4; eager: fp32 softmax + bf16 copy b·h·T²·(4+a) and, for GQA,
 *     repeat_kv copies N·2(q−kv)·a; o_proj input N·q·a;
 *   MLP: residual input N·H·a, RMSNorm output N·H·a + N·4, gate, silu(gate), up and their product 4·N·I·a;
 *   LoRA per target with input width d: dropout mask + dropped copy N·d·(1+a) when dropout > 0 (PEFT applies a
 *     separate nn.Dropout per module), A output N·r·a.
 * Frozen linears need no stored input of their own (the tensors above are those inputs).
 */
export function layerActivationBytes(cfg: LlamaConfig, size: LayerSize, o: ActivationOptions): number {
  const N = o.batch * o.seqLen;
  const H = cfg.hiddenSize;
  const q = size.num_attention_heads * cfg.headDim;
  const kv = size.num_key_value_heads * cfg.headDim;
  const I = size.intermediate_size;
  const a = HALF;
  let bytes = 0;
  bytes += N * H * a + N * H * a + N * 4;
  bytes += N * (q + 2 * kv) * a;
  if (o.attention === 'eager') {
    bytes += o.batch * size.num_attention_heads * o.seqLen * o.seqLen * (4 + a);
    bytes += N * 2 * (q - kv) * a;
  } else {
    bytes += N * q * a + o.batch * size.num_attention_heads * o.seqLen * 4;
  }
  bytes += N * q * a;
  bytes += N * H * a + N * H * a + N * 4;
  bytes += 4 * N * I * a;
  const shapes = layerLinearShapes(cfg, size);
  for (const t of o.targets) {
    if (t === 'lm_head') continue;
    if (o.dropout > 0) bytes += N * shapes[t][1] * (1 + a);
    bytes += N * o.rank * a;
  }
  return bytes;
}

/** Final RMSNorm, lm_head LoRA, logits in bf16 + fp32 upcast + fp32 log-softmax kept for the loss backward. */
export function headActivationBytes(cfg: LlamaConfig, o: ActivationOptions): number {
  const N = o.batch * o.seqLen;
  const H = cfg.hiddenSize;
  const a = HALF;
  let bytes = N * H * a + N * H * a + N * 4;
  if (o.targets.includes('lm_head')) {
    if (o.dropout > 0) bytes += N * H * (1 + a);
    bytes += N * o.rank * a;
  }
  bytes += N * cfg.vocabSize * (a + 4 + 4);
  return bytes;
}

function baseWeightBytes(cfg: LlamaConfig, layers: readonly LayerSize[], quant: QuantMode, nf4: { blockSize: number; doubleQuant: boolean }): ByteBreakdown {
  const H = cfg.hiddenSize;
  let decoderLinears = 0;
  let biases = 0;
  for (const size of layers) {
    for (const [o, i] of Object.values(layerLinearShapes(cfg, size))) {
      const n = o * i;
      // §7: bnb quantizes nn.Linear weights of the decoder only, each tensor with its own absmax/DQ state.
      decoderLinears += quant === 'nf4' ? nf4StorageBytesFor(n, { blockSize: nf4.blockSize, doubleQuant: nf4.doubleQuant }) : n * HALF;
    }
    // q/k/v biases, and o_proj's (in the hidden dimension, so never pruned).
    if (cfg.attentionBias) biases += ((size.num_attention_heads + 2 * size.num_key_value_heads) * cfg.headDim + H) * HALF;
  }
  return {
    decoderLinears,
    embedTokens: cfg.vocabSize * H * HALF,
    lmHead: cfg.tieWordEmbeddings ? 0 : cfg.vocabSize * H * HALF,
    norms: (2 * layers.length + 1) * H * HALF,
    biases,
  };
}

export function planMemory(input: MemoryPlanInput): MemoryPlan {
  const p = checkedPlanInput(input);
  const { cfg, strategy, ratio, quant } = p;
  const pruned = prunedShape(cfg, strategy, ratio, input.layerRange, p.assumptions);
  const { originalParams, prunedParams, layerSizes } = pruned;
  // §8.2 paper accounting.
  const equivalentParams = quant === 'nf4' ? prunedParams / 4 : prunedParams;
  const bytes = trainingBytes(p, layerSizes);
  p.assumptions.push(
    quant === 'nf4'
      ? `base: decoder linears NF4 block ${p.nf4.blockSize}${p.nf4.doubleQuant ? ` + double quantization (8-bit absmax, fp32 scale per ${NF4_NESTED_BLOCK_SIZE} blocks)` : ' with fp32 absmax'}; embed_tokens, lm_head, norms${cfg.attentionBias ? ', biases' : ''} bf16`
      : 'base: every weight bf16',
    'LoRA: fp32 weights (PEFT), fp32 gradients, torch AdamW fp32 m and v = 16 bytes per LoRA parameter',
    `activations: bf16, micro-batch ${p.batch} × ${p.seqLen} tokens, ${p.attention} attention, ${p.checkpointing ? 'gradient checkpointing per decoder layer' : 'no gradient checkpointing'}, LoRA dropout ${p.dropout}; see layerActivationBytes`,
    'not counted: CUDA context, allocator fragmentation, transient backward gradient buffers',
  );
  const gpuGiB = input.gpuGiB ?? null;
  return {
    config: cfg,
    strategy,
    ratio,
    quant,
    ...pruned,
    equivalentParams,
    reduction: originalParams / equivalentParams,
    hbmGiB: (2 * equivalentParams) / GIB,
    lora: { rank: p.rank, targets: p.targets, dropout: p.dropout, params: bytes.nLora },
    bytes: bytes.bytes,
    gib: {
      baseWeights: bytes.bytes.baseWeights / GIB,
      lora: (bytes.bytes.loraWeights + bytes.bytes.loraGrads + bytes.bytes.optimizerStates) / GIB,
      activations: bytes.bytes.activations / GIB,
      workspace: bytes.bytes.workspace / GIB,
      total: bytes.bytes.total / GIB,
    },
    gpuGiB,
    fits: gpuGiB === null ? null : bytes.bytes.total <= gpuGiB * GIB,
    assumptions: p.assumptions,
  };
}

/** A plan's input with its defaults filled and checked; `assumptions` collects what the plan had to assume. */
interface CheckedPlanInput {
  cfg: LlamaConfig;
  strategy: PruneStrategy;
  ratio: number;
  quant: QuantMode;
  rank: number;
  targets: LoraTarget[];
  dropout: number;
  batch: number;
  seqLen: number;
  nf4: { blockSize: number; doubleQuant: boolean };
  attention: NonNullable<MemoryPlanInput['attention']>;
  checkpointing: boolean;
  assumptions: string[];
}

function checkedPlanInput(input: MemoryPlanInput): CheckedPlanInput {
  const cfg = resolveConfig(input.model);
  const strategy = input.strategy;
  if (!PLAN_STRATEGIES.includes(strategy)) throw new Error(`unknown pruning strategy "${String(strategy)}"`);
  const quant = input.quant ?? 'none';
  if (quant !== 'none' && quant !== 'nf4') throw new Error(`unknown quantization "${String(quant)}"`);
  const assumptions: string[] = [];
  let ratio = input.ratio ?? 0;
  if (strategy === 'none') {
    if (ratio !== 0) assumptions.push(`ratio ${ratio} ignored: strategy "none" prunes nothing`);
    ratio = 0;
  }
  checkRatio(ratio, isStructured(strategy));
  const rank = input.lora?.rank ?? 8;
  const batch = input.batch ?? 4;
  const seqLen = input.seqLen ?? 512;
  for (const [k, v] of [['lora rank', rank], ['batch', batch], ['seqLen', seqLen]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${k} must be a positive integer, got ${v}`);
  }
  return {
    cfg,
    strategy,
    ratio,
    quant,
    rank,
    targets: [...(input.lora?.targets ?? DEFAULT_LORA_TARGETS)],
    dropout: input.lora?.dropout ?? 0.05,
    batch,
    seqLen,
    nf4: { blockSize: input.nf4?.blockSize ?? NF4_DEFAULT_BLOCK_SIZE, doubleQuant: input.nf4?.doubleQuant ?? true },
    attention: input.attention ?? 'sdpa',
    checkpointing: input.gradientCheckpointing ?? false,
    assumptions,
  };
}

/** §8.1: the parameters after pruning, and the per-layer sizes training holds. */
function prunedShape(cfg: LlamaConfig, strategy: PruneStrategy, ratio: number, layerRange: LayerRange | undefined, assumptions: string[]) {
  const originalParams = countParams(cfg);
  if (strategy === 'none') return { prunedLayerRange: null, layerSizes: cfg.layers.map((l) => ({ ...l })), originalParams, prunedParams: originalParams, storedParams: originalParams };
  const prunedLayerRange = checkRange(layerRange ?? defaultLayerRange(strategy, cfg.numLayers), cfg.numLayers);
  if (isStructured(strategy)) {
    const layerSizes = keptLayerSizes(cfg, ratio, prunedLayerRange);
    const prunedParams = countParams({ ...cfg, layers: layerSizes });
    return { prunedLayerRange, layerSizes, originalParams, prunedParams, storedParams: prunedParams };
  }
  // N_orig − s·(decoder linear weights of the pruned layers); zeros are stored densely (Table 1 caption).
  assumptions.push('semi/unst: pruned weights are stored as zeros, so realistic bytes equal the unpruned model (Table 1 caption)');
  const prunedParams = originalParams - Math.round(ratio * decoderLinearParams(cfg, cfg.layers, prunedLayerRange));
  return { prunedLayerRange, layerSizes: cfg.layers.map((l) => ({ ...l })), originalParams, prunedParams, storedParams: originalParams };
}

/** The realistic byte estimate: base weights, LoRA with its gradients and AdamW states, activations, workspace. */
function trainingBytes(p: CheckedPlanInput, layerSizes: readonly LayerSize[]): { nLora: number; bytes: MemoryPlan['bytes'] } {
  const { cfg, batch, seqLen } = p;
  const base = baseWeightBytes(cfg, layerSizes, p.quant, p.nf4);
  const baseWeights = base.decoderLinears + base.embedTokens + base.lmHead + base.norms + base.biases;
  const nLora = loraParams(cfg, layerSizes, p.rank, p.targets);
  const actOpts: ActivationOptions = { batch, seqLen, rank: p.rank, targets: p.targets, dropout: p.dropout, attention: p.attention };
  const activationPerLayer = layerSizes.map((s) => layerActivationBytes(cfg, s, actOpts));
  const activationHead = headActivationBytes(cfg, actOpts);
  const activations = p.checkpointing
    ? // Only each layer's input is kept; backward recomputes one layer at a time.
      layerSizes.length * batch * seqLen * cfg.hiddenSize * HALF + Math.max(0, ...activationPerLayer) + activationHead
    : activationPerLayer.reduce((x, y) => x + y, 0) + activationHead;
  let workspace = 0;
  if (p.quant === 'nf4') {
    let maxLinear = 0;
    for (const s of layerSizes) for (const [o, i] of Object.values(layerLinearShapes(cfg, s))) maxLinear = Math.max(maxLinear, o * i);
    workspace = maxLinear * HALF;
  }
  const loraWeights = nLora * LORA_WEIGHT_BYTES;
  const loraGrads = nLora * LORA_GRAD_BYTES;
  const optimizerStates = nLora * ADAM_STATE_BYTES;
  const total = baseWeights + loraWeights + loraGrads + optimizerStates + activations + workspace;
  return { nLora, bytes: { baseWeights, base, loraWeights, loraGrads, optimizerStates, activations, activationPerLayer, activationHead, workspace, total } };
}
