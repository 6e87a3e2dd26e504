/**
 * Linear layers of the decoder. Weights live in "kernel" layout [in, out] so the forward pass is a plain
 * x·W matMul (the only matMul tfjs-wasm runs fast); files use HF layout [out, in] and are transposed on load.
 * A Linear is a small interface so LoRA and quantized bases can wrap or replace the dense one.
 */
import { tf } from '../backend/tf';
import type { HostTensor } from '../util/tensor';
import { transpose2d } from '../util/tensor';

export interface Linear {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** x: [N, in] → [N, out]. `training` enables dropout in adapters. */
  apply(x: tf.Tensor2D, ctx: ForwardContext): tf.Tensor2D;
  /** Variables that an optimiser may train (the base's, unless frozen). */
  trainable(): tf.Variable[];
  /** The base weight in HF layout [out, in], dense (dequantized if needed). */
  baseWeightHf(): HostTensor;
  /** The bias [out] if the layer has one (q/k/v/o with attention_bias). */
  biasHf(): HostTensor | null;
  dispose(): void;
}

export interface ForwardContext {
  training: boolean;
  /** Seed of this forward pass; a LoRA module draws its dropout mask from it and its own key (lora/dropout.ts). */
  seed: number;
}

export class DenseLinear implements Linear {
  readonly kernel: tf.Variable; // [in, out]
  readonly bias: tf.Variable | null; // [out]
  readonly inFeatures: number;
  readonly outFeatures: number;
  trainableFlag: boolean;

  constructor(weightHf: HostTensor, biasHf: HostTensor | null, name: string, trainable: boolean) {
    const [out, inn] = weightHf.shape as [number, number];
    this.inFeatures = inn;
    this.outFeatures = out;
    const k = transpose2d(weightHf);
    this.kernel = tf.tidy(() => tf.variable(tf.tensor2d(k.data, [inn, out]), trainable, `${name}.weight#${uid()}`));
    this.bias = biasHf ? tf.tidy(() => tf.variable(tf.tensor1d(biasHf.data), trainable, `${name}.bias#${uid()}`)) : null;
    this.trainableFlag = trainable;
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    if (this.inFeatures === 0 || this.outFeatures === 0) return tf.zeros([x.shape[0], this.outFeatures]);
    const y = tf.matMul(x, this.kernel) as tf.Tensor2D;
    return this.bias ? (tf.add(y, this.bias) as tf.Tensor2D) : y;
  }

  trainable(): tf.Variable[] {
    return this.trainableFlag ? (this.bias ? [this.kernel, this.bias] : [this.kernel]) : [];
  }

  baseWeightHf(): HostTensor {
    const k = { shape: [this.inFeatures, this.outFeatures], data: this.kernel.dataSync() as Float32Array };
    return transpose2d(k);
  }

  biasHf(): HostTensor | null {
    return this.bias ? { shape: [this.outFeatures], data: new Float32Array(this.bias.dataSync()) } : null;
  }

  dispose(): void {
    this.kernel.dispose();
    this.bias?.dispose();
  }
}

let counter = 0;
/** tfjs variable names must be unique per process; several models may be alive at once. */
export function uid(): number {
  return ++counter;
}
