/**
 * Prune plans: what a pruning did, in ORIGINAL coordinates, so recovery can map a LoRA adapter trained on the
 * pruned model back onto the original one (loram-method.md §2.4, §5).
 *
 * Structured (Rand/Stru): per pruned layer the kept KV heads, the kept query heads (the GQA mapping: KV head j
 * owns query heads j·g … j·g+g−1) and the kept MLP channels, all sorted ascending. That fully describes the mask
 * M^P: kept output rows of q/k/v/gate/up and kept input columns of o/down.
 * Non-structured (Semi/Unst): one bit-packed mask per pruned linear (see mask.ts), shapes unchanged.
 */
import type { LayerSize, LinearModule, LlamaConfig } from '../model/config';
import { LINEAR_MODULES, linearName } from '../model/config';
import type { HostTensor, WeightMap } from '../util/tensor';
import { cloneHost } from '../util/tensor';
import type { PackedMask } from './mask';
import { maskFromBase64, maskToBase64 } from './mask';

/** The architecture a plan was made for; Recover refuses a plan whose signature differs from its model's. */
export interface ArchSignature {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  headDim: number;
  tieWordEmbeddings: boolean;
  attentionBias: boolean;
  layers: LayerSize[];
}

export function archSignature(cfg: LlamaConfig): ArchSignature {
  return {
    vocabSize: cfg.vocabSize,
    hiddenSize: cfg.hiddenSize,
    numLayers: cfg.numLayers,
    headDim: cfg.headDim,
    tieWordEmbeddings: cfg.tieWordEmbeddings,
    attentionBias: cfg.attentionBias,
    layers: cfg.layers.map((l) => ({ ...l })),
  };
}

/** Differences between a plan's source architecture and a config, as readable lines (empty = same). */
export function archDifferences(sig: ArchSignature, cfg: LlamaConfig): string[] {
  const other = archSignature(cfg);
  const out: string[] = [];
  for (const k of ['vocabSize', 'hiddenSize', 'numLayers', 'headDim', 'tieWordEmbeddings', 'attentionBias'] as const) {
    if (sig[k] !== other[k]) out.push(`${k}: plan ${sig[k]}, model ${other[k]}`);
  }
  if (sig.numLayers === other.numLayers) {
    sig.layers.forEach((l, i) => {
      const o = other.layers[i]!;
      for (const k of ['num_attention_heads', 'num_key_value_heads', 'intermediate_size'] as const) {
        if (l[k] !== o[k]) out.push(`layer ${i} ${k}: plan ${l[k]}, model ${o[k]}`);
      }
    });
  }
  return out;
}

/** Throws when `cfg` is not the architecture the plan was made from. */
export function checkPlanSource(sig: ArchSignature, cfg: LlamaConfig, what = 'the model'): void {
  const d = archDifferences(sig, cfg);
  if (d.length) {
    const shown = d.slice(0, 6).join('; ') + (d.length > 6 ? `; … (${d.length - 6} more)` : '');
    throw new Error(`the prune plan was made from a different model than ${what}: ${shown}`);
  }
}

export type StructuredImportance = 'random' | 'magnitude' | 'taylor';

export interface StructuredLayerPlan {
  layer: number;
  /** Kept KV heads (sorted, original indices). */
  keptKvHeads: number[];
  /** Kept query heads = ∪ over kept KV heads j of j·g … j·g+g−1 (sorted). */
  keptHeads: number[];
  /** Kept MLP intermediate channels (sorted, original indices). */
  keptChannels: number[];
}

export interface StructuredPrunePlan {
  kind: 'structured';
  version: 1;
  importance: StructuredImportance;
  ratio: number;
  /** Pruned layers [start, end). */
  layerRange: [number, number];
  seed: number | null;
  original: ArchSignature;
  /** One entry per layer in layerRange, ascending. */
  layers: StructuredLayerPlan[];
}

/** Query heads of the given KV heads under GQA with `group` query heads per KV head (sorted if input is). */
export function queryHeadsOf(kvHeads: readonly number[], group: number): number[] {
  const out: number[] = [];
  for (const j of kvHeads) for (let t = 0; t < group; t++) out.push(j * group + t);
  return out;
}

/** Channel indices [h·hd, (h+1)·hd) of each head. */
export function headChannels(heads: readonly number[], headDim: number): number[] {
  const out: number[] = [];
  for (const h of heads) for (let d = 0; d < headDim; d++) out.push(h * headDim + d);
  return out;
}

/** Which side of a linear structured pruning cuts: q/k/v/gate/up lose output rows, o/down lose input columns. */
export function prunedSide(mod: LinearModule): 'out' | 'in' {
  return mod === 'o_proj' || mod === 'down_proj' ? 'in' : 'out';
}

/** Kept indices (original coordinates) along the pruned side of `mod` for one layer's plan. */
export function keptIndices(lp: StructuredLayerPlan, mod: LinearModule, headDim: number): number[] {
  switch (mod) {
    case 'q_proj':
    case 'o_proj':
      return headChannels(lp.keptHeads, headDim);
    case 'k_proj':
    case 'v_proj':
      return headChannels(lp.keptKvHeads, headDim);
    case 'gate_proj':
    case 'up_proj':
    case 'down_proj':
      return [...lp.keptChannels];
  }
}

/** Per-layer sizes of the pruned model described by a plan. */
export function plannedLayerSizes(plan: StructuredPrunePlan): LayerSize[] {
  const sizes = plan.original.layers.map((l) => ({ ...l }));
  for (const lp of plan.layers) {
    sizes[lp.layer] = { num_attention_heads: lp.keptHeads.length, num_key_value_heads: lp.keptKvHeads.length, intermediate_size: lp.keptChannels.length };
  }
  return sizes;
}

function isSortedUnique(a: readonly number[], max: number): boolean {
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= max) return false;
    if (i > 0 && v <= a[i - 1]!) return false;
  }
  return true;
}

/** Checks a (possibly deserialised) structured plan for internal consistency; throws naming the problem. */
export function validateStructuredPlan(plan: StructuredPrunePlan): void {
  if (plan.kind !== 'structured') throw new Error(`expected a structured prune plan, got kind "${(plan as { kind?: string }).kind}"`);
  const o = plan.original;
  const [s, e] = plan.layerRange;
  if (!(Number.isInteger(s) && Number.isInteger(e) && s >= 0 && e >= s && e <= o.numLayers)) {
    throw new Error(`prune plan: layer range [${s}, ${e}) is invalid for ${o.numLayers} layers`);
  }
  if (plan.layers.length !== e - s) throw new Error(`prune plan: ${plan.layers.length} layer entries for the range [${s}, ${e})`);
  plan.layers.forEach((lp, k) => {
    if (lp.layer !== s + k) throw new Error(`prune plan: entry ${k} is for layer ${lp.layer}, expected ${s + k}`);
    const l = o.layers[lp.layer]!;
    const g = l.num_attention_heads / l.num_key_value_heads;
    if (!isSortedUnique(lp.keptKvHeads, l.num_key_value_heads)) throw new Error(`prune plan: layer ${lp.layer} keptKvHeads must be sorted unique indices below ${l.num_key_value_heads}`);
    if (!isSortedUnique(lp.keptChannels, l.intermediate_size)) throw new Error(`prune plan: layer ${lp.layer} keptChannels must be sorted unique indices below ${l.intermediate_size}`);
    const q = queryHeadsOf(lp.keptKvHeads, g);
    if (q.length !== lp.keptHeads.length || q.some((h, i) => h !== lp.keptHeads[i])) {
      throw new Error(`prune plan: layer ${lp.layer} keptHeads do not follow the GQA mapping of keptKvHeads (group size ${g})`);
    }
  });
}

/**
 * The ORIGINAL-shape weights with every pruned unit zeroed (rows of q/k/v/gate/up and their biases, columns of
 * o/down): W0 ⊙ M^P. Running this model equals running the physically pruned one (a zeroed head gets q=k=v=0,
 * so its output is 0, and its o columns are 0 too; a zeroed MLP channel has silu(0)·up = 0).
 * Tensors not touched are shared with the input map.
 */
export function zeroPrunedUnits(weights: WeightMap, plan: StructuredPrunePlan): WeightMap {
  const out: WeightMap = new Map(weights);
  const hd = plan.original.headDim;
  for (const lp of plan.layers) {
    for (const mod of LINEAR_MODULES) {
      const name = linearName(lp.layer, mod);
      const w = weights.get(name);
      if (!w) throw new Error(`zeroPrunedUnits: missing tensor ${name}`);
      const kept = new Set(keptIndices(lp, mod, hd));
      const z = cloneHost(w);
      const [rows, cols] = z.shape as [number, number];
      if (prunedSide(mod) === 'out') {
        for (let r = 0; r < rows; r++) if (!kept.has(r)) z.data.fill(0, r * cols, (r + 1) * cols);
        const bn = name.replace(/\.weight$/, '.bias');
        const b = weights.get(bn);
        if (b) {
          const zb: HostTensor = cloneHost(b);
          for (let r = 0; r < zb.data.length; r++) if (!kept.has(r)) zb.data[r] = 0;
          out.set(bn, zb);
        }
      } else {
        for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) if (!kept.has(c)) z.data[r * cols + c] = 0;
      }
      out.set(name, z);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Non-structured plans

/** 'unstructured' or an N:M pattern written "N:M" = N weights KEPT in every M consecutive input columns. */
export type SparsityPattern = 'unstructured' | `${number}:${number}`;
export type SparseMethod = 'sparsegpt' | 'wanda' | 'magnitude';

export interface SparsePrunePlan {
  kind: 'sparse';
  version: 1;
  method: SparseMethod;
  pattern: SparsityPattern;
  /** Target fraction of zeros per pruned linear. */
  sparsity: number;
  layerRange: [number, number];
  modules: LinearModule[];
  original: ArchSignature;
  /** HF weight name (`model.layers.i.self_attn.q_proj.weight`) → kept-bit mask of that weight. */
  masks: Map<string, PackedMask>;
}

export function parsePattern(p: string): { n: number; m: number } | null {
  if (p === 'unstructured') return null;
  const r = /^(\d+):(\d+)$/.exec(p);
  if (!r) throw new Error(`sparsity pattern must be "unstructured" or "N:M" (e.g. "2:4"), got "${p}"`);
  const n = Number(r[1]);
  const m = Number(r[2]);
  if (!(m >= 1 && n >= 0 && n < m)) throw new Error(`sparsity pattern "${p}": need 0 ≤ N < M`);
  return { n, m };
}

/** JSON form of a plan (masks base64), for lineage files. */
export function planToJson(plan: StructuredPrunePlan | SparsePrunePlan): Record<string, unknown> {
  if (plan.kind === 'structured') return JSON.parse(JSON.stringify(plan)) as Record<string, unknown>;
  const masks: Record<string, { shape: number[]; bits: string }> = {};
  for (const [k, m] of plan.masks) masks[k] = { shape: [...m.shape], bits: maskToBase64(m) };
  return { ...plan, masks, original: { ...plan.original } };
}

export function planFromJson(json: unknown): StructuredPrunePlan | SparsePrunePlan {
  const o = json as Record<string, unknown>;
  if (!o || typeof o !== 'object') throw new Error('prune plan JSON must be an object');
  if (o.kind === 'structured') {
    const p = o as unknown as StructuredPrunePlan;
    validateStructuredPlan(p);
    return p;
  }
  if (o.kind === 'sparse') {
    const raw = o.masks as Record<string, { shape: [number, number]; bits: string }>;
    const masks = new Map<string, PackedMask>();
    for (const [k, v] of Object.entries(raw ?? {})) masks.set(k, maskFromBase64(v.bits, v.shape));
    return { ...(o as unknown as SparsePrunePlan), masks };
  }
  throw new Error(`unknown prune plan kind "${String(o.kind)}"`);
}
