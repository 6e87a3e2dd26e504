/**
 * Non-structured pruning of a whole model (LoRAM-Semi: 2:4, LoRAM-Unst: unstructured; loram-method.md §2.3).
 * Shapes stay the same; zeros are stored densely and every pruned linear's mask is recorded.
 *
 * Layers are processed sequentially as SparseGPT's llama.py does: the inputs of layer i are computed with
 * layers < i already pruned (and updated), all linears of layer i are pruned from statistics of those inputs,
 * then layer i is replaced before moving on. Statistics are captured by wrapping the layer's linears in the
 * tfjs model; q/k/v share one input (and one Hessian), as do gate/up. The forward is cut short right after the
 * last linear of the layer that is needed. Padding positions (attention mask 0) are excluded.
 */
import { tf } from '../backend/tf';
import type { LinearModule, LlamaConfig } from '../model/config';
import { LINEAR_MODULES, linearName } from '../model/config';
import { DenseLinear } from '../model/linear';
import { LlamaModel, checkWeights } from '../model/llama';
import type { LmBatch } from '../model/loss';
import type { LayerRange } from '../memory/planner';
import type { WeightMap } from '../util/tensor';
import { CaptureLinear, InputStats, StopForward, checkCalibration } from './calibration';
import type { PackedMask } from './mask';
import type { SparseMethod, SparsePrunePlan, SparsityPattern } from './plan';
import { archSignature, parsePattern } from './plan';
import type { MatrixPattern, PrunedMatrix, SparseGptFactor } from './sparsegpt';
import { SPARSEGPT_BLOCK_SIZE, SPARSEGPT_DAMPENING, magnitudePrune, prepareSparseGpt, sparseGptPrune, wandaPrune } from './sparsegpt';
import type { ProgressHooks } from './structured';
import { CancelledError } from '../../shared/cancelled';

export interface SparsePruneOptions extends ProgressHooks {
  method: SparseMethod;
  /** 'unstructured' (needs `sparsity`) or 'N:M' such as '2:4' (N kept of every M inputs). */
  pattern: SparsityPattern;
  /** Fraction of zeros for unstructured (LoRAM-Unst: 0.55). Ignored for N:M (it is 1 − N/M). */
  sparsity?: number;
  /** Layers pruned [start, end); default all layers (LoRAM prunes all 40 layers for Semi/Unst). */
  layerRange?: LayerRange;
  /** Default all 7 decoder linears. */
  modules?: readonly LinearModule[];
  /** Needed by SparseGPT and Wanda (SparseGPT's default: 128 × 2048 tokens of C4). */
  calibration?: readonly LmBatch[];
  blockSize?: number;
  /** Fraction of mean(diag H) added to the diagonal (default 0.01). */
  dampening?: number;
  /** Refuse calibration data with fewer real tokens than this (default 1). */
  minCalibrationTokens?: number;
}

export interface SparsePruneResult {
  config: LlamaConfig;
  /** Pruned weights (same shapes); tensors not pruned are shared with the input map. */
  weights: WeightMap;
  plan: SparsePrunePlan;
}

/** Which input each linear reads: q/k/v share the attention input, gate/up the MLP input. */
const INPUT_OF: Record<LinearModule, 'attn' | 'o' | 'mlp' | 'down'> = {
  q_proj: 'attn',
  k_proj: 'attn',
  v_proj: 'attn',
  o_proj: 'o',
  gate_proj: 'mlp',
  up_proj: 'mlp',
  down_proj: 'down',
};
/** The linear that sees each input first in the forward (where it is captured), in forward order. */
const CAPTURE_AT: [('attn' | 'o' | 'mlp' | 'down'), LinearModule][] = [
  ['attn', 'q_proj'],
  ['o', 'o_proj'],
  ['mlp', 'gate_proj'],
  ['down', 'down_proj'],
];

export async function pruneSparse(cfg: LlamaConfig, weights: WeightMap, opts: SparsePruneOptions): Promise<SparsePruneResult> {
  const job = checkedJob(cfg, weights, opts);
  const out: WeightMap = new Map(weights);
  const masks = new Map<string, PackedMask>();
  const record = (name: string, r: PrunedMatrix) => {
    out.set(name, r.weight);
    masks.set(name, r.mask);
  };
  if (opts.method === 'magnitude') await pruneByMagnitude(weights, job, opts, record);
  else await pruneFromCalibration(cfg, weights, job, opts, record);
  const [start, end] = job.range;
  const plan: SparsePrunePlan = {
    kind: 'sparse',
    version: 1,
    method: opts.method,
    pattern: opts.pattern,
    sparsity: job.sparsity,
    layerRange: [start, end],
    modules: job.modules,
    original: archSignature(cfg),
    masks,
  };
  return { config: cfg, weights: out, plan };
}

/** What pruneSparse does, its options checked. */
interface SparseJob {
  pattern: MatrixPattern;
  sparsity: number;
  range: [number, number];
  modules: LinearModule[];
}

function checkedJob(cfg: LlamaConfig, weights: WeightMap, opts: SparsePruneOptions): SparseJob {
  const nm = parsePattern(opts.pattern);
  const sparsity = nm ? 1 - nm.n / nm.m : opts.sparsity;
  if (sparsity === undefined || !(Number.isFinite(sparsity) && sparsity >= 0 && sparsity < 1)) {
    throw new Error(`unstructured sparsity must be in [0, 1), got ${opts.sparsity}`);
  }
  const pattern: MatrixPattern = nm ? { kind: 'nm', n: nm.n, m: nm.m } : { kind: 'unstructured', sparsity };
  if (!['sparsegpt', 'wanda', 'magnitude'].includes(opts.method)) throw new Error(`unknown sparse pruning method "${opts.method}" (sparsegpt, wanda or magnitude)`);
  const [start, end] = opts.layerRange ?? [0, cfg.numLayers];
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > cfg.numLayers) {
    throw new Error(`pruned layer range [${start}, ${end}) is not a valid [start, end) within 0..${cfg.numLayers}`);
  }
  const modules = [...(opts.modules ?? LINEAR_MODULES)];
  for (const m of modules) if (!LINEAR_MODULES.includes(m)) throw new Error(`unknown module "${m}"`);
  checkWeights(cfg, weights);
  if (nm) {
    for (let i = start; i < end; i++) {
      for (const m of modules) {
        const cols = weights.get(linearName(i, m))!.shape[1]!;
        if (cols % nm.m !== 0) throw new Error(`${linearName(i, m)}: ${opts.pattern} sparsity needs the input dimension to be a multiple of ${nm.m}, got ${cols}`);
      }
    }
  }
  if (opts.method !== 'magnitude') {
    checkCalibration(opts.calibration, { what: opts.method === 'sparsegpt' ? 'SparseGPT' : 'Wanda', minTokens: opts.minCalibrationTokens, vocabSize: cfg.vocabSize, maxPositions: cfg.maxPositionEmbeddings });
  }
  return { pattern, sparsity, range: [start, end], modules };
}

/** Keeps a pruned matrix and its mask. */
type RecordPruned = (name: string, r: PrunedMatrix) => void;

async function pruneByMagnitude(weights: WeightMap, job: SparseJob, opts: SparsePruneOptions, record: RecordPruned): Promise<void> {
  const [start, end] = job.range;
  for (let i = start; i < end; i++) {
    if (opts.signal?.aborted) throw new CancelledError();
    for (const m of job.modules) record(linearName(i, m), magnitudePrune(weights.get(linearName(i, m))!, job.pattern, linearName(i, m)));
    await opts.onProgress?.(i - start + 1, end - start);
  }
}

interface CalibrationBatch {
  ids: tf.Tensor2D;
  mask: tf.Tensor2D | undefined;
  rowMask: tf.Tensor2D | null;
  rows: number;
}

/** SparseGPT or Wanda, layer after layer: each layer's statistics come from inputs the pruned layers before it made. */
async function pruneFromCalibration(cfg: LlamaConfig, weights: WeightMap, job: SparseJob, opts: SparsePruneOptions, record: RecordPruned): Promise<void> {
  const [start, end] = job.range;
  const model = LlamaModel.fromWeights(cfg, weights, { trainable: false });
  const batches: CalibrationBatch[] = opts.calibration!.map((b) => ({
    ids: tf.tensor2d(b.inputIds, [b.batch, b.seqLen], 'int32'),
    mask: b.attentionMask ? tf.tensor2d(b.attentionMask, [b.batch, b.seqLen], 'int32') : undefined,
    rowMask: b.attentionMask ? tf.tensor2d(Float32Array.from(b.attentionMask), [b.batch * b.seqLen, 1]) : null,
    rows: b.attentionMask ? b.attentionMask.reduce((a, v) => a + (v ? 1 : 0), 0) : b.batch * b.seqLen,
  }));
  try {
    for (let i = start; i < end; i++) {
      if (opts.signal?.aborted) throw new CancelledError();
      const stats = captureLayerInputs(model, i, job.modules, opts.method === 'sparsegpt', batches);
      pruneLayer(model, i, weights, stats, job, opts, record);
      await opts.onProgress?.(i - start + 1, end - start);
    }
  } finally {
    for (const b of batches) tf.dispose([b.ids, ...(b.mask ? [b.mask] : []), ...(b.rowMask ? [b.rowMask] : [])]);
    model.dispose();
  }
}

/**
 * Statistics of the inputs layer i's linears see on the calibration batches, by shared input (q/k/v share one,
 * gate/up another). The linears are wrapped while the forward runs, and it is cut short after the last one needed.
 */
function captureLayerInputs(model: LlamaModel, i: number, modules: readonly LinearModule[], full: boolean, batches: readonly CalibrationBatch[]): Map<string, InputStats> {
  const layer = model.layers[i]!;
  const wanted = new Set(modules.map((m) => INPUT_OF[m]));
  const points = CAPTURE_AT.filter(([inp, mod]) => wanted.has(inp) && layer.linears[mod].inFeatures > 0);
  const stats = new Map<string, InputStats>();
  const originals: [LinearModule, ReturnType<typeof model.setLinear>][] = [];
  points.forEach(([inp, mod], k) => {
    const base = layer.linears[mod];
    const st = new InputStats(base.inFeatures, full);
    stats.set(inp, st);
    const last = k === points.length - 1;
    const cap = new CaptureLinear(base, (x) => st.add(x), last ? () => { throw new StopForward(); } : undefined);
    originals.push([mod, model.setLinear(i, mod, cap)]);
  });
  try {
    for (const b of batches) {
      for (const st of stats.values()) {
        st.rowMask = b.rowMask;
        st.rowCount = b.rows;
      }
      try {
        tf.tidy(() => {
          model.hidden(b.ids, { attentionMask: b.mask });
        });
      } catch (e) {
        if (!(e instanceof StopForward)) throw e;
      }
    }
  } finally {
    for (const [mod, orig] of originals) model.setLinear(i, mod, orig); // the wrappers own nothing
    for (const st of stats.values()) st.rowMask = null;
  }
  return stats;
}

/** Prune layer i's linears from their input statistics, then put the pruned layer in the model. */
function pruneLayer(model: LlamaModel, i: number, weights: WeightMap, stats: Map<string, InputStats>, job: SparseJob, opts: SparsePruneOptions, record: RecordPruned): void {
  const factors = new Map<string, SparseGptFactor>(); // one factorisation per shared input
  for (const m of job.modules) {
    const name = linearName(i, m);
    const w = weights.get(name)!;
    if (w.data.length === 0) continue;
    const inp = INPUT_OF[m];
    const st = stats.get(inp)!;
    let r: PrunedMatrix;
    if (opts.method === 'sparsegpt') {
      let f = factors.get(inp);
      if (!f) {
        f = prepareSparseGpt(st.hessian(), st.features, opts.dampening ?? SPARSEGPT_DAMPENING, name);
        factors.set(inp, f);
      }
      r = sparseGptPrune(w, f, job.pattern, { blockSize: opts.blockSize ?? SPARSEGPT_BLOCK_SIZE, name });
    } else r = wandaPrune(w, st.colSq, job.pattern, name);
    record(name, r);
    // Later layers see this layer's pruned output (sequential pruning).
    const bias = weights.get(name.replace(/\.weight$/, '.bias')) ?? null;
    model.setLinear(i, m, new DenseLinear(r.weight, bias, name.replace(/\.weight$/, ''), false)).dispose();
  }
}
