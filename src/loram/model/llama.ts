/**
 * LLaMA-architecture decoder in TensorFlow.js: RMSNorm, RoPE (with LLaMA-3 scaling), grouped-query attention,
 * SwiGLU MLP, tied or untied embeddings, optional q/k/v/o bias (attention_bias), and per-layer head counts / MLP widths so
 * structurally pruned models run as they are (physically smaller).
 */
import { tf } from '../backend/tf';
import type { LlamaConfig, LinearModule } from './config';
import { ATTENTION_MODULES, expectedShapes, LINEAR_MODULES, linearName } from './config';
import { DenseLinear, uid } from './linear';
import type { ForwardContext, Linear } from './linear';
import { rotateHalfMatrix, ropeTables } from './rope';
import { checkpointed } from './checkpoint';
import type { HostTensor, WeightMap } from '../util/tensor';
import { shapeStr, transpose2d } from '../util/tensor';
import { Rng } from '../util/rng';

export interface DecoderLayer {
  inputNorm: tf.Variable;
  postNorm: tf.Variable;
  linears: Record<LinearModule, Linear>;
  heads: number;
  kvHeads: number;
  intermediate: number;
}

export interface ForwardOptions {
  /** [B, T] of 1 (attend) / 0 (padding). Right padding assumed for positions. */
  attentionMask?: tf.Tensor2D;
  /**
   * [B, T] packed rows: the example of each position (1, 2, …; 0 = padding); a position attends only to its own
   * example. Positions run on through the row: rotary attention depends only on distances, so nothing changes.
   */
  segments?: tf.Tensor2D;
  training?: boolean;
  /** Seed for dropout; each call draws from it deterministically. */
  seed?: number;
  /**
   * Activation checkpointing per decoder layer: keep only each layer's input and recompute the layer in the
   * backward pass (less memory, about one more forward of compute). Dropout seeds are drawn per layer so the
   * recomputation sees the same masks.
   */
  checkpoint?: boolean;
}

/** Extra logits added by `project` (a LoRA on lm_head): delta [rows, V] for hidden states [rows, H]. */
export interface HeadAdapter {
  apply(h2d: tf.Tensor2D, ctx: ForwardContext): tf.Tensor2D;
  dispose(): void;
}

export interface ModelInit {
  /** Which parameters train (default all). LoRA freezes the base by passing false. */
  trainable?: boolean;
}

export class LlamaModel {
  readonly config: LlamaConfig;
  readonly embed: tf.Variable; // [V, H]
  readonly lmHead: tf.Variable | null; // kernel layout [H, V]; null when tied
  readonly finalNorm: tf.Variable;
  readonly layers: DecoderLayer[];
  /** Optional adapter on lm_head (LoRA), applied in `project`; owned (and disposed) by the model while set. */
  headAdapter: HeadAdapter | null = null;
  private readonly rotate: Map<number, tf.Tensor2D> = new Map();
  private ropeCache: { positions: number; cos: tf.Tensor; sin: tf.Tensor } | null = null;
  private disposed = false;

  private constructor(config: LlamaConfig, embed: tf.Variable, lmHead: tf.Variable | null, finalNorm: tf.Variable, layers: DecoderLayer[]) {
    this.config = config;
    this.embed = embed;
    this.lmHead = lmHead;
    this.finalNorm = finalNorm;
    this.layers = layers;
    // Built once here, not lazily inside a forward, so a model's tensor count never changes while it is used.
    tf.tidy(() => {
      this.ropeFor(Math.min(config.maxPositionEmbeddings, 512));
      this.rotateMatrix();
    });
  }

  /** Build from HF-layout weights; checks every tensor's presence and shape first. */
  static fromWeights(config: LlamaConfig, weights: WeightMap, init: ModelInit = {}): LlamaModel {
    checkWeights(config, weights);
    const trainable = init.trainable ?? true;
    const get = (n: string) => weights.get(n)!;
    // tf.variable inside tidy so the tensor it is built from is released.
    const v = (n: string, t: HostTensor) => tf.tidy(() => tf.variable(tf.tensor(t.data, t.shape), trainable, `${n}#${uid()}`));
    const embed = v('model.embed_tokens.weight', get('model.embed_tokens.weight'));
    const lmHead = config.tieWordEmbeddings ? null : (() => {
      const t = transpose2d(get('lm_head.weight'));
      return tf.tidy(() => tf.variable(tf.tensor2d(t.data, t.shape as [number, number]), trainable, `lm_head.weight#${uid()}`));
    })();
    const finalNorm = v('model.norm.weight', get('model.norm.weight'));
    const layers = config.layers.map((l, i) => {
      const p = `model.layers.${i}`;
      const linears = {} as Record<LinearModule, Linear>;
      for (const m of LINEAR_MODULES) {
        const name = linearName(i, m);
        const biasName = name.replace(/\.weight$/, '.bias');
        const hasBias = config.attentionBias && ATTENTION_MODULES.includes(m);
        linears[m] = new DenseLinear(get(name), hasBias ? get(biasName) : null, name.replace(/\.weight$/, ''), trainable);
      }
      return {
        inputNorm: v(`${p}.input_layernorm.weight`, get(`${p}.input_layernorm.weight`)),
        postNorm: v(`${p}.post_attention_layernorm.weight`, get(`${p}.post_attention_layernorm.weight`)),
        linears,
        heads: l.num_attention_heads,
        kvHeads: l.num_key_value_heads,
        intermediate: l.intermediate_size,
      };
    });
    return new LlamaModel(config, embed, lmHead, finalNorm, layers);
  }

  /** Random initialisation as HF does (normal(0, std) weights, unit norms), from a seed. */
  static random(config: LlamaConfig, seed = 0, std = 0.02, init: ModelInit & InitOptions = {}): LlamaModel {
    return LlamaModel.fromWeights(config, randomWeights(config, seed, std, init), init);
  }

  /** All variables in a fixed order (for optimisers and checksums). */
  variables(): tf.Variable[] {
    const out: tf.Variable[] = [this.embed];
    for (const l of this.layers) {
      out.push(l.inputNorm, l.postNorm);
      for (const m of LINEAR_MODULES) out.push(...l.linears[m].trainable());
    }
    out.push(this.finalNorm);
    if (this.lmHead) out.push(this.lmHead);
    return out.filter((x) => x.trainable);
  }

  /** Replace one linear (LoRA wrapping, quantized base); returns the old one (caller owns it). */
  setLinear(layer: number, mod: LinearModule, lin: Linear): Linear {
    const old = this.layers[layer]!.linears[mod];
    if (lin.inFeatures !== old.inFeatures || lin.outFeatures !== old.outFeatures) {
      throw new Error(`${linearName(layer, mod)}: replacement is [${lin.outFeatures}, ${lin.inFeatures}] but the layer is [${old.outFeatures}, ${old.inFeatures}]`);
    }
    this.layers[layer]!.linears[mod] = lin;
    return old;
  }

  private ropeFor(T: number): { cos: tf.Tensor; sin: tf.Tensor } {
    if (!this.ropeCache || this.ropeCache.positions < T) {
      this.ropeCache?.cos.dispose();
      this.ropeCache?.sin.dispose();
      const n = Math.max(T, 64);
      if (T > this.config.maxPositionEmbeddings) throw new Error(`sequence length ${T} exceeds max_position_embeddings ${this.config.maxPositionEmbeddings}`);
      const { cos, sin } = ropeTables(this.config, n);
      const hd = this.config.headDim;
      this.ropeCache = { positions: n, cos: tf.keep(tf.tensor2d(cos, [n, hd])), sin: tf.keep(tf.tensor2d(sin, [n, hd])) };
    }
    const { cos, sin } = this.ropeCache;
    const hd = this.config.headDim;
    return {
      cos: tf.reshape(tf.slice(cos, [0, 0], [T, hd]), [1, T, 1, hd]),
      sin: tf.reshape(tf.slice(sin, [0, 0], [T, hd]), [1, T, 1, hd]),
    };
  }

  private rotateMatrix(): tf.Tensor2D {
    const hd = this.config.headDim;
    let r = this.rotate.get(hd);
    if (!r) {
      r = tf.keep(tf.tensor2d(rotateHalfMatrix(hd), [hd, hd]));
      this.rotate.set(hd, r);
    }
    return r;
  }

  /** Final hidden states [B, T, H] (after the last RMSNorm). */
  hidden(ids: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor3D {
    if (this.disposed) throw new Error('model was disposed');
    const cfg = this.config;
    const [B, T] = ids.shape;
    const H = cfg.hiddenSize;
    const hd = cfg.headDim;
    const ctx = dropoutContext(opts.training ?? false, opts.seed ?? 0);
    const { cos, sin } = this.ropeFor(T);
    const R = this.rotateMatrix();
    const rope = (x: tf.Tensor, heads: number, cos: tf.Tensor, sin: tf.Tensor) => {
      // x: [B, T, heads, hd]
      const rot = tf.reshape(tf.matMul(tf.reshape(x, [B * T * heads, hd]), R), [B, T, heads, hd]);
      return tf.add(tf.mul(x, cos), tf.mul(rot, sin));
    };
    // Additive attention bias: causal + padding.
    const causal = tf.linalg.bandPart(tf.ones([T, T]), -1, 0);
    let bias: tf.Tensor = tf.reshape(tf.mul(tf.sub(1, causal), -1e9), [1, 1, T, T]);
    if (opts.attentionMask) {
      const pad = tf.reshape(tf.mul(tf.sub(1, tf.cast(opts.attentionMask, 'float32')), -1e9), [B, 1, 1, T]);
      bias = tf.add(bias, pad);
    }
    if (opts.segments) bias = tf.add(bias, segmentBias(opts.segments, B, T));
    let h: tf.Tensor2D = tf.reshape(tf.gather(this.embed, tf.reshape(ids, [B * T])), [B * T, H]);
    const scale = 1 / Math.sqrt(hd);
    // The layer reads the RoPE tables and the attention bias as `consts` (a checkpointed layer gets saved copies).
    const block = (layer: DecoderLayer, hIn: tf.Tensor2D, ctx: ForwardContext, [cos, sin, bias]: readonly tf.Tensor[]): tf.Tensor2D => {
      let h = hIn;
      const L = layer.linears;
      if (layer.heads > 0) {
        const x = rmsNorm(h, layer.inputNorm, cfg.rmsNormEps);
        const nh = layer.heads;
        const nkv = layer.kvHeads;
        const g = nh / nkv;
        let q = rope(tf.reshape(L.q_proj.apply(x, ctx), [B, T, nh, hd]), nh, cos!, sin!);
        let k = rope(tf.reshape(L.k_proj.apply(x, ctx), [B, T, nkv, hd]), nkv, cos!, sin!);
        let v: tf.Tensor = tf.reshape(L.v_proj.apply(x, ctx), [B, T, nkv, hd]);
        // GQA without repeat_kv copies: query heads j·g … j·g+g−1 share KV head j, so fold them into the
        // query-length axis, [B, nkv, g·T, hd], and attend against [B, nkv, T, hd].
        q = tf.reshape(tf.transpose(q, [0, 2, 1, 3]), [B, nkv, g * T, hd]);
        k = tf.transpose(k, [0, 2, 3, 1]); // [B, nkv, hd, T]
        v = tf.transpose(v, [0, 2, 1, 3]); // [B, nkv, T, hd]
        const scores = tf.add(tf.mul(tf.matMul(q, k), scale), g > 1 ? tf.tile(bias!, [1, 1, g, 1]) : bias!);
        const probs = tf.softmax(scores);
        const out = tf.reshape(tf.matMul(probs, v), [B, nh, T, hd]);
        const ctxv = tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [B * T, nh * hd]);
        h = tf.add(h, L.o_proj.apply(ctxv as tf.Tensor2D, ctx));
      }
      if (layer.intermediate > 0) {
        const x = rmsNorm(h, layer.postNorm, cfg.rmsNormEps);
        const gate = L.gate_proj.apply(x, ctx);
        const act = tf.mul(tf.mul(gate, tf.sigmoid(gate)), L.up_proj.apply(x, ctx));
        h = tf.add(h, L.down_proj.apply(act as tf.Tensor2D, ctx));
      }
      return h;
    };
    const consts = [cos, sin, bias];
    for (const layer of this.layers) {
      if (opts.checkpoint) {
        // Masks depend on the seed and the module only, so the recomputation draws the same dropout masks.
        h = checkpointed((x, c) => block(layer, x, ctx, c), h, consts, layerTrainables(layer));
      } else h = block(layer, h, ctx, consts);
    }
    return tf.reshape(rmsNorm(h, this.finalNorm, cfg.rmsNormEps), [B, T, H]);
  }

  /** Logits [rows, V] for hidden states [rows, H]. */
  project(h2d: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor2D {
    const head = this.lmHead ?? tf.transpose(this.embed); // explicit transpose keeps the matMul on the fast path
    const logits: tf.Tensor2D = tf.matMul(h2d, head as tf.Tensor2D);
    if (!this.headAdapter) return logits;
    const ctx = dropoutContext(opts.training ?? false, opts.seed ?? 0);
    return tf.add(logits, this.headAdapter.apply(h2d, ctx)) as tf.Tensor2D;
  }

  /** Logits [B, T, V]. */
  forward(ids: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor3D {
    return tf.tidy(() => {
      const [B, T] = ids.shape;
      const h = this.hidden(ids, opts);
      return tf.reshape(this.project(tf.reshape(h, [B * T, this.config.hiddenSize]), opts), [B, T, this.config.vocabSize]);
    });
  }

  /** HF-layout weights (linears [out, in]); tied models have no lm_head.weight. */
  toWeights(): WeightMap {
    const w: WeightMap = new Map();
    const host = (t: tf.Tensor): HostTensor => ({ shape: [...t.shape], data: new Float32Array(t.dataSync()) });
    w.set('model.embed_tokens.weight', host(this.embed));
    this.layers.forEach((l, i) => {
      const p = `model.layers.${i}`;
      w.set(`${p}.input_layernorm.weight`, host(l.inputNorm));
      w.set(`${p}.post_attention_layernorm.weight`, host(l.postNorm));
      for (const m of LINEAR_MODULES) {
        const name = linearName(i, m);
        w.set(name, l.linears[m].baseWeightHf());
        const b = l.linears[m].biasHf();
        if (b) w.set(name.replace(/\.weight$/, '.bias'), b);
      }
    });
    w.set('model.norm.weight', host(this.finalNorm));
    if (this.lmHead) w.set('lm_head.weight', transpose2d(host(this.lmHead)));
    return w;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.embed.dispose();
    this.lmHead?.dispose();
    this.finalNorm.dispose();
    this.headAdapter?.dispose();
    for (const l of this.layers) {
      l.inputNorm.dispose();
      l.postNorm.dispose();
      for (const m of LINEAR_MODULES) l.linears[m].dispose();
    }
    for (const r of this.rotate.values()) r.dispose();
    this.ropeCache?.cos.dispose();
    this.ropeCache?.sin.dispose();
  }
}

export function rmsNorm(x: tf.Tensor2D, w: tf.Tensor, eps: number): tf.Tensor2D {
  const ms = tf.mean(tf.square(x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), w);
}

/** Every expected tensor present with its expected shape (errors name the tensor and both shapes). */
export function checkWeights(config: LlamaConfig, weights: WeightMap): void {
  const problems: string[] = [];
  for (const [name, shape] of expectedShapes(config)) {
    const t = weights.get(name);
    if (!t) problems.push(`missing tensor ${name} (expected shape ${shapeStr(shape)})`);
    else if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      problems.push(`tensor ${name} has shape ${shapeStr(t.shape)}, expected ${shapeStr(shape)}`);
    }
  }
  if (problems.length) throw new Error(`weights do not match the config:\n  ${problems.join('\n  ')}`);
}

export interface InitOptions {
  /**
   * Start o_proj and down_proj at zero, so every block begins as the identity (SkipInit / ReZero style). On
   * this project's 8-layer model it reached a held-out loss 0.17 nats lower after 300 steps than HF's plain
   * N(0, std) init, which left the deep model behind a 4-layer one early in training.
   */
  zeroResidualProjections?: boolean;
}

function dropoutContext(training: boolean, seed: number): ForwardContext {
  return { training, seed: seed >>> 0 };
}

function layerTrainables(layer: DecoderLayer): tf.Variable[] {
  const vs = [layer.inputNorm, layer.postNorm, ...LINEAR_MODULES.flatMap((m) => layer.linears[m].trainable())];
  return vs.filter((v) => v.trainable);
}

/** HF-style random init: N(0, std) for matrices, ones for norms, zeros for biases. */
export function randomWeights(config: LlamaConfig, seed: number, std = 0.02, opts: InitOptions = {}): WeightMap {
  const rng = new Rng(seed);
  const w: WeightMap = new Map();
  for (const [name, shape] of expectedShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (name.endsWith('norm.weight')) data.fill(1);
    else if (!name.endsWith('.bias')) for (let i = 0; i < n; i++) data[i] = rng.normal() * std;
    if (opts.zeroResidualProjections && /\.(o_proj|down_proj)\.weight$/.test(name)) data.fill(0);
    w.set(name, { shape, data });
  }
  return w;
}

/**
 * Packed rows: −1e9·(max(1 − s_k, 0) + s_q·(s_q − s_k)²) [B, 1, T, T] for segment ids s (1, 2, … per example,
 * 0 = padding): 0 exactly within one example, large across examples and on padding keys (the ONNX training
 * graph's formula, ort-train/llama-graph.ts).
 */
function segmentBias(segments: tf.Tensor2D, B: number, T: number): tf.Tensor {
  const s = tf.cast(segments, 'float32');
  const q = tf.reshape(s, [B, 1, T, 1]);
  const k = tf.reshape(s, [B, 1, 1, T]);
  const other = tf.mul(q, tf.square(tf.sub(q, k)));
  return tf.mul(tf.add(other, tf.maximum(tf.sub(1, k), 0)), -1e9);
}
