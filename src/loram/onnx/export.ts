/**
 * ONNX export of a LLaMA-architecture model, written in TypeScript (no Python, no ONNX library).
 *
 * Supports everything `LlamaModel` does: per-layer head counts and MLP widths (structurally pruned models,
 * including layers whose attention or MLP is pruned away entirely), grouped-query attention, tied or untied
 * embeddings, q/k/v/o bias (attention_bias), RoPE with linear/llama3 scaling (precomputed cos/sin initializers gathered by
 * position ids). Opset 17, IR 8, float32 weights.
 *
 * Graph kinds
 * - `logits`: inputs `input_ids` [batch, sequence] int64, `attention_mask` [batch, sequence] int64 (1 = token,
 *   0 = padding; combined with the causal mask inside the graph), optional `position_ids` [batch, sequence]
 *   int64; output `logits` [batch, sequence, vocab] float32.
 * - `kv`: the same plus, for every layer i that has attention heads, `past_key_values.{i}.key|value`
 *   [batch, kv_heads_i, past_sequence, head_dim] (RoPE already applied to keys, as in HF); `attention_mask`
 *   covers past + new tokens [batch, past_sequence + sequence]; outputs `logits` and
 *   `present.{i}.key|value` [batch, kv_heads_i, past_sequence + sequence, head_dim]. Start with
 *   past_sequence = 0 (empty tensors); each further step feeds one token. Layers whose attention was
 *   pruned away (0 heads) have no cache entries.
 *
 * Without a `position_ids` input, positions are derived from the mask as HF generation does:
 * position = max(cumsum(attention_mask) − 1, 0), taking the last `sequence` columns. For unpadded or
 * right-padded input that is 0, 1, 2, … on every real token (what `LlamaModel.forward` uses); for
 * left-padded batches it makes every row start at position 0.
 *
 * Layout: one `model.onnx` with inline weights, or, when the initializers exceed `externalDataThreshold`
 * (default 2 GB, protobuf's ceiling), `model.onnx` + `model.onnx.data` with 4096-aligned offsets.
 * Exports are cached by content hash (config + weight bytes + options + exporter version).
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LlamaConfig } from '../model/config';
import { expectedShapes, toHfConfig } from '../model/config';
import { checkWeights } from '../model/llama';
import { ropeTables } from '../model/rope';
import type { HostTensor, WeightMap } from '../util/tensor';
import { atomicWriteDir } from '../io/atomic';
import { A, DataType, GraphBuilder, modelProto, type ExternalLayout } from './graph';
import { externalLayout, writeModelFiles } from './write';
import type { LazyBytes } from './proto';

/** Bump when the graph changes in any way that affects outputs or file layout (invalidates caches). */
export const EXPORTER_VERSION = 'loram-onnx-1';
export const OPSET = 17;
export const IR_VERSION = 8;
export const MODEL_FILE = 'model.onnx';
export const DATA_FILE = 'model.onnx.data';
export const META_FILE = 'export.json';
/** Protobuf messages cannot exceed 2 GiB; beyond ~2 GB of weights the external-data layout is used. */
export const DEFAULT_EXTERNAL_THRESHOLD = 2_000_000_000;
/** Default cap on the RoPE table (rows × head_dim × 2 floats); longer contexts need `maxPositions`. */
export const DEFAULT_MAX_POSITIONS = 8192;

export type OnnxGraphKind = 'logits' | 'kv';

export interface OnnxExportOptions {
  /** `logits` (full-sequence scoring) or `kv` (with past/present key-values for generation). Default logits. */
  kind?: OnnxGraphKind;
  /** Add a `position_ids` input instead of deriving positions from the mask. Default false. */
  positionIdsInput?: boolean;
  /** Rows of the cos/sin tables (longest supported past + sequence). Default min(max_position_embeddings, 8192). */
  maxPositions?: number;
  /** Initializer bytes above which weights go to an external data file. Default 2 GB. */
  externalDataThreshold?: number;
  /** Free text stored in the model's doc_string and the export metadata (e.g. "loram-large + adapter X merged"). */
  description?: string;
}

export interface KvLayer {
  layer: number;
  kvHeads: number;
}

/** What an export produced; also written as export.json next to the model. */
export interface OnnxExportMeta {
  format: 'loram-onnx';
  exporterVersion: string;
  hash: string;
  kind: OnnxGraphKind;
  opset: number;
  irVersion: number;
  modelFile: string;
  /** External data file name, or null when weights are inline. */
  dataFile: string | null;
  inputs: string[];
  outputs: string[];
  kvLayers: KvLayer[];
  headDim: number;
  vocabSize: number;
  numLayers: number;
  maxPositions: number;
  positionIdsInput: boolean;
  eosTokenId: number | null;
  padTokenId: number | null;
  bosTokenId: number | null;
  initializerBytes: number;
  description: string;
}

export interface OnnxArtifact extends OnnxExportMeta {
  dir: string;
  modelPath: string;
  /** True when the export was found in the cache rather than written now. */
  cached: boolean;
}

interface ResolvedOptions {
  kind: OnnxGraphKind;
  positionIdsInput: boolean;
  maxPositions: number;
  external: boolean;
  description: string;
}

function totalWeightBytes(cfg: LlamaConfig): number {
  let n = 0;
  for (const s of expectedShapes(cfg).values()) n += s.reduce((a, b) => a * b, 1) * 4;
  return n;
}

function resolve(cfg: LlamaConfig, opts: OnnxExportOptions): ResolvedOptions {
  const maxPositions = opts.maxPositions ?? Math.min(cfg.maxPositionEmbeddings, DEFAULT_MAX_POSITIONS);
  if (!Number.isInteger(maxPositions) || maxPositions < 1) throw new Error(`maxPositions must be a positive integer, got ${maxPositions}`);
  const ropeBytes = maxPositions * cfg.headDim * 4 * 2;
  const threshold = opts.externalDataThreshold ?? DEFAULT_EXTERNAL_THRESHOLD;
  return {
    kind: opts.kind ?? 'logits',
    positionIdsInput: opts.positionIdsInput ?? false,
    maxPositions,
    external: totalWeightBytes(cfg) + ropeBytes > threshold,
    description: opts.description ?? '',
  };
}

/** Content hash of an export: exporter version + options + config + every weight's name, shape and bytes. */
export function onnxExportHash(cfg: LlamaConfig, weights: WeightMap, opts: OnnxExportOptions = {}): string {
  const r = resolve(cfg, opts);
  const h = createHash('sha256');
  // The description is a label, not content: the same weights exported twice share one cache entry.
  const header = { v: EXPORTER_VERSION, opset: OPSET, kind: r.kind, pos: r.positionIdsInput, maxPos: r.maxPositions, ext: r.external, config: toHfConfig(cfg), layers: cfg.layers };
  h.update(JSON.stringify(header));
  for (const [name, shape] of expectedShapes(cfg)) {
    const t = weights.get(name);
    if (!t) throw new Error(`missing tensor ${name}`);
    h.update(`\n${name}[${shape.join(',')}]`);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest('hex');
}

// ---------------------------------------------------------------------------------------------------------
// Weight transforms (performed lazily, while writing)

function f32Lazy(length: number, fill: () => Float32Array): LazyBytes {
  return {
    length: length * 4,
    produce: () => {
      const a = fill();
      return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    },
  };
}

function rawLazy(t: HostTensor): LazyBytes {
  return { length: t.data.byteLength, produce: () => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) };
}

/**
 * [in, Σout] = concat over parts of W_partᵀ (each W_part is HF [out_p, in]): the kernel of a fused linear
 * for MatMul(x, kernel). Blocked transpose for cache friendliness.
 */
function fusedKernel(parts: HostTensor[], inF: number): LazyBytes {
  const total = parts.reduce((a, p) => a + p.shape[0]!, 0);
  return f32Lazy(inF * total, () => {
    const out = new Float32Array(inF * total);
    let col = 0;
    const BS = 64;
    for (const p of parts) {
      const rows = p.shape[0]!;
      const src = p.data;
      for (let o0 = 0; o0 < rows; o0 += BS) {
        const o1 = Math.min(rows, o0 + BS);
        for (let i0 = 0; i0 < inF; i0 += BS) {
          const i1 = Math.min(inF, i0 + BS);
          for (let o = o0; o < o1; o++) {
            const so = o * inF;
            const dc = col + o;
            for (let i = i0; i < i1; i++) out[i * total + dc] = src[so + i]!;
          }
        }
      }
      col += rows;
    }
    return out;
  });
}

function concatLazy(parts: HostTensor[]): LazyBytes {
  const total = parts.reduce((a, p) => a + p.data.length, 0);
  return f32Lazy(total, () => {
    const out = new Float32Array(total);
    let o = 0;
    for (const p of parts) {
      out.set(p.data, o);
      o += p.data.length;
    }
    return out;
  });
}

// ---------------------------------------------------------------------------------------------------------
// Graph

export interface BuiltGraph {
  builder: GraphBuilder;
  kvLayers: KvLayer[];
  options: ResolvedOptions;
}

/** Build the ONNX graph for a config and its (already merged) HF-layout weights: the steps of LlamaModel.forward. */
export function buildLlamaGraph(cfg: LlamaConfig, weights: WeightMap, opts: OnnxExportOptions = {}): BuiltGraph {
  checkWeights(cfg, weights);
  const r = resolve(cfg, opts);
  const g = new GraphBuilder(r.kind === 'kv' ? 'llama_kv' : 'llama');
  const io = graphInputs(g, cfg, r);
  const c = sharedOps(g, cfg, weights, r, io);
  const embed = weights.get('model.embed_tokens.weight')!;
  const embedT = g.floatInitializer('model.embed_tokens.weight', embed.shape, rawLazy(embed));
  let h = g.op1('Gather', [embedT, io.ids], { axis: A.int(0) }); // [B, T, H]
  cfg.layers.forEach((l, i) => {
    if (l.num_attention_heads > 0) h = g.op1('Add', [h, attentionBlock(c, i, h, io.past.get(i))]);
    if (l.intermediate_size > 0) h = g.op1('Add', [h, mlpBlock(c, i, h)]);
  });
  lmHead(c, h, embedT, io.ids);
  return { builder: g, kvLayers: io.kvLayers, options: r };
}

interface GraphInputs {
  ids: string;
  mask: string;
  positionIds: string | null;
  kvLayers: KvLayer[];
  /** The `kv` graph's past keys and values, by layer (layers with attention heads only). */
  past: Map<number, { key: string; value: string }>;
}

function graphInputs(g: GraphBuilder, cfg: LlamaConfig, r: ResolvedOptions): GraphInputs {
  const kv = r.kind === 'kv';
  const hd = cfg.headDim;
  const ids = g.input('input_ids', DataType.INT64, ['batch', 'sequence']);
  const mask = g.input('attention_mask', DataType.INT64, ['batch', kv ? 'total_sequence' : 'sequence']);
  const positionIds = r.positionIdsInput ? g.input('position_ids', DataType.INT64, ['batch', 'sequence']) : null;
  const kvLayers: KvLayer[] = [];
  const past = new Map<number, { key: string; value: string }>();
  if (kv) {
    cfg.layers.forEach((l, i) => {
      if (l.num_attention_heads === 0) return;
      kvLayers.push({ layer: i, kvHeads: l.num_key_value_heads });
      past.set(i, {
        key: g.input(`past_key_values.${i}.key`, DataType.FLOAT, ['batch', l.num_key_value_heads, 'past_sequence', hd]),
        value: g.input(`past_key_values.${i}.value`, DataType.FLOAT, ['batch', l.num_key_value_heads, 'past_sequence', hd]),
      });
    });
  }
  return { ids, mask, positionIds, kvLayers, past };
}

/** What every layer uses, computed once: the mask bias per GQA group size, RoPE, RMSNorm, the weights. */
interface GraphContext {
  g: GraphBuilder;
  cfg: LlamaConfig;
  w(name: string): HostTensor;
  /** The additive causal + padding mask, tiled for `grp` query heads per KV head: [B, 1, grp·T, S]. */
  groupBias(grp: number): string;
  rope(x: string): string;
  rms(x: string, weightName: string): string;
  /** An initializer for a weight that may be absent (a bias): null when it is. */
  optional(name: string, shape: number[]): string | null;
}

function sharedOps(g: GraphBuilder, cfg: LlamaConfig, weights: WeightMap, r: ResolvedOptions, io: GraphInputs): GraphContext {
  const w = (n: string) => weights.get(n)!;
  const { bias4, T1 } = maskBias(g, io);
  const biasFor = new Map<number, string>([[1, bias4]]);
  const groupBias = (grp: number) => {
    let b = biasFor.get(grp);
    if (!b) biasFor.set(grp, (b = g.op1('Tile', [bias4, g.i64([1, 1, grp, 1])])));
    return b;
  };
  const rope = ropeOp(g, cfg, r, io.positionIds ?? maskPositions(g, io.mask, r.kind === 'kv' ? T1 : null));
  const two = g.f32([2], []);
  const eps = g.f32([cfg.rmsNormEps], []);
  const rms = (x: string, weightName: string) => {
    const wt = g.floatInitializer(weightName, w(weightName).shape, rawLazy(w(weightName)));
    const ms = g.op1('ReduceMean', [g.op1('Pow', [x, two])], { axes: A.ints([-1]), keepdims: A.int(1) });
    return g.op1('Mul', [g.op1('Div', [x, g.op1('Sqrt', [g.op1('Add', [ms, eps])])]), wt]);
  };
  const optional = (name: string, shape: number[]) => {
    const t = weights.get(name);
    return t ? g.floatInitializer(name, shape, rawLazy(t)) : null;
  };
  return { g, cfg, w, groupBias, rope, rms, optional };
}

/** The causal + padding mask as an additive bias [B, 1, T, S] (0 or −1e9); T1 = [T] for slicing positions. */
function maskBias(g: GraphBuilder, io: GraphInputs): { bias4: string; T1: string } {
  const T1 = g.op1('Slice', [g.op1('Shape', [io.ids]), g.i64([1]), g.i64([2])]); // [1]
  const S1 = g.op1('Slice', [g.op1('Shape', [io.mask]), g.i64([1]), g.i64([2])]); // [1]
  const Tsc = g.op1('Squeeze', [T1, g.i64([0])]);
  const Ssc = g.op1('Squeeze', [S1, g.i64([0])]);
  const Psc = g.op1('Sub', [Ssc, Tsc]);
  const zero = g.i64([0], []);
  const one = g.i64([1], []);
  const keyIdx = g.op1('Range', [zero, Ssc, one]); // [S]
  const qIdx = g.op1('Unsqueeze', [g.op1('Range', [Psc, Ssc, one]), g.i64([1])]); // [T, 1]
  const causal = g.op1('LessOrEqual', [keyIdx, qIdx]); // [T, S]
  const maskB = g.op1('Unsqueeze', [g.op1('Cast', [io.mask], { to: A.int(DataType.BOOL) }), g.i64([1])]); // [B, 1, S]
  const allowed = g.op1('And', [causal, maskB]); // [B, T, S]
  const bias3 = g.op1('Where', [allowed, g.f32([0], []), g.f32([-1e9], [])]);
  return { bias4: g.op1('Unsqueeze', [bias3, g.i64([1])]), T1 };
}

/** Positions from the mask as HF generation derives them (the last T columns when there is a past). */
function maskPositions(g: GraphBuilder, mask: string, lastT: string | null): string {
  const cum = g.op1('CumSum', [mask, g.i64([1], [])]);
  const p = g.op1('Max', [g.op1('Sub', [cum, g.i64([1], [])]), g.i64([0], [])]);
  return lastT ? g.op1('Slice', [p, g.op1('Neg', [lastT]), g.i64([Number.MAX_SAFE_INTEGER]), g.i64([1])]) : p;
}

/** RoPE by gathered cos/sin tables; sin has its first half negated so rotate_half becomes a swap of halves. */
function ropeOp(g: GraphBuilder, cfg: LlamaConfig, r: ResolvedOptions, pos: string): (x: string) => string {
  const hd = cfg.headDim;
  const half = hd / 2;
  let tables: { cos: Float32Array; sin: Float32Array } | null = null;
  const getTables = () =>
    (tables ??= (() => {
      const t = ropeTables(cfg, r.maxPositions);
      for (let p = 0; p < r.maxPositions; p++) for (let i = 0; i < half; i++) t.sin[p * hd + i] = -t.sin[p * hd + i]!;
      return t;
    })());
  const cosT = g.floatInitializer('rope.cos', [r.maxPositions, hd], f32Lazy(r.maxPositions * hd, () => getTables().cos));
  const sinT = g.floatInitializer('rope.sin_signed', [r.maxPositions, hd], f32Lazy(r.maxPositions * hd, () => getTables().sin));
  const cos = g.op1('Unsqueeze', [g.op1('Gather', [cosT, pos], { axis: A.int(0) }), g.i64([2])]); // [B, T, 1, hd]
  const sin = g.op1('Unsqueeze', [g.op1('Gather', [sinT, pos], { axis: A.int(0) }), g.i64([2])]);
  const halves = g.i64([half, half]);
  return (x: string) => {
    const [x1, x2] = g.op('Split', [x, halves], { axis: A.int(-1) }, 2) as [string, string];
    const swapped = g.op1('Concat', [x2, x1], { axis: A.int(-1) });
    return g.op1('Add', [g.op1('Mul', [x, cos]), g.op1('Mul', [swapped, sin])]);
  };
}

/** Self-attention of layer i on h (the residual is added by the caller): fused q/k/v, RoPE, GQA, o_proj. */
function attentionBlock(c: GraphContext, i: number, h: string, past: { key: string; value: string } | undefined): string {
  const { g, cfg, w } = c;
  const p = `model.layers.${i}.self_attn`;
  const H = cfg.hiddenSize;
  const hd = cfg.headDim;
  const nh = cfg.layers[i]!.num_attention_heads;
  const nkv = cfg.layers[i]!.num_key_value_heads;
  const qo = nh * hd;
  const ko = nkv * hd;
  const x = c.rms(h, `model.layers.${i}.input_layernorm.weight`);
  const kernel = g.floatInitializer(`${p}.qkv_proj.kernel`, [H, qo + 2 * ko], fusedKernel([w(`${p}.q_proj.weight`), w(`${p}.k_proj.weight`), w(`${p}.v_proj.weight`)], H));
  let qkv = g.op1('MatMul', [x, kernel]);
  if (cfg.attentionBias) {
    const b = [w(`${p}.q_proj.bias`), w(`${p}.k_proj.bias`), w(`${p}.v_proj.bias`)];
    qkv = g.op1('Add', [qkv, g.floatInitializer(`${p}.qkv_proj.bias`, [qo + 2 * ko], concatLazy(b))]);
  }
  const [q, k, v] = g.op('Split', [qkv, g.i64([qo, ko, ko])], { axis: A.int(-1) }, 3) as [string, string, string];
  const q4 = c.rope(g.op1('Reshape', [q, g.i64([0, 0, nh, hd])])); // [B, T, nh, hd]
  const k4 = c.rope(g.op1('Reshape', [k, g.i64([0, 0, nkv, hd])]));
  const v4 = g.op1('Reshape', [v, g.i64([0, 0, nkv, hd])]);
  // GQA without repeating K/V: query heads j·g … j·g+g−1 share KV head j, folded into the row axis.
  const qT = g.op1('Reshape', [g.op1('Transpose', [q4], { perm: A.ints([0, 2, 1, 3]) }), g.i64([0, nkv, -1, hd])]); // [B, nkv, g·T, hd]
  let kT = g.op1('Transpose', [k4], { perm: A.ints([0, 2, 1, 3]) }); // [B, nkv, T, hd]
  let vT = g.op1('Transpose', [v4], { perm: A.ints([0, 2, 1, 3]) });
  if (past) {
    kT = g.op1('Concat', [past.key, kT], { axis: A.int(2) }, `present.${i}.key`);
    vT = g.op1('Concat', [past.value, vT], { axis: A.int(2) }, `present.${i}.value`);
    g.output(`present.${i}.key`, kT, DataType.FLOAT, ['batch', nkv, 'total_sequence', hd]);
    g.output(`present.${i}.value`, vT, DataType.FLOAT, ['batch', nkv, 'total_sequence', hd]);
  }
  const kTT = g.op1('Transpose', [kT], { perm: A.ints([0, 1, 3, 2]) }); // [B, nkv, hd, S]
  const scores = g.op1('Add', [g.op1('Mul', [g.op1('MatMul', [qT, kTT]), g.f32([1 / Math.sqrt(hd)], [])]), c.groupBias(nh / nkv)]);
  const probs = g.op1('Softmax', [scores], { axis: A.int(-1) });
  const ctx4 = g.op1('Reshape', [g.op1('MatMul', [probs, vT]), g.i64([0, nh, -1, hd])]); // [B, nh, T, hd]
  const ctx = g.op1('Reshape', [g.op1('Transpose', [ctx4], { perm: A.ints([0, 2, 1, 3]) }), g.i64([0, 0, -1])]); // [B, T, nh·hd]
  const oK = g.floatInitializer(`${p}.o_proj.kernel`, [qo, H], fusedKernel([w(`${p}.o_proj.weight`)], qo));
  const out = g.op1('MatMul', [ctx, oK]);
  // HF's attention_bias also puts a bias on o_proj; it lives in the hidden dimension (never pruned).
  const oBias = cfg.attentionBias ? c.optional(`${p}.o_proj.bias`, [H]) : null;
  return oBias ? g.op1('Add', [out, oBias]) : out;
}

/** The SwiGLU MLP of layer i on h (the residual is added by the caller). */
function mlpBlock(c: GraphContext, i: number, h: string): string {
  const { g, cfg, w } = c;
  const p = `model.layers.${i}`;
  const H = cfg.hiddenSize;
  const I = cfg.layers[i]!.intermediate_size;
  const x = c.rms(h, `${p}.post_attention_layernorm.weight`);
  const gu = g.floatInitializer(`${p}.mlp.gate_up_proj.kernel`, [H, 2 * I], fusedKernel([w(`${p}.mlp.gate_proj.weight`), w(`${p}.mlp.up_proj.weight`)], H));
  const [gate, up] = g.op('Split', [g.op1('MatMul', [x, gu]), g.i64([I, I])], { axis: A.int(-1) }, 2) as [string, string];
  const act = g.op1('Mul', [g.op1('Mul', [gate, g.op1('Sigmoid', [gate])]), up]);
  const dK = g.floatInitializer(`${p}.mlp.down_proj.kernel`, [I, H], fusedKernel([w(`${p}.mlp.down_proj.weight`)], I));
  return g.op1('MatMul', [act, dK]);
}

/** Final norm and the head; `logits` becomes the first output, as in HF exports. */
function lmHead(c: GraphContext, h: string, embedT: string, ids: string): void {
  const { g, cfg } = c;
  const H = cfg.hiddenSize;
  const V = cfg.vocabSize;
  const hn = c.rms(h, 'model.norm.weight');
  // The head as Gemm(x, W, transB=1) reads HF [V, H] directly, so a tied head shares the embedding tensor.
  const head = cfg.tieWordEmbeddings ? embedT : g.floatInitializer('lm_head.weight', [V, H], rawLazy(c.w('lm_head.weight')));
  const flat = g.op1('Reshape', [hn, g.i64([-1, H])]);
  const logits2 = g.op1('Gemm', [flat, head], { transB: A.int(1) });
  const outShape = g.op1('Concat', [g.op1('Shape', [ids]), g.i64([V])], { axis: A.int(0) });
  const logits = g.op1('Reshape', [logits2, outShape], {}, 'logits');
  g.output('logits', logits, DataType.FLOAT, ['batch', 'sequence', V]);
  const li = g.outputs.findIndex((o) => o.name === 'logits');
  g.outputs.unshift(...g.outputs.splice(li, 1));
}

// ---------------------------------------------------------------------------------------------------------
// Writing and caching

async function writeExport(cfg: LlamaConfig, weights: WeightMap, dir: string, opts: OnnxExportOptions, hash: string): Promise<OnnxExportMeta> {
  if (os.endianness() !== 'LE') throw new Error('ONNX export writes little-endian raw data; this host is big-endian');
  const { builder, kvLayers, options } = buildLlamaGraph(cfg, weights, opts);
  const layout: ExternalLayout | undefined = options.external ? externalLayout(MODEL_FILE) : undefined;
  const { graph, plan } = builder.toGraphProto(layout);
  const model = modelProto(graph, {
    irVersion: IR_VERSION,
    opset: OPSET,
    producerName: 'loram-studio',
    producerVersion: EXPORTER_VERSION,
    docString: options.description || undefined,
    metadata: { 'loram.hash': hash, 'loram.kind': options.kind, 'loram.config': JSON.stringify(toHfConfig(cfg)) },
  });
  if (!layout && model.length >= 2 ** 31 - 1) {
    throw new Error(`ONNX model would be ${model.length} bytes, over protobuf's 2 GiB limit; lower externalDataThreshold`);
  }
  await writeModelFiles(model, path.join(dir, MODEL_FILE), plan, layout ? path.join(dir, DATA_FILE) : undefined);
  const meta: OnnxExportMeta = {
    format: 'loram-onnx',
    exporterVersion: EXPORTER_VERSION,
    hash,
    kind: options.kind,
    opset: OPSET,
    irVersion: IR_VERSION,
    modelFile: MODEL_FILE,
    dataFile: layout ? DATA_FILE : null,
    inputs: builder.inputs.map((i) => i.name),
    outputs: builder.outputs.map((o) => o.name),
    kvLayers,
    headDim: cfg.headDim,
    vocabSize: cfg.vocabSize,
    numLayers: cfg.numLayers,
    maxPositions: options.maxPositions,
    positionIdsInput: options.positionIdsInput,
    eosTokenId: cfg.eosTokenId,
    padTokenId: cfg.padTokenId,
    bosTokenId: cfg.bosTokenId,
    initializerBytes: builder.initializerBytes(),
    description: options.description,
  };
  await fsp.writeFile(path.join(dir, META_FILE), JSON.stringify(meta, null, 2) + '\n');
  return meta;
}

function artifactOf(dir: string, meta: OnnxExportMeta, cached: boolean): OnnxArtifact {
  return { ...meta, dir, modelPath: path.join(dir, meta.modelFile), cached };
}

/** Read the metadata of an export directory (null when it is not a complete export). */
export async function readOnnxExport(dir: string): Promise<OnnxArtifact | null> {
  try {
    const meta = JSON.parse(await fsp.readFile(path.join(dir, META_FILE), 'utf8')) as OnnxExportMeta;
    if (meta.format !== 'loram-onnx' || meta.exporterVersion !== EXPORTER_VERSION) return null;
    await fsp.access(path.join(dir, meta.modelFile));
    if (meta.dataFile) await fsp.access(path.join(dir, meta.dataFile));
    return artifactOf(path.resolve(dir), meta, true);
  } catch {
    return null;
  }
}

/** Export into `dir` (created or replaced atomically). */
export async function exportOnnx(cfg: LlamaConfig, weights: WeightMap, dir: string, opts: OnnxExportOptions = {}): Promise<OnnxArtifact> {
  const hash = onnxExportHash(cfg, weights, opts);
  const abs = path.resolve(dir);
  const meta = await atomicWriteDir(abs, (tmp) => writeExport(cfg, weights, tmp, opts, hash));
  return artifactOf(abs, meta, false);
}

/**
 * Export into `<cacheDir>/<hash>/` unless that export already exists. The hash covers the config, every
 * weight byte, the graph options and EXPORTER_VERSION, so a changed adapter or model never reuses a stale file.
 */
export async function exportOnnxCached(cfg: LlamaConfig, weights: WeightMap, cacheDir: string, opts: OnnxExportOptions = {}): Promise<OnnxArtifact> {
  const hash = onnxExportHash(cfg, weights, opts);
  const dir = path.resolve(cacheDir, `${opts.kind ?? 'logits'}-${hash.slice(0, 32)}`);
  const hit = await readOnnxExport(dir);
  if (hit && hit.hash === hash) return hit;
  await fsp.mkdir(path.resolve(cacheDir), { recursive: true });
  const meta = await atomicWriteDir(dir, (tmp) => writeExport(cfg, weights, tmp, opts, hash));
  return artifactOf(dir, meta, false);
}
