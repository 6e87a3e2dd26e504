/**
 * A frozen NF4 base linear for QLoRAM (loram-method.md §7): the weight stays packed (4-bit codes + double-
 * quantized absmax) and is dequantized on the fly inside each forward, one layer at a time. A custom gradient
 * re-dequantizes in the backward pass instead of keeping the dense weight alive between the two passes; the
 * base is frozen, so only dx = dy·W is computed (W in HF layout [out, in] is exactly the untransposed right
 * operand, the fast matMul path).
 * `quantizeModel` swaps every decoder linear for one of these; embeddings and lm_head stay full precision, as
 * transformers' bitsandbytes integration does.
 */
import { tf } from '../backend/tf';
import { LINEAR_MODULES, linearName } from '../model/config';
import type { LinearModule } from '../model/config';
import type { ForwardContext, Linear } from '../model/linear';
import type { LlamaModel } from '../model/llama';
import type { HostTensor } from '../util/tensor';
import { dequantizeNf4, dequantizeNf4Rows, nf4StorageBytes, quantizeNf4 } from './nf4';
import type { Nf4Options, Nf4Quantized } from './nf4';

/** Rows dequantized per slice when building the transposed kernel (bounds the temporary host buffer). */
const ROW_CHUNK = 256;

export class Nf4Linear implements Linear {
  readonly inFeatures: number;
  readonly outFeatures: number;
  private readonly bias: tf.Tensor1D | null;
  private readonly biasHost: HostTensor | null;

  constructor(
    readonly q: Nf4Quantized,
    bias: HostTensor | null = null,
  ) {
    if (q.shape.length !== 2) throw new Error(`Nf4Linear needs a 2-D [out, in] weight, got [${q.shape.join(', ')}]`);
    const [out, inn] = q.shape as [number, number];
    this.outFeatures = out;
    this.inFeatures = inn;
    if (bias && (bias.shape.length !== 1 || bias.shape[0] !== out)) throw new Error(`Nf4Linear bias is [${bias.shape.join(', ')}], expected [${out}]`);
    this.biasHost = bias ? { shape: [out], data: new Float32Array(bias.data) } : null;
    this.bias = bias ? tf.keep(tf.tensor1d(bias.data)) : null;
  }

  static fromDense(weightHf: HostTensor, bias: HostTensor | null = null, opts: Nf4Options = {}): Nf4Linear {
    return new Nf4Linear(quantizeNf4(weightHf, opts), bias);
  }

  /** Dequantized kernel [in, out] (row slices decoded and scattered transposed). */
  private kernelHost(): Float32Array {
    const out = this.outFeatures;
    const inn = this.inFeatures;
    const k = new Float32Array(inn * out);
    for (let r0 = 0; r0 < out; r0 += ROW_CHUNK) {
      const r1 = Math.min(out, r0 + ROW_CHUNK);
      const rows = dequantizeNf4Rows(this.q, r0, r1).data;
      for (let r = r0; r < r1; r++) {
        const src = (r - r0) * inn;
        for (let j = 0; j < inn; j++) k[j * out + r] = rows[src + j]!;
      }
    }
    return k;
  }

  apply(x: tf.Tensor2D, _ctx?: ForwardContext): tf.Tensor2D {
    const out = this.outFeatures;
    const inn = this.inFeatures;
    if (inn === 0 || out === 0) return tf.zeros([x.shape[0], out]);
    const f = tf.customGrad(((xx: tf.Tensor2D) => {
      // The dense kernel lives only inside this op (customGrad's forward runs in a tidy).
      const w = tf.tensor2d(this.kernelHost(), [inn, out]);
      const value = tf.matMul(xx, w);
      return {
        value,
        gradFunc: (dy: tf.Tensor2D) => {
          const wHf = tf.tensor2d(dequantizeNf4(this.q).data, [out, inn]);
          return tf.matMul(dy, wHf);
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    const y = f(x) as tf.Tensor2D;
    return this.bias ? (tf.add(y, this.bias) as tf.Tensor2D) : y;
  }

  trainable(): tf.Variable[] {
    return [];
  }

  baseWeightHf(): HostTensor {
    return dequantizeNf4(this.q);
  }

  biasHf(): HostTensor | null {
    return this.biasHost ? { shape: [...this.biasHost.shape], data: new Float32Array(this.biasHost.data) } : null;
  }

  /** Bytes of the packed weight (codes + quantization state), bias excluded. */
  storageBytes(): number {
    return nf4StorageBytes(this.q);
  }

  dispose(): void {
    this.bias?.dispose();
  }
}

export interface QuantizeModelOptions extends Nf4Options {
  /** Default all 7 decoder linears. */
  modules?: readonly LinearModule[];
  /** Default every layer. */
  layers?: readonly number[];
}

export interface QuantizeModelSummary {
  /** Number of linears replaced. */
  linears: number;
  /** Weights quantized. */
  params: number;
  /** Stored bytes of the quantized weights. */
  bytes: number;
}

/**
 * Replace decoder linears of `model` in place with Nf4Linear (quantizing their current dense weight). Must run
 * before LoRA is attached. Embeddings, norms and lm_head are untouched.
 */
export function quantizeModel(model: LlamaModel, opts: QuantizeModelOptions = {}): QuantizeModelSummary {
  const mods = opts.modules ?? LINEAR_MODULES;
  const layers = opts.layers ?? model.layers.map((_, i) => i);
  const summary: QuantizeModelSummary = { linears: 0, params: 0, bytes: 0 };
  for (const i of layers) {
    const layer = model.layers[i];
    if (!layer) throw new Error(`quantizeModel: layer ${i} does not exist (model has ${model.layers.length})`);
    for (const m of mods) {
      const lin = layer.linears[m];
      if (lin instanceof Nf4Linear) continue;
      const wrapped = 'lora' in lin && 'base' in lin ? (lin as unknown as { base: Linear }).base : null;
      if (wrapped instanceof Nf4Linear) continue;
      if (wrapped) throw new Error(`${linearName(i, m)} has a LoRA adapter; quantize the base before attaching LoRA`);
      const q = new Nf4Linear(quantizeNf4(lin.baseWeightHf(), opts), lin.biasHf());
      model.setLinear(i, m, q).dispose();
      summary.linears++;
      summary.params += q.inFeatures * q.outFeatures;
      summary.bytes += q.storageBytes();
    }
  }
  return summary;
}
