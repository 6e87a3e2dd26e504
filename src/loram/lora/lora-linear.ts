/**
 * LoRA factors and the LoRA linear (loram-method.md §1, §4): y = base(x) + (α/r)·(dropout(x)·Aᵏ)·Bᵏ.
 * Aᵏ [in, r] and Bᵏ [r, out] are kernel-layout variables (plain untransposed matMuls, the fast path on
 * tfjs-wasm); on disk PEFT stores lora_A.weight = Aᵏᵀ [r, in] and lora_B.weight = Bᵏᵀ [out, r].
 * PEFT initialisation: A Kaiming-uniform with a = √5 (U(−1/√in, 1/√in)), B zeros, so a fresh adapter is a no-op.
 * Only A and B train; the base is never touched.
 */
import { tf } from '../backend/tf';
import type { ForwardContext, Linear } from '../model/linear';
import { uid } from '../model/linear';
import type { HeadAdapter } from '../model/llama';
import { Rng } from '../util/rng';
import { dropoutScaleMask } from './dropout';
import type { HostTensor } from '../util/tensor';
import { shapeStr, transpose2d } from '../util/tensor';

export interface LoraHyper {
  r: number;
  alpha: number;
  dropout: number;
}

/** PEFT-layout factors: A [r, in], B [out, r]. */
export interface LoraModuleWeights {
  A: HostTensor;
  B: HostTensor;
}

export function checkLoraHyper(h: LoraHyper): void {
  if (!(Number.isInteger(h.r) && h.r >= 1)) throw new Error(`LoRA rank r must be a positive integer, got ${h.r}`);
  if (!(Number.isFinite(h.alpha) && h.alpha > 0)) throw new Error(`LoRA alpha must be positive, got ${h.alpha}`);
  if (!(Number.isFinite(h.dropout) && h.dropout >= 0 && h.dropout < 1)) throw new Error(`LoRA dropout must be in [0, 1), got ${h.dropout}`);
}

/** torch `kaiming_uniform_(w, a=√5)` on a [r, in] weight: U(−b, b) with b = gain·√3/√fan_in = 1/√in. */
export function kaimingUniformA(r: number, inFeatures: number, rng: Rng): HostTensor {
  const bound = inFeatures > 0 ? 1 / Math.sqrt(inFeatures) : 0;
  const data = new Float32Array(r * inFeatures);
  for (let i = 0; i < data.length; i++) data[i] = (rng.next() * 2 - 1) * bound;
  return { shape: [r, inFeatures], data };
}

/** The adapter delta alone (also used as the lm_head adapter through LlamaModel.headAdapter). */
export class LoraFactors implements HeadAdapter {
  readonly A: tf.Variable; // [in, r]
  readonly B: tf.Variable; // [r, out]
  readonly scale: number;
  readonly r: number;
  readonly dropout: number;

  constructor(
    readonly name: string,
    readonly inFeatures: number,
    readonly outFeatures: number,
    hyper: LoraHyper,
    init: { weights?: LoraModuleWeights; rng?: Rng } = {},
  ) {
    checkLoraHyper(hyper);
    const { r } = hyper;
    this.r = r;
    this.scale = hyper.alpha / r;
    this.dropout = hyper.dropout;
    let A: HostTensor;
    let B: HostTensor;
    if (init.weights) {
      A = init.weights.A;
      B = init.weights.B;
      const wantA = [r, inFeatures];
      const wantB = [outFeatures, r];
      const bad: string[] = [];
      if (A.shape.length !== 2 || A.shape[0] !== r || A.shape[1] !== inFeatures) bad.push(`lora_A.weight is ${shapeStr(A.shape)}, expected ${shapeStr(wantA)}`);
      if (B.shape.length !== 2 || B.shape[0] !== outFeatures || B.shape[1] !== r) bad.push(`lora_B.weight is ${shapeStr(B.shape)}, expected ${shapeStr(wantB)}`);
      if (bad.length) throw new Error(`adapter module ${name} does not fit the model's layer [out ${outFeatures}, in ${inFeatures}] with r=${r}: ${bad.join('; ')}`);
    } else {
      A = kaimingUniformA(r, inFeatures, init.rng ?? new Rng(0));
      B = { shape: [outFeatures, r], data: new Float32Array(outFeatures * r) };
    }
    const ak = transpose2d(A); // [in, r]
    const bk = transpose2d(B); // [r, out]
    this.A = tf.tidy(() => tf.variable(tf.tensor2d(ak.data, [inFeatures, r]), true, `${name}.lora_A#${uid()}`));
    this.B = tf.tidy(() => tf.variable(tf.tensor2d(bk.data, [r, outFeatures]), true, `${name}.lora_B#${uid()}`));
  }

  /** (α/r)·dropout(x)·A·B, [N, out]. */
  apply(x: tf.Tensor2D, ctx: ForwardContext): tf.Tensor2D {
    if (this.inFeatures === 0 || this.outFeatures === 0) return tf.zeros([x.shape[0], this.outFeatures]);
    const xd = ctx.training && this.dropout > 0 ? this.dropped(x, ctx.seed) : x;
    return tf.matMul(tf.mul(tf.matMul(xd, this.A), this.scale) as tf.Tensor2D, this.B);
  }

  /** Inverted dropout with the mask every backend draws for this module and seed (lora/dropout.ts). */
  private dropped(x: tf.Tensor2D, seed: number): tf.Tensor2D {
    const mask = tf.tensor2d(dropoutScaleMask(seed, this.name, x.size, this.dropout), x.shape);
    return tf.mul(x, mask);
  }

  params(): tf.Variable[] {
    return [this.A, this.B];
  }

  /** PEFT layout: A [r, in], B [out, r]. */
  toPeft(): LoraModuleWeights {
    const a = { shape: [this.inFeatures, this.r], data: new Float32Array(this.A.dataSync()) };
    const b = { shape: [this.r, this.outFeatures], data: new Float32Array(this.B.dataSync()) };
    return { A: transpose2d(a), B: transpose2d(b) };
  }

  dispose(): void {
    this.A.dispose();
    this.B.dispose();
  }
}

/** A base linear (dense, pruned, NF4, …) plus a LoRA delta. Disposing it disposes both. */
export class LoraLinear implements Linear {
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(
    readonly base: Linear,
    readonly lora: LoraFactors,
  ) {
    if (lora.inFeatures !== base.inFeatures || lora.outFeatures !== base.outFeatures) {
      throw new Error(`LoRA ${lora.name} is [${lora.outFeatures}, ${lora.inFeatures}] but its base layer is [${base.outFeatures}, ${base.inFeatures}]`);
    }
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
  }

  apply(x: tf.Tensor2D, ctx: ForwardContext): tf.Tensor2D {
    return tf.add(this.base.apply(x, ctx), this.lora.apply(x, ctx));
  }

  /** Only the adapter trains; the base stays frozen whatever its own flag says. */
  trainable(): tf.Variable[] {
    return this.lora.params();
  }

  baseWeightHf(): HostTensor {
    return this.base.baseWeightHf();
  }

  biasHf(): HostTensor | null {
    return this.base.biasHf();
  }

  dispose(): void {
    this.lora.dispose();
    this.base.dispose();
  }
}
