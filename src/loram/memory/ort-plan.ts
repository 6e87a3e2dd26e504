/**
 * The training-step peak of LoRA / LoRAM / QLoRAM on LoRAM Studio's own runtime (ONNX Runtime, CPU provider, host
 * AdamW), predicted by building the very training graph the trainer runs — on placeholder weights that hold no
 * data (initializers are sized from their shapes and never serialized) — and replaying its live bytes
 * (ort-train/live-bytes.ts) in node order, plus what lives outside the session:
 *
 *   session:   frozen weights as stored (f32; NF4 codes + double-quantized absmax, f16 embedding / lm_head),
 *              the fed batch and dropout masks, and the peak of intermediates (activations the backward keeps,
 *              attention probabilities, logits and their gradient, NF4 dequantization buffers, recomputation
 *              under checkpointing, gradients on their way out);
 *   host:      AdamW (train/host-adamw.ts) keeps, per trainable tensor, the working copy the session is fed in
 *              place, m, v and the gradient accumulator the session writes into (16 B per trainable value; 20 B
 *              with a receive buffer for gradient accumulation), plus the run's own arrays the trained weights are
 *              written back to (4 B). The fed trainables and their gradient outputs are therefore left out of the
 *              session's bytes (ort-train/llama-graph.ts hostOwnedValues);
 *   runtime:   what neither counts, above a warm, idle process: a fixed part (start-up left resident, runtime
 *              initialisation) and a part per graph node (ORT's session keeps kernels and plans per node) —
 *              ortRuntimeBytes, fitted to bench/loram-memory's measurements (docs/memory.md).
 *
 * bench/loram-memory checks it against the resident size of real training steps. ORT runs nodes in its own
 * topological order; the graph holds data edges (tape.ts gateOn) that make that order keep what this one keeps.
 */
import { expectedShapes, LORA_TARGETS, type LlamaConfig, type LoraTarget } from '../model/config';
import { DenseBases, Nf4Bases } from '../ort-train/base-linears';
import { buildTrainGraph, hostOwnedValues, type TrainGraph } from '../ort-train/llama-graph';
import { graphMemory } from '../ort-train/live-bytes';
import { NF4_DEFAULT_BLOCK_SIZE, NF4_NESTED_BLOCK_SIZE, type Nf4Options, type Nf4Quantized } from '../quant/nf4';
import { numel, type HostTensor, type WeightMap } from '../util/tensor';
import { defaultLayerRange, isStructured, keptLayerSizes, resolveConfig, type LayerRange, type PruneStrategy, type QuantMode } from './planner';
import type { PresetName } from './presets';

/**
 * The resident cost beyond the bytes the graph and the host optimizer account for, as bench/loram-memory measures
 * it (the process's peak above a warm, idle ORT process): measured − accounted grows with the graph's node count,
 * from 23–38 MiB at the built-in family's 879–2057 nodes to 40–96 MiB at SmolLM2-135M's 5553–14823. Fixed + per
 * node, the two constants fitted (minimax) to the 36 measured rows of three scales (built-in family at LoRA-Train's
 * defaults, SmolLM2-135M, TinyLlama-1.1B): every row within 7.6% (docs/memory.md). Fitted without TinyLlama they
 * predict it within 6.8%, without SmolLM2 within 12.8%; the built-in rows (small graphs) pin the fixed part. What
 * it holds: start-up left resident (V8 and allocator state after the graph's build and serialization), runtime
 * initialisation, and per node the session's own state (~4 KiB per node measured for the session alone).
 */
export const ORT_RUNTIME_FIXED_BYTES = 21 * 2 ** 20;
export const ORT_RUNTIME_BYTES_PER_NODE = 5.75 * 1024;

/** The runtime term of a plan: fixed + per node of the training graph. */
export function ortRuntimeBytes(graphNodes: number): number {
  return ORT_RUNTIME_FIXED_BYTES + ORT_RUNTIME_BYTES_PER_NODE * graphNodes;
}

/**
 * Host bytes per trainable value: HostAdamW's working copy, m, v and gradient accumulator (4 × 4 B), and the run's
 * own array (4 B); a receive buffer adds 4 B when gradients are accumulated over micro-batches.
 */
export const HOST_BYTES_PER_TRAINABLE = 20;
export const HOST_RECEIVE_BYTES_PER_TRAINABLE = 4;

export interface OrtPlanInput {
  model: PresetName | LlamaConfig | Record<string, unknown>;
  strategy: PruneStrategy;
  ratio?: number;
  layerRange?: LayerRange;
  quant?: QuantMode;
  lora?: { rank?: number; alpha?: number; targets?: readonly LoraTarget[]; dropout?: number };
  batch?: number;
  seqLen?: number;
  checkpointing?: boolean;
  /** Micro-batches per optimizer step (default 1); above 1 the host optimizer keeps a receive buffer. */
  gradAccum?: number;
  /** NF4 storage when `quant` is nf4 (default block 64, double quantization: QLoRA's). */
  nf4?: { blockSize: number; doubleQuant: boolean };
}

export interface OrtPlan {
  runtime: 'ort';
  /** The config the session is built on (pruned sizes for structured strategies). */
  config: LlamaConfig;
  trainableParams: number;
  /** Nodes of the training graph (the runtime term grows with them). */
  graphNodes: number;
  bytes: {
    /** Frozen weights as stored in the session. */
    weights: number;
    /** Fed every step from the runtime's side: token batch, dropout masks (the LoRA weights are the host's). */
    fed: number;
    /** Peak of the step's intermediates on top of weights and feeds (activations, logits, gradients, buffers). */
    activations: number;
    /** Host AdamW (working copy, m, v, gradient accumulator[, receive buffer]) and the run's arrays. */
    optimizer: number;
    /** ortRuntimeBytes(graphNodes). */
    runtime: number;
    total: number;
  };
  assumptions: string[];
}

let placeholderCount = 0;

/** Shape-only NF4 "quantization": sizes right, no codes (the planner's graph is never serialized). */
function shapeOnlyNf4(w: HostTensor, opts: Nf4Options): Nf4Quantized {
  const n = numel(w.shape);
  const blockSize = opts.blockSize ?? NF4_DEFAULT_BLOCK_SIZE;
  const nb = Math.ceil(n / blockSize);
  const lazy = (length: number) => ({ length, byteLength: length, produce: (): Uint8Array => { throw new Error('planner graph: placeholder NF4 codes are never serialized'); } }) as unknown as Uint8Array;
  const common = { shape: [...w.shape], numel: n, blockSize, packed: lazy(Math.ceil(n / 2)) };
  // Plain absmax (no double quantization) is fp32 the graph stores as it is: zeroed pages, sized, never touched.
  if (opts.doubleQuant === false) return { ...common, doubleQuant: false, absmax: new Float32Array(nb) };
  return {
    ...common,
    doubleQuant: true,
    absmaxQ: lazy(nb),
    absmaxScale: new Float32Array(Math.ceil(nb / NF4_NESTED_BLOCK_SIZE)),
    // Distinct per tensor as real offsets are: the graph's scalar constants are shared by value.
    absmaxOffset: 1 + ++placeholderCount,
    nestedBlockSize: NF4_NESTED_BLOCK_SIZE,
  };
}

/** The model config a plan trains: structured strategies shrink the pruned layers; semi/unst store zeros densely. */
export function plannedConfig(cfg: LlamaConfig, strategy: PruneStrategy, ratio: number, layerRange?: LayerRange): LlamaConfig {
  if (strategy === 'none' || !isStructured(strategy)) return { ...cfg, layers: cfg.layers.map((l) => ({ ...l })) };
  return { ...cfg, layers: keptLayerSizes(cfg, ratio, layerRange ?? defaultLayerRange(strategy, cfg.numLayers)) };
}

/** The training graph the trainer would build for `input`, on placeholder weights (shapes only, never serialized). */
export function planGraph(input: OrtPlanInput): { config: LlamaConfig; graph: TrainGraph } {
  const original = resolveConfig(input.model);
  const ratio = input.strategy === 'none' ? 0 : (input.ratio ?? 0);
  const cfg = plannedConfig(original, input.strategy, ratio, input.layerRange);
  const batch = input.batch ?? 1;
  const seqLen = input.seqLen ?? 256;
  for (const [k, v] of [['batch', batch], ['seqLen', seqLen]] as const) if (!Number.isInteger(v) || v < 1) throw new Error(`${k} must be a positive integer, got ${v}`);
  const rank = input.lora?.rank ?? 8;
  // Placeholder weights: shapes only; the bases size initializers from the shapes and never read the data.
  const weights: WeightMap = new Map([...expectedShapes(cfg)].map(([name, shape]) => [name, { shape, data: new Float32Array(0) }]));
  const bases = input.quant === 'nf4' ? new Nf4Bases(input.nf4 ?? PLAN_NF4, 'cpu', new Map(), shapeOnlyNf4) : new DenseBases();
  const graph = buildTrainGraph({
    config: { ...cfg, maxPositionEmbeddings: Math.max(cfg.maxPositionEmbeddings, seqLen) },
    weights,
    bases,
    mode: { kind: 'lora', lora: { r: rank, alpha: input.lora?.alpha ?? 2 * rank, dropout: input.lora?.dropout ?? 0, targets: [...(input.lora?.targets ?? LORA_TARGETS)] } },
    batch,
    seqLen,
    checkpoint: input.checkpointing ?? false,
  });
  return { config: cfg, graph };
}

const PLAN_NF4 = { blockSize: NF4_DEFAULT_BLOCK_SIZE, doubleQuant: true };

export function planOrtTraining(input: OrtPlanInput): OrtPlan {
  const { config: cfg, graph } = planGraph(input);
  const quant = input.quant ?? 'none';
  const batch = input.batch ?? 1;
  const seqLen = input.seqLen ?? 256;
  const rank = input.lora?.rank ?? 8;
  const targets = [...(input.lora?.targets ?? LORA_TARGETS)];
  const dropout = input.lora?.dropout ?? 0;
  const nf4 = input.nf4 ?? PLAN_NF4;
  const gradAccum = input.gradAccum ?? 1;
  if (!Number.isInteger(gradAccum) || gradAccum < 1) throw new Error(`gradAccum must be a positive integer, got ${gradAccum}`);
  const mem = graphMemory(graph.tape.g, { external: hostOwnedValues(graph) });
  const trainableParams = [...graph.trainables, ...graph.offPathTrainables].reduce((n, f) => n + numel(f.shape), 0);
  const fed = mem.inputBytes;
  const weightsBytes = mem.initializerBytes;
  const activations = mem.peakBytes - weightsBytes - fed;
  const hostPerValue = HOST_BYTES_PER_TRAINABLE + (gradAccum > 1 ? HOST_RECEIVE_BYTES_PER_TRAINABLE : 0);
  const optimizer = trainableParams * hostPerValue;
  const graphNodes = graph.tape.g.nodes.length;
  const runtime = ortRuntimeBytes(graphNodes);
  return {
    runtime: 'ort',
    config: cfg,
    trainableParams,
    graphNodes,
    bytes: { weights: weightsBytes, fed, activations, optimizer, runtime, total: weightsBytes + fed + activations + optimizer + runtime },
    assumptions: [
      'runtime: ONNX Runtime CPU provider (the trainer LoRA-Train runs), f32 compute; peak of one training step',
      quant === 'nf4'
        ? `base: decoder linears NF4 block ${nf4.blockSize}${nf4.doubleQuant ? ' + double quantization' : ', fp32 absmax'}, embedding / lm_head f16, norms f32; each linear dequantized to f32 only for its backward`
        : 'base: every frozen weight f32',
      `LoRA r=${rank} on ${targets.join(', ')}, dropout ${dropout}; batch ${batch} × ${seqLen} tokens; ${input.checkpointing ? 'each decoder layer recomputed in the backward (checkpointing)' : 'no checkpointing'}`,
      'activations: the training graph\'s live bytes in node order (every intermediate freed after its last reader)',
      `host: AdamW working copy + m + v + gradient accumulator${gradAccum > 1 ? ' + receive buffer' : ''} and the run's arrays, ${hostPerValue} B per trainable value`,
      `runtime: ${ORT_RUNTIME_FIXED_BYTES / 2 ** 20} MiB + ${ORT_RUNTIME_BYTES_PER_NODE / 1024} KiB × ${graphNodes} graph nodes = ${(runtime / 2 ** 20).toFixed(1)} MiB (fitted to bench/loram-memory, docs/memory.md)`,
    ],
  };
}
