/**
 * The runtime-neutral causal-LM interface that evaluation runs against, its TensorFlow.js implementation
 * (`LlamaModel.forward`), and the helpers both runtimes share: token log-probabilities and sampling.
 * The ONNX Runtime implementation is `OrtCausalLM` in ../onnx/runtime.
 */
import { tf } from '../backend/tf';
import { backendInfo } from '../backend/backend';
import type { LlamaModel } from '../model/llama';
import { Rng } from '../util/rng';

export type Runtime = 'onnxruntime' | 'tfjs';

/** Right- or left-padded token ids, row-major [batch, seqLen]. `mask` is 1 for tokens, 0 for padding. */
export interface TokenBatch {
  ids: Int32Array;
  mask?: Int32Array;
  batch: number;
  seqLen: number;
}

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 (default) = greedy; otherwise softmax(logits / temperature) sampling. */
  temperature?: number;
  /** Nucleus sampling: keep the smallest set of tokens whose probability reaches topP (default 1 = off). */
  topP?: number;
  /** Keep only the k most likely tokens (default 0 = off). */
  topK?: number;
  /** Generation of a row stops after any of these ids (the stop id is not included in `tokens`). */
  stopTokens?: readonly number[];
  /** Seed for sampling (default 0). */
  seed?: number;
}

export interface GenerationOutput {
  /** New tokens (prompt excluded, stop token excluded). */
  tokens: number[];
  stopReason: 'stop' | 'length';
}

export interface CausalLM {
  readonly runtime: Runtime;
  /** Short backend name: 'cpu' | 'cuda' for ONNX Runtime's execution provider, the tfjs backend name otherwise. */
  readonly backend: string;
  /** One line naming library, version, device and threads. */
  readonly backendDetail: string;
  readonly vocabSize: number;
  /** Longest sequence (prompt + generated) the model accepts. */
  readonly maxLength: number;
  /** Logits [batch, seqLen, vocab] for the batch (causal, padding masked). */
  logits(batch: TokenBatch): Promise<Float32Array>;
  /** Continue each prompt (token ids, non-empty). */
  generate(prompts: readonly (readonly number[])[], opts: GenerateOptions): Promise<GenerationOutput[]>;
  dispose(): Promise<void>;
}

/** log p(target | row) = logit[target] − logsumexp(row), in float64. */
export function tokenLogProb(logits: Float32Array, rowOffset: number, vocab: number, target: number): number {
  let max = -Infinity;
  for (let j = 0; j < vocab; j++) {
    const v = logits[rowOffset + j]!;
    if (v > max) max = v;
  }
  let sum = 0;
  for (let j = 0; j < vocab; j++) sum += Math.exp(logits[rowOffset + j]! - max);
  return logits[rowOffset + target]! - max - Math.log(sum);
}

/** Index of the largest value (first on ties, like numpy/torch argmax). */
export function argmax(a: ArrayLike<number>, offset = 0, length = a.length - offset): number {
  let best = 0;
  let bv = -Infinity;
  for (let j = 0; j < length; j++) {
    const v = a[offset + j]!;
    if (v > bv) {
      bv = v;
      best = j;
    }
  }
  return best;
}

/** A sampler for one generation call: greedy, or temperature / top-k / top-p sampling from a seeded Rng. */
export function makeSampler(opts: GenerateOptions): (logits: Float32Array, offset: number, vocab: number) => number {
  const temperature = opts.temperature ?? 0;
  const topP = opts.topP ?? 1;
  const topK = opts.topK ?? 0;
  if (temperature < 0) throw new Error(`temperature must be ≥ 0, got ${temperature}`);
  if (!(topP > 0 && topP <= 1)) throw new Error(`topP must be in (0, 1], got ${topP}`);
  if (temperature === 0) return (l, o, v) => argmax(l, o, v);
  const rng = new Rng(opts.seed ?? 0);
  return (l, o, v) => {
    let max = -Infinity;
    for (let j = 0; j < v; j++) max = Math.max(max, l[o + j]!);
    const p = new Float64Array(v);
    let z = 0;
    for (let j = 0; j < v; j++) z += p[j] = Math.exp((l[o + j]! - max) / temperature);
    let order = Array.from({ length: v }, (_, j) => j).sort((a, b) => p[b]! - p[a]! || a - b);
    if (topK > 0) order = order.slice(0, topK);
    if (topP < 1) {
      // HF TopPLogitsWarper: keep tokens until the cumulative probability reaches topP (at least one).
      let cum = 0;
      let k = 0;
      while (k < order.length) {
        cum += p[order[k]!]! / z;
        k++;
        if (cum >= topP) break;
      }
      order = order.slice(0, k);
    }
    let mass = 0;
    for (const j of order) mass += p[j]!;
    let u = rng.next() * mass;
    for (const j of order) {
      u -= p[j]!;
      if (u <= 0) return j;
    }
    return order[order.length - 1]!;
  };
}

/** Left-pad prompts into one batch (shared by runtimes that generate batched). */
export function leftPad(prompts: readonly (readonly number[])[], pad: number): TokenBatch {
  const B = prompts.length;
  const T = Math.max(...prompts.map((p) => p.length));
  const ids = new Int32Array(B * T).fill(pad);
  const mask = new Int32Array(B * T);
  prompts.forEach((p, b) => {
    const o = b * T + (T - p.length);
    ids.set(p, o);
    mask.fill(1, o, b * T + T);
  });
  return { ids, mask, batch: B, seqLen: T };
}

/** Right-pad sequences into one batch. */
export function rightPad(rows: readonly (ArrayLike<number>)[], pad = 0, seqLen?: number): TokenBatch {
  const B = rows.length;
  const T = seqLen ?? Math.max(1, ...rows.map((r) => r.length));
  const ids = new Int32Array(B * T).fill(pad);
  const mask = new Int32Array(B * T);
  rows.forEach((r, b) => {
    if (r.length > T) throw new Error(`row ${b} has ${r.length} tokens, more than the batch length ${T}`);
    ids.set(r, b * T);
    mask.fill(1, b * T, b * T + r.length);
  });
  return { ids, mask, batch: B, seqLen: T };
}

export function checkPrompts(prompts: readonly (readonly number[])[], maxNewTokens: number, maxLength: number, vocab: number): void {
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) throw new Error(`maxNewTokens must be a non-negative integer, got ${maxNewTokens}`);
  prompts.forEach((p, i) => {
    if (p.length === 0) throw new Error(`prompt ${i} is empty; generation needs at least one token (add BOS)`);
    if (p.length + maxNewTokens > maxLength) throw new Error(`prompt ${i} (${p.length} tokens) + ${maxNewTokens} new tokens exceeds the model's ${maxLength} positions`);
    for (const t of p) if (!Number.isInteger(t) || t < 0 || t >= vocab) throw new Error(`prompt ${i} has token id ${t} outside the vocabulary (size ${vocab})`);
  });
}

/**
 * `LlamaModel.forward` as a CausalLM. The model may carry attached (unmerged) adapters; the caller says so in
 * the evaluation subject. Positions are 0…T−1 per row, so batches must be right-padded (scoring does that);
 * generation runs prompt by prompt over the full prefix (the tfjs model has no KV cache).
 */
export class TfjsCausalLM implements CausalLM {
  readonly runtime = 'tfjs' as const;
  readonly vocabSize: number;
  readonly maxLength: number;

  /**
   * `ownsModel`: dispose the model with this object. `maxBatch`: rows per forward pass — larger batches are
   * split (tfjs-wasm's heap is bounded: a SmolLM-135M-sized model aborts at 8 × 128 tokens in one pass).
   */
  constructor(readonly model: LlamaModel, private readonly opts: { ownsModel?: boolean; maxBatch?: number } = {}) {
    this.vocabSize = model.config.vocabSize;
    this.maxLength = model.config.maxPositionEmbeddings;
  }

  get backend(): string {
    return backendInfo()?.name ?? tf.getBackend();
  }

  get backendDetail(): string {
    const b = backendInfo();
    return `@tensorflow/tfjs ${tf.version_core} (${b?.name ?? tf.getBackend()}${b ? `, ${b.threads} thread${b.threads === 1 ? '' : 's'}` : ''})`;
  }

  async logits(b: TokenBatch): Promise<Float32Array> {
    if (b.seqLen > this.maxLength) throw new Error(`sequence length ${b.seqLen} exceeds the model's ${this.maxLength} positions`);
    const max = this.opts.maxBatch ?? Infinity;
    if (b.batch > max) {
      const T = b.seqLen;
      const rowLogits = T * this.vocabSize;
      const all = new Float32Array(b.batch * rowLogits);
      for (let r = 0; r < b.batch; r += max) {
        const n = Math.min(max, b.batch - r);
        const part = await this.logits({ ids: b.ids.subarray(r * T, (r + n) * T), mask: b.mask?.subarray(r * T, (r + n) * T), batch: n, seqLen: T });
        all.set(part, r * rowLogits);
      }
      return all;
    }
    const out = tf.tidy(() => {
      const ids = tf.tensor2d(b.ids, [b.batch, b.seqLen], 'int32');
      const mask = b.mask ? tf.tensor2d(b.mask, [b.batch, b.seqLen], 'int32') : undefined;
      return this.model.forward(ids, { attentionMask: mask });
    });
    try {
      return (await out.data()) as Float32Array;
    } finally {
      out.dispose();
    }
  }

  async generate(prompts: readonly (readonly number[])[], opts: GenerateOptions): Promise<GenerationOutput[]> {
    checkPrompts(prompts, opts.maxNewTokens, this.maxLength, this.vocabSize);
    const stop = new Set(opts.stopTokens ?? []);
    const V = this.vocabSize;
    const results: GenerationOutput[] = [];
    for (const prompt of prompts) {
      const sample = makeSampler(opts);
      const seq = [...prompt];
      const tokens: number[] = [];
      let stopReason: GenerationOutput['stopReason'] = 'length';
      for (let s = 0; s < opts.maxNewTokens; s++) {
        const T = seq.length;
        const h = tf.tidy(() => {
          const hid = this.model.hidden(tf.tensor2d(seq, [1, T], 'int32'));
          return this.model.project(tf.reshape(tf.slice(hid, [0, T - 1, 0], [1, 1, this.model.config.hiddenSize]), [1, this.model.config.hiddenSize]) as tf.Tensor2D);
        });
        const row = (await h.data()) as Float32Array;
        h.dispose();
        const t = sample(row, 0, V);
        if (stop.has(t)) {
          stopReason = 'stop';
          break;
        }
        tokens.push(t);
        seq.push(t);
      }
      results.push({ tokens, stopReason });
    }
    return results;
  }

  async dispose(): Promise<void> {
    if (this.opts.ownsModel) this.model.dispose();
  }
}
