/**
 * The training graph of a LLaMA-architecture model for ONNX Runtime: forward, masked next-token cross-entropy
 * (summed over counted tokens) and the backward pass to the trainable tensors, in one ONNX graph for one
 * static batch × sequence shape.
 *
 * Covers what `LlamaModel` (tfjs) covers: per-layer head counts and MLP widths (structurally pruned models,
 * whole blocks pruned away), GQA, tied or untied heads, biases on any projection, RoPE with linear/llama3
 * scaling, causal + padding masks, LoRA on any of q, k, v, o, gate, up, down and lm_head with dropout (keep-masks
 * fed per step), and full-weight training. Frozen tensors are initializers that live in the session; trainable
 * tensors are graph inputs fed each step, and their gradients are graph outputs.
 */
import type { LlamaConfig, LinearModule } from '../model/config';
import { linearName } from '../model/config';
import { ropeTables } from '../model/rope';
import type { LoraTarget } from '../model/config';
import { moduleKey } from '../lora/adapter';
import { loraModuleSlots } from '../lora/modules';
import { DataType } from '../onnx/graph';
import type { WeightMap } from '../util/tensor';
import type { BaseLinears } from './base-linears';
import * as op from './ops';
import { Tape, type Val } from './tape';

export interface LoraTrainSpec {
  r: number;
  alpha: number;
  dropout: number;
  targets: readonly LoraTarget[];
  /** Decoder layers that get adapters (default all). */
  layers?: readonly number[] | null;
}

export type TrainMode = { kind: 'lora'; lora: LoraTrainSpec } | { kind: 'full'; frozen: ReadonlySet<string> };

export interface TrainGraphSpec {
  config: LlamaConfig;
  /** HF-layout weights of everything that is not a decoder linear held by `bases` (and of those too, when dense). */
  weights: WeightMap;
  /** How the frozen decoder linears are stored in the session (dense f32 initializers, or NF4). */
  bases: BaseLinears;
  mode: TrainMode;
  batch: number;
  seqLen: number;
  /** Recompute each decoder layer in the backward pass instead of keeping its activations. */
  checkpoint?: boolean;
  /** Packed rows: the mask feed holds each position's example (1, 2, …; 0 = padding), attention stays within it. */
  segments?: boolean;
}

/** A tensor fed every step. */
export interface FedTensor {
  name: string;
  shape: number[];
}

/** A dropout keep-mask fed every step: bool [rows, features] for the input of LoRA module `key`. */
export interface DropoutFeed extends FedTensor {
  key: string;
  rate: number;
}

export interface TrainGraph {
  tape: Tape;
  /** Trainable tensors in a fixed order; gradient of each is output `grad:<name>`. */
  trainables: FedTensor[];
  dropoutMasks: DropoutFeed[];
  /**
   * Trainable tensors the loss does not depend on (the adapter of a pruned-away module, the norm of a pruned-away
   * block): not in the graph; their gradient is zero.
   */
  offPathTrainables: FedTensor[];
}

export const LOSS_OUTPUT = 'loss_sum';
export const gradOutput = (name: string) => `grad:${name}`;

/**
 * The values a trainer keeps in its own arrays rather than the runtime's: every fed trainable tensor (the host
 * optimizer's working copy, fed in place) and its gradient output (written straight into the optimizer's
 * accumulator). live-bytes.ts leaves them out; the host optimizer's bytes count them.
 */
export function hostOwnedValues(graph: Pick<TrainGraph, 'trainables'>): Set<string> {
  return new Set(graph.trainables.flatMap((f) => [f.name, gradOutput(f.name)]));
}
/**
 * Fed names: token ids int64 [B, T], mask float [B, T] (1 token, 0 padding), labels int64 [B·T, 1], label weights
 * float [B·T, 1], and with LoRA dropout the inverted-dropout scale (1/(1 − p) in training, 1 with all-keep masks
 * to evaluate).
 */
export const FEEDS = { ids: 'input_ids', mask: 'attention_mask', labels: 'labels', weights: 'label_weights', dropoutScale: 'dropout_scale' } as const;

export const loraAName = (key: string) => `${key}.lora_A.weight`;
export const loraBName = (key: string) => `${key}.lora_B.weight`;

interface Ctx {
  t: Tape;
  spec: TrainGraphSpec;
  out: TrainGraph;
  n: number;
  /** A weight as a graph value: a trainable input (full mode) or a frozen initializer. */
  weight(name: string): Val;
}

export function buildTrainGraph(spec: TrainGraphSpec): TrainGraph {
  const { config: cfg, batch: B, seqLen: T } = spec;
  if (!(Number.isInteger(B) && B > 0 && Number.isInteger(T) && T > 0)) throw new Error(`training shape must be positive integers, got batch ${B} × sequence ${T}`);
  if (T > cfg.maxPositionEmbeddings) throw new Error(`sequence length ${T} exceeds max_position_embeddings ${cfg.maxPositionEmbeddings}`);
  const t = new Tape('llama_train');
  const out: TrainGraph = { tape: t, trainables: [], dropoutMasks: [], offPathTrainables: [] };
  const ctx: Ctx = { t, spec, out, n: B * T, weight: (name) => weightVal(ctx, name) };

  const ids = t.g.input(FEEDS.ids, DataType.INT64, [B, T]);
  const mask = t.g.input(FEEDS.mask, DataType.FLOAT, [B, T]);
  const labels = t.g.input(FEEDS.labels, DataType.INT64, [B * T, 1]);
  const weights = t.g.input(FEEDS.weights, DataType.FLOAT, [B * T, 1]);
  const consts = attentionConstants(t, cfg, B, T, mask, spec.segments ?? false);

  let h = embedding(ctx, t.g.op1('Reshape', [ids, t.g.i64([B * T])]));
  cfg.layers.forEach((_, i) => {
    h = spec.checkpoint ? checkpointed(ctx, h, (c, x) => decoderLayer(c, i, x, consts)) : decoderLayer(ctx, i, h, consts);
  });
  const hn = op.rmsNorm(t, h, ctx.weight('model.norm.weight'), cfg.rmsNormEps);
  const head = ctx.weight(cfg.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight');
  const logits = withLora(ctx, 'lm_head', 'lm_head', hn, op.linear(t, hn, head));
  const loss = op.crossEntropySum(t, logits, labels, weights);
  t.g.output(LOSS_OUTPUT, loss.name, DataType.FLOAT, []);

  listOffPath(spec, out);
  const wrt = out.trainables.map((f) => ({ name: f.name, shape: f.shape, needsGrad: true }));
  const grads = t.backward(loss, wrt);
  for (const f of out.trainables) t.g.output(gradOutput(f.name), grads.get(f.name)!, DataType.FLOAT, f.shape);
  t.g.pruneUnused();
  return out;
}

/** Token embeddings [B·T, H]: a differentiable gather when the embedding trains, else the storage's lookup. */
function embedding(ctx: Ctx, ids: string): Val {
  const name = 'model.embed_tokens.weight';
  const w = ctx.spec.weights.get(name);
  if (!w) throw new Error(`missing tensor ${name}`);
  const { mode } = ctx.spec;
  if (mode.kind === 'full' && !mode.frozen.has(name)) return op.gatherRows(ctx.t, ctx.weight(name), ids, ctx.n);
  return ctx.t.constant(ctx.spec.bases.lookup(ctx.t.g, name, w, ids), [ctx.n, w.shape[1]!]);
}

function weightVal(ctx: Ctx, name: string): Val {
  const w = ctx.spec.weights.get(name);
  if (!w) throw new Error(`missing tensor ${name}`);
  const { mode } = ctx.spec;
  if (mode.kind === 'full' && !mode.frozen.has(name)) {
    const existing = ctx.out.trainables.find((f) => f.name === name);
    if (existing) return { name, shape: existing.shape, needsGrad: true };
    ctx.out.trainables.push({ name, shape: [...w.shape] });
    return ctx.t.input(name, w.shape, { trainable: true });
  }
  return ctx.t.constant(ctx.spec.bases.frozen(ctx.t.g, name, w), w.shape);
}

/**
 * What the graph never read but the model trains, with zero gradient: in full-weight training the norms and
 * weights of pruned-away blocks, under LoRA the adapters of targeted modules in pruned-away blocks.
 */
function listOffPath(spec: TrainGraphSpec, out: TrainGraph): void {
  const { mode, config: cfg } = spec;
  const seen = new Set([...out.trainables, ...out.offPathTrainables].map((f) => f.name));
  const add = (f: FedTensor) => {
    if (!seen.has(f.name)) out.offPathTrainables.push(f);
    seen.add(f.name);
  };
  if (mode.kind === 'full') {
    for (const [name, w] of spec.weights) if (!mode.frozen.has(name)) add({ name, shape: [...w.shape] });
    return;
  }
  const { r, targets, layers } = mode.lora;
  for (const slot of loraModuleSlots(cfg, { targetModules: targets, layers })) {
    add({ name: loraAName(slot.key), shape: [r, slot.inFeatures] });
    add({ name: loraBName(slot.key), shape: [slot.outFeatures, r] });
  }
}

interface AttentionConstants {
  cos: string;
  sin: string;
  /** Additive attention bias [B, 1, 1, T, T]: causal and padding. */
  bias: Val;
}

function attentionConstants(t: Tape, cfg: LlamaConfig, B: number, T: number, mask: string, segments: boolean): AttentionConstants {
  const hd = cfg.headDim;
  const half = hd / 2;
  const tables = ropeTables(cfg, T);
  for (let p = 0; p < T; p++) for (let i = 0; i < half; i++) tables.sin[p * hd + i] = -tables.sin[p * hd + i]!;
  const cos = t.g.floatInitializer('rope.cos', [T, 1, hd], tables.cos);
  const sin = t.g.floatInitializer('rope.sin_signed', [T, 1, hd], tables.sin);
  const causal = new Float32Array(T * T);
  for (let q = 0; q < T; q++) for (let k = q + 1; k < T; k++) causal[q * T + k] = -1e9;
  const causalT = t.g.floatInitializer('attention.causal_bias', [T, T], causal);
  if (segments) return { cos, sin, bias: t.constant(t.g.op1('Add', [segmentBias(t, B, T, mask), causalT]), [B, 1, 1, T, T]) };
  // Padding: (mask − 1)·1e9 on the key axis, as the tfjs model adds it.
  const pad = t.g.op1('Mul', [t.g.op1('Sub', [mask, t.g.f32([1], [])]), t.g.f32([1e9], [])]);
  const pad5 = t.g.op1('Reshape', [pad, t.g.i64([B, 1, 1, 1, T])]);
  const bias = t.g.op1('Add', [pad5, causalT]);
  return { cos, sin, bias: t.constant(bias, [B, 1, 1, T, T]) };
}

/**
 * Packed rows (segment ids s: 1, 2, … per example, 0 = padding): −1e9·(max(1 − s_k, 0) + s_q·(s_q − s_k)²), which is
 * 0 exactly where key and query are in one example and large where they are not or the key is padding — in plain
 * arithmetic, as LlamaModel.hidden computes it for tfjs.
 */
function segmentBias(t: Tape, B: number, T: number, seg: string): string {
  const q = t.g.op1('Reshape', [seg, t.g.i64([B, 1, 1, T, 1])]);
  const k = t.g.op1('Reshape', [seg, t.g.i64([B, 1, 1, 1, T])]);
  const d = t.g.op1('Sub', [q, k]);
  const other = t.g.op1('Mul', [q, t.g.op1('Mul', [d, d])]);
  const pad = t.g.op1('Max', [t.g.op1('Sub', [t.g.f32([1], []), k]), t.g.f32([0], [])]);
  return t.g.op1('Mul', [t.g.op1('Add', [other, pad]), t.g.f32([-1e9], [])]);
}

function decoderLayer(ctx: Ctx, i: number, hIn: Val, consts: AttentionConstants): Val {
  const { t } = ctx;
  const cfg = ctx.spec.config;
  const l = cfg.layers[i]!;
  let h = hIn;
  if (l.num_attention_heads > 0) h = op.add(t, h, attention(ctx, i, op.rmsNorm(t, h, ctx.weight(`model.layers.${i}.input_layernorm.weight`), cfg.rmsNormEps), consts));
  if (l.intermediate_size > 0) h = op.add(t, h, mlp(ctx, i, op.rmsNorm(t, h, ctx.weight(`model.layers.${i}.post_attention_layernorm.weight`), cfg.rmsNormEps)));
  return h;
}

/** A layer under activation checkpointing (Tape.checkpoint): its trainables are those it declared while built. */
function checkpointed(ctx: Ctx, x: Val, layer: (c: Ctx, x: Val) => Val): Val {
  const before = ctx.out.trainables.length;
  return ctx.t.checkpoint(
    x,
    () => ctx.out.trainables.slice(before).map((f) => ({ name: f.name, shape: f.shape, needsGrad: true })),
    (t, xx) => layer({ ...ctx, t }, xx),
  );
}

/** A decoder linear (frozen base, or trainable in full mode) plus its LoRA adapter when targeted. */
function projection(ctx: Ctx, layer: number, m: LinearModule, x: Val): Val {
  const name = linearName(layer, m);
  const biasName = name.replace(/\.weight$/, '.bias');
  const bias = ctx.spec.weights.has(biasName) ? ctx.weight(biasName) : null;
  const { mode } = ctx.spec;
  let y: Val;
  if (mode.kind === 'full' && !mode.frozen.has(name)) y = op.linear(ctx.t, x, ctx.weight(name), bias);
  else {
    const w = ctx.spec.weights.get(name);
    if (!w) throw new Error(`missing tensor ${name}`);
    const base = ctx.spec.bases.apply(ctx.t, name, x, w);
    y = bias ? op.add(ctx.t, base, bias) : base;
  }
  return withLora(ctx, moduleKey(layer, m), m, x, y, layer);
}

function withLora(ctx: Ctx, key: string, target: LoraTarget, x: Val, y: Val, layer: number | null = null): Val {
  const { mode } = ctx.spec;
  if (mode.kind !== 'lora') return y;
  const s = mode.lora;
  if (!s.targets.includes(target)) return y;
  if (layer !== null && s.layers && !s.layers.includes(layer)) return y;
  const inF = x.shape[1]!;
  const outF = y.shape[1]!;
  const a: FedTensor = { name: loraAName(key), shape: [s.r, inF] };
  const b: FedTensor = { name: loraBName(key), shape: [outF, s.r] };
  if (inF === 0 || outF === 0) {
    ctx.out.offPathTrainables.push(a, b);
    return y;
  }
  // A checkpointed layer is built twice: declare each input once.
  if (!ctx.out.trainables.some((f) => f.name === a.name)) ctx.out.trainables.push(a, b);
  const t = ctx.t;
  let xd = x;
  if (s.dropout > 0) {
    const feed: DropoutFeed = { name: `dropout:${key}`, shape: [ctx.n, inF], key, rate: s.dropout };
    if (!ctx.out.dropoutMasks.some((d) => d.name === feed.name)) ctx.out.dropoutMasks.push(feed);
    t.input(feed.name, feed.shape, { type: DataType.BOOL });
    t.input(FEEDS.dropoutScale, []);
    xd = op.dropout(t, x, feed.name, FEEDS.dropoutScale);
  }
  const u = op.matmul(t, xd, t.input(a.name, a.shape, { trainable: true }), { tb: true });
  const delta = op.matmul(t, u, t.input(b.name, b.shape, { trainable: true }), { tb: true, alpha: s.alpha / s.r });
  return op.add(t, y, delta);
}

function attention(ctx: Ctx, i: number, x: Val, c: AttentionConstants): Val {
  const { t, spec } = ctx;
  const { batch: B, seqLen: T, config: cfg } = spec;
  const l = cfg.layers[i]!;
  const hd = cfg.headDim;
  const nh = l.num_attention_heads;
  const nkv = l.num_key_value_heads;
  const g = nh / nkv;
  const heads = (v: Val, n: number) => op.reshape(t, v, [B, T, n, hd]);
  const q = op.rope(t, heads(projection(ctx, i, 'q_proj', x), nh), c.cos, c.sin);
  const k = op.rope(t, heads(projection(ctx, i, 'k_proj', x), nkv), c.cos, c.sin);
  const v = heads(projection(ctx, i, 'v_proj', x), nkv);
  // GQA without repeating K/V: query heads j·g … j·g+g−1 share KV head j, folded into the row axis.
  const qT = op.reshape(t, op.transpose(t, q, [0, 2, 1, 3]), [B, nkv, g * T, hd]);
  const kT = op.transpose(t, k, [0, 2, 1, 3]);
  const vT = op.transpose(t, v, [0, 2, 1, 3]);
  const scores = op.matmul(t, qT, kT, { tb: true, alpha: 1 / Math.sqrt(hd) });
  const biased = op.add(t, op.reshape(t, scores, [B, nkv, g, T, T]), c.bias);
  const probs = op.reshape(t, op.softmax(t, biased), [B, nkv, g * T, T]);
  const ctx4 = op.reshape(t, op.matmul(t, probs, vT), [B, nh, T, hd]);
  const merged = op.reshape(t, op.transpose(t, ctx4, [0, 2, 1, 3]), [B * T, nh * hd]);
  return projection(ctx, i, 'o_proj', merged);
}

function mlp(ctx: Ctx, i: number, x: Val): Val {
  const act = op.swiglu(ctx.t, projection(ctx, i, 'gate_proj', x), projection(ctx, i, 'up_proj', x));
  return projection(ctx, i, 'down_proj', act);
}

