/**
 * Structured pruning (LoRAM-Rand / LoRAM-Stru, loram-method.md §2.1–2.2): whole attention heads — with GQA a KV
 * head together with its g query heads — and whole MLP channels are removed from the layers in a range, and the
 * smaller model is built physically (per-layer sizes in the config).
 *
 * Importance of a group (LLM-Pruner, group reduction "sum" over every coupled weight):
 * - KV head j: rows [j·hd, (j+1)·hd) of k_proj and v_proj, rows of its query heads j·g … j·g+g−1 in q_proj and
 *   the matching columns of o_proj;
 * - MLP channel c: row c of gate_proj and up_proj, column c of down_proj.
 * Scores: `random` (seeded uniform), `magnitude` (L2 norm of the group's weights), `taylor` (LLM-Pruner
 * "param_first": Σ over the group of |w·∂L/∂w|, with ∂L/∂w the gradient of the mean token loss over all
 * calibration batches). Biases are not scored (they follow their rows).
 * Kept sizes come from the memory planner's `keptLayerSizes` (the single source of truth).
 */
import { tf } from '../backend/tf';
import type { LayerSize, LinearModule, LlamaConfig } from '../model/config';
import { LINEAR_MODULES, linearName } from '../model/config';
import { DenseLinear } from '../model/linear';
import { LlamaModel, checkWeights } from '../model/llama';
import type { LmBatch } from '../model/loss';
import { lmLoss } from '../model/loss';
import { defaultPrunedLayerRange, keptLayerSizes } from '../memory/planner';
import type { LayerRange } from '../memory/planner';
import { Rng } from '../util/rng';
import type { HostTensor, WeightMap } from '../util/tensor';
import { select1d, selectCols, selectRows, transpose2d } from '../util/tensor';
import { checkCalibration } from './calibration';
import { CancelledError } from '../../shared/cancelled';
import type { StructuredImportance, StructuredLayerPlan, StructuredPrunePlan } from './plan';
import { archSignature, checkPlanSource, keptIndices, plannedLayerSizes, prunedSide, queryHeadsOf, validateStructuredPlan } from './plan';

export interface ProgressHooks {
  /** Called after each unit of work; throwing (or aborting `signal`) cancels. */
  onProgress?: (done: number, total: number) => void | Promise<void>;
  signal?: AbortSignal;
}

export interface StructuredPruneOptions extends ProgressHooks {
  /** Pruning ratio p in [0, 1). */
  ratio: number;
  importance: StructuredImportance;
  /** Pruned layers [start, end); default `defaultPrunedLayerRange(numLayers)`. */
  layerRange?: LayerRange;
  /** Seed of the random importance (default 42, the LoRAM scripts' seed). */
  seed?: number;
  /** Calibration batches for Taylor importance (LLM-Pruner: 10 samples × 64 tokens). */
  calibration?: readonly LmBatch[];
  /** Refuse Taylor calibration data with fewer real tokens than this (default 1). */
  minCalibrationTokens?: number;
}

export interface LayerImportance {
  layer: number;
  /** One score per KV head (higher = more important). */
  kvHeads: Float64Array;
  /** One score per MLP channel. */
  channels: Float64Array;
}

export interface StructuredPruneResult {
  config: LlamaConfig;
  /** The pruned weights; tensors outside the pruned layers are shared with the input map. */
  weights: WeightMap;
  plan: StructuredPrunePlan;
}

function cancelled(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError();
}

function resolveRange(cfg: LlamaConfig, range: LayerRange | undefined): [number, number] {
  const [s, e] = range ?? defaultPrunedLayerRange(cfg.numLayers);
  if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e < s || e > cfg.numLayers) {
    throw new Error(`pruned layer range [${s}, ${e}) is not a valid [start, end) within 0..${cfg.numLayers}`);
  }
  return [s, e];
}

/**
 * Group sums of per-weight scores S_m (HF layout [out, in]) for one layer: per KV head and per MLP channel.
 */
function groupSums(cfg: LlamaConfig, size: LayerSize, S: (m: LinearModule) => HostTensor): { kv: Float64Array; ch: Float64Array } {
  const hd = cfg.headDim;
  const nkv = size.num_key_value_heads;
  const g = size.num_attention_heads / Math.max(1, nkv);
  const I = size.intermediate_size;
  const kv = new Float64Array(nkv);
  const ch = new Float64Array(I);
  const rowSum = (t: HostTensor, r0: number, r1: number) => {
    const cols = t.shape[1]!;
    let s = 0;
    for (let i = r0 * cols; i < r1 * cols; i++) s += t.data[i]!;
    return s;
  };
  const colSums = (t: HostTensor): Float64Array => {
    const [rows, cols] = t.shape as [number, number];
    const out = new Float64Array(cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c]! += t.data[r * cols + c]!;
    return out;
  };
  const q = S('q_proj');
  const k = S('k_proj');
  const v = S('v_proj');
  const oCols = colSums(S('o_proj'));
  for (let j = 0; j < nkv; j++) {
    let s = rowSum(k, j * hd, (j + 1) * hd) + rowSum(v, j * hd, (j + 1) * hd) + rowSum(q, j * g * hd, (j + 1) * g * hd);
    for (let c = j * g * hd; c < (j + 1) * g * hd; c++) s += oCols[c]!;
    kv[j] = s;
  }
  const gate = S('gate_proj');
  const up = S('up_proj');
  const dCols = colSums(S('down_proj'));
  for (let c = 0; c < I; c++) ch[c] = rowSum(gate, c, c + 1) + rowSum(up, c, c + 1) + dCols[c]!;
  return { kv, ch };
}

function squareMap(t: HostTensor): HostTensor {
  const d = new Float32Array(t.data.length);
  for (let i = 0; i < d.length; i++) d[i] = t.data[i]! * t.data[i]!;
  return { shape: t.shape, data: d };
}

/**
 * Importance scores of every KV head and MLP channel in the pruned layers. Taylor runs forward/backward passes
 * of a temporary tfjs model over the calibration batches (only the pruned layers' kernels get gradients).
 */
export async function structuredImportance(
  cfg: LlamaConfig,
  weights: WeightMap,
  opts: { importance: StructuredImportance; layerRange?: LayerRange; seed?: number; calibration?: readonly LmBatch[]; minCalibrationTokens?: number } & ProgressHooks,
): Promise<LayerImportance[]> {
  const [start, end] = resolveRange(cfg, opts.layerRange);
  const layers = Array.from({ length: end - start }, (_, k) => start + k);
  const get = (n: string) => {
    const t = weights.get(n);
    if (!t) throw new Error(`missing tensor ${n}`);
    return t;
  };
  switch (opts.importance) {
    case 'random': {
      const rng = new Rng(opts.seed ?? 42);
      return layers.map((i) => {
        const l = cfg.layers[i]!;
        return {
          layer: i,
          kvHeads: Float64Array.from({ length: l.num_key_value_heads }, () => rng.next()),
          channels: Float64Array.from({ length: l.intermediate_size }, () => rng.next()),
        };
      });
    }
    case 'magnitude':
      return layers.map((i) => {
        const { kv, ch } = groupSums(cfg, cfg.layers[i]!, (m) => squareMap(get(linearName(i, m))));
        return { layer: i, kvHeads: kv.map(Math.sqrt), channels: ch.map(Math.sqrt) };
      });
    case 'taylor':
      return taylorImportance(cfg, weights, layers, opts);
    default:
      throw new Error(`unknown importance "${String(opts.importance)}" (random, magnitude or taylor)`);
  }
}

async function taylorImportance(cfg: LlamaConfig, weights: WeightMap, layers: number[], opts: { calibration?: readonly LmBatch[]; minCalibrationTokens?: number } & ProgressHooks): Promise<LayerImportance[]> {
  const batches = opts.calibration;
  checkCalibration(batches, { what: 'Taylor importance', minLabels: 1, minTokens: opts.minCalibrationTokens, vocabSize: cfg.vocabSize, maxPositions: cfg.maxPositionEmbeddings });
  if (layers.length === 0) return [];
  const model = LlamaModel.fromWeights(cfg, weights, { trainable: false });
  try {
    const kernels: { layer: number; mod: LinearModule; v: tf.Variable }[] = [];
    for (const i of layers) {
      for (const m of LINEAR_MODULES) {
        const lin = model.layers[i]!.linears[m];
        if (!(lin instanceof DenseLinear)) throw new Error('internal: expected dense linears');
        if (lin.inFeatures === 0 || lin.outFeatures === 0) continue;
        lin.kernel.trainable = true; // temporary model: only these kernels get gradients
        kernels.push({ layer: i, mod: m, v: lin.kernel });
      }
    }
    const vars = kernels.map((k) => k.v);
    let acc: tf.Tensor[] | null = null;
    let total = 0;
    for (const [bi, b] of batches!.entries()) {
      cancelled(opts.signal);
      let count = 0;
      const { value, grads } = tf.variableGrads(() => {
        const r = lmLoss(model, b);
        count = r.count;
        return tf.mul(r.loss, r.count) as tf.Scalar; // sum of token losses: accumulates to the all-token mean
      }, vars);
      value.dispose();
      total += count;
      const g = vars.map((v) => grads[v.name] ?? tf.zerosLike(v));
      if (!acc) acc = g;
      else {
        const prev: tf.Tensor[] = acc;
        acc = prev.map((a, k) => tf.add(a, g[k]!));
        tf.dispose([...prev, ...g]);
      }
      await opts.onProgress?.(bi + 1, batches!.length);
    }
    // |w · ∂L/∂w| per weight, kernel layout [in, out] → HF layout [out, in].
    const sal = new Map<string, HostTensor>();
    kernels.forEach((k, idx) => {
      const s = tf.tidy(() => tf.abs(tf.mul(k.v, tf.div(acc![idx]!, Math.max(1, total)))).dataSync() as Float32Array);
      sal.set(linearName(k.layer, k.mod), transpose2d({ shape: [...k.v.shape], data: s }));
    });
    tf.dispose(acc ?? []);
    return layers.map((i) => {
      const { kv, ch } = groupSums(cfg, cfg.layers[i]!, (m) => sal.get(linearName(i, m)) ?? { shape: weights.get(linearName(i, m))!.shape, data: new Float32Array(0) });
      return { layer: i, kvHeads: kv, channels: ch };
    });
  } finally {
    model.dispose();
  }
}

/** The `keep` highest-scoring indices (ties: lower index first), returned sorted ascending. */
export function selectKept(scores: ArrayLike<number>, keep: number): number[] {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => scores[b]! - scores[a]! || a - b);
  return idx.slice(0, keep).sort((a, b) => a - b);
}

/**
 * Structured pruning of an (unpruned) model given as config + HF weights. Returns the physically smaller model
 * and its plan (kept KV heads, query heads and MLP channels of every pruned layer, original coordinates).
 */
export async function pruneStructured(cfg: LlamaConfig, weights: WeightMap, opts: StructuredPruneOptions): Promise<StructuredPruneResult> {
  const ratio = opts.ratio;
  if (!(Number.isFinite(ratio) && ratio >= 0 && ratio < 1)) throw new Error(`pruning ratio must be in [0, 1), got ${ratio}`);
  const range = resolveRange(cfg, opts.layerRange);
  checkWeights(cfg, weights);
  const sizes = keptLayerSizes(cfg, ratio, range);
  for (let i = range[0]; i < range[1]; i++) {
    const o = cfg.layers[i]!;
    const k = sizes[i]!;
    if (o.num_key_value_heads > 0 && k.num_key_value_heads === 0) {
      throw new Error(`pruning ratio ${ratio} would remove every attention head of layer ${i} (${o.num_key_value_heads} KV heads); use a smaller ratio`);
    }
    if (o.intermediate_size > 0 && k.intermediate_size === 0) {
      throw new Error(`pruning ratio ${ratio} would remove every MLP channel of layer ${i} (${o.intermediate_size} channels); use a smaller ratio`);
    }
  }
  const scores = await structuredImportance(cfg, weights, { ...opts, layerRange: range });
  const g = (i: number) => cfg.layers[i]!.num_attention_heads / Math.max(1, cfg.layers[i]!.num_key_value_heads);
  const layers: StructuredLayerPlan[] = scores.map((s) => {
    const keptKvHeads = selectKept(s.kvHeads, sizes[s.layer]!.num_key_value_heads);
    return {
      layer: s.layer,
      keptKvHeads,
      keptHeads: queryHeadsOf(keptKvHeads, g(s.layer)),
      keptChannels: selectKept(s.channels, sizes[s.layer]!.intermediate_size),
    };
  });
  const plan: StructuredPrunePlan = {
    kind: 'structured',
    version: 1,
    importance: opts.importance,
    ratio,
    layerRange: range,
    seed: opts.importance === 'random' ? (opts.seed ?? 42) : null,
    original: archSignature(cfg),
    layers,
  };
  const out = applyStructuredPlan(cfg, weights, plan);
  return { ...out, plan };
}

/** Physically prune `weights` (of the plan's source model) as a plan says: slice rows/columns and biases. */
export function applyStructuredPlan(cfg: LlamaConfig, weights: WeightMap, plan: StructuredPrunePlan): { config: LlamaConfig; weights: WeightMap } {
  validateStructuredPlan(plan);
  checkPlanSource(plan.original, cfg);
  const out: WeightMap = new Map(weights);
  for (const lp of plan.layers) {
    for (const mod of LINEAR_MODULES) {
      const name = linearName(lp.layer, mod);
      const w = weights.get(name);
      if (!w) throw new Error(`missing tensor ${name}`);
      const kept = keptIndices(lp, mod, cfg.headDim);
      if (prunedSide(mod) === 'out') {
        out.set(name, selectRows(w, kept));
        const bn = name.replace(/\.weight$/, '.bias');
        const b = weights.get(bn);
        if (b) out.set(bn, select1d(b, kept));
      } else {
        out.set(name, selectCols(w, kept));
      }
    }
  }
  const config: LlamaConfig = { ...cfg, layers: plannedLayerSizes(plan), extra: { ...cfg.extra } };
  checkWeights(config, out);
  return { config, weights: out };
}
