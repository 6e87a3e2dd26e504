/**
 * Calibration data checks and activation capture shared by Taylor importance, SparseGPT and Wanda.
 */
import { tf } from '../backend/tf';
import type { ForwardContext, Linear } from '../model/linear';
import type { LmBatch } from '../model/loss';
import { IGNORE_INDEX } from '../model/loss';
import type { HostTensor } from '../util/tensor';

export interface CalibrationNeeds {
  /** Who needs it, for the error message (e.g. "Taylor importance"). */
  what: string;
  /** Minimum number of real (unpadded) input tokens over all batches. Default 1. */
  minTokens?: number;
  /** Minimum number of counted labels (for a loss). Default 0. */
  minLabels?: number;
  vocabSize: number;
  maxPositions: number;
}

/** Throws a clear error when calibration data is missing, malformed or shorter than needed. */
export function checkCalibration(batches: readonly LmBatch[] | undefined, need: CalibrationNeeds): { tokens: number; labels: number } {
  if (!batches || batches.length === 0) throw new Error(`${need.what} needs calibration batches, but none were given`);
  let tokens = 0;
  let labels = 0;
  batches.forEach((b, k) => {
    const n = b.batch * b.seqLen;
    if (!(b.batch > 0 && b.seqLen > 0) || b.inputIds.length !== n) {
      throw new Error(`${need.what}: calibration batch ${k} has ${b.inputIds.length} ids for batch ${b.batch} × seqLen ${b.seqLen}`);
    }
    if (b.seqLen > need.maxPositions) throw new Error(`${need.what}: calibration batch ${k} has sequence length ${b.seqLen} > max_position_embeddings ${need.maxPositions}`);
    if (b.labels.length !== n) throw new Error(`${need.what}: calibration batch ${k} has ${b.labels.length} labels for ${n} positions`);
    if (b.attentionMask && b.attentionMask.length !== n) throw new Error(`${need.what}: calibration batch ${k} attention mask has ${b.attentionMask.length} entries for ${n} positions`);
    for (let i = 0; i < n; i++) {
      const id = b.inputIds[i]!;
      if (id < 0 || id >= need.vocabSize) throw new Error(`${need.what}: calibration batch ${k} token id ${id} is outside the vocabulary (size ${need.vocabSize})`);
      if (!b.attentionMask || b.attentionMask[i]) tokens++;
      if (b.labels[i] !== IGNORE_INDEX) labels++;
    }
  });
  const minTokens = need.minTokens ?? 1;
  if (tokens < minTokens) throw new Error(`${need.what}: calibration data has ${tokens} tokens, fewer than the ${minTokens} needed`);
  if (labels < (need.minLabels ?? 0)) throw new Error(`${need.what}: calibration data has ${labels} counted labels, fewer than the ${need.minLabels} needed`);
  return { tokens, labels };
}

/** Thrown by a capture to end a forward pass early, once everything needed was seen. */
export class StopForward extends Error {
  constructor() {
    super('stop forward');
  }
}

/**
 * Wraps a linear and hands every input x [N, in] to `onInput` (synchronously, inside the forward) before
 * running the wrapped layer. `after` may throw StopForward to cut the forward short.
 */
export class CaptureLinear implements Linear {
  readonly inFeatures: number;
  readonly outFeatures: number;
  constructor(
    readonly inner: Linear,
    private readonly onInput: (x: tf.Tensor2D) => void,
    private readonly after?: () => void,
  ) {
    this.inFeatures = inner.inFeatures;
    this.outFeatures = inner.outFeatures;
  }
  apply(x: tf.Tensor2D, ctx: ForwardContext): tf.Tensor2D {
    this.onInput(x);
    const y = this.inner.apply(x, ctx);
    this.after?.();
    return y;
  }
  trainable(): tf.Variable[] {
    return this.inner.trainable();
  }
  baseWeightHf(): HostTensor {
    return this.inner.baseWeightHf();
  }
  biasHf(): HostTensor | null {
    return this.inner.biasHf();
  }
  dispose(): void {
    this.inner.dispose();
  }
}

/** Accumulates XᵀX (full, for SparseGPT) or Σ x² per column (for Wanda) of masked rows, in float64. */
export class InputStats {
  readonly xtx: Float64Array | null;
  readonly colSq: Float64Array;
  rows = 0;
  /** Row weights (1 real token / 0 padding) of the batch currently running, [N, 1]; null = all rows count. */
  rowMask: tf.Tensor2D | null = null;
  rowCount = 0;

  constructor(readonly features: number, full: boolean) {
    this.xtx = full ? new Float64Array(features * features) : null;
    this.colSq = new Float64Array(features);
  }

  add(x: tf.Tensor2D): void {
    const n = this.features;
    tf.tidy(() => {
      const xm = this.rowMask ? tf.mul(x, this.rowMask) : x;
      if (this.xtx) {
        // Explicit transpose keeps the product on the fast untransposed matMul path.
        const g = tf.matMul(tf.transpose(xm), xm).dataSync();
        for (let i = 0; i < n * n; i++) this.xtx[i]! += g[i]!;
        for (let i = 0; i < n; i++) this.colSq[i]! += g[i * n + i]!;
      } else {
        const s = tf.sum(tf.square(xm), 0).dataSync();
        for (let i = 0; i < n; i++) this.colSq[i]! += s[i]!;
      }
    });
    this.rows += this.rowCount;
  }

  /** SparseGPT's H = 2·XᵀX / N. */
  hessian(): Float64Array {
    if (!this.xtx) throw new Error('InputStats: full statistics were not collected');
    const h = new Float64Array(this.xtx.length);
    const s = 2 / Math.max(1, this.rows);
    for (let i = 0; i < h.length; i++) h[i] = this.xtx[i]! * s;
    return h;
  }
}
