/** Small shared fixtures for the prune / lora / recover / align tests. */
import { tf } from '../../src/loram/backend/tf';
import { makeConfig } from '../../src/loram/model/config';
import type { LlamaConfig } from '../../src/loram/model/config';
import type { LlamaModel } from '../../src/loram/model/llama';
import type { LmBatch } from '../../src/loram/model/loss';
import { Rng } from '../../src/loram/util/rng';

/** 4 layers (default pruned range [1, 3)), GQA 8 query / 4 KV heads of dim 4, MLP 48. */
export const tinyConfig = (o: Partial<Parameters<typeof makeConfig>[0]> = {}): LlamaConfig =>
  makeConfig({ vocabSize: 41, hiddenSize: 32, numLayers: 4, numHeads: 8, numKvHeads: 4, intermediateSize: 48, ...o });

export function randomBatch(cfg: LlamaConfig, B: number, T: number, seed: number): LmBatch {
  const rng = new Rng(seed);
  const inputIds = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocabSize));
  const labels = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocabSize));
  return { inputIds, labels, batch: B, seqLen: T };
}

/** A learnable toy language: token t+1 = (a·t + b) mod V with a little noise, per sequence. */
export function patternBatch(cfg: LlamaConfig, B: number, T: number, seed: number, a = 3, b = 7): LmBatch {
  const rng = new Rng(seed);
  const V = cfg.vocabSize;
  const seq = new Int32Array(B * (T + 1));
  for (let s = 0; s < B; s++) {
    let t = rng.int(V);
    for (let i = 0; i <= T; i++) {
      seq[s * (T + 1) + i] = t;
      t = rng.next() < 0.05 ? rng.int(V) : (a * t + b) % V;
    }
  }
  const inputIds = new Int32Array(B * T);
  const labels = new Int32Array(B * T);
  for (let s = 0; s < B; s++) {
    inputIds.set(seq.subarray(s * (T + 1), s * (T + 1) + T), s * T);
    labels.set(seq.subarray(s * (T + 1) + 1, (s + 1) * (T + 1)), s * T);
  }
  return { inputIds, labels, batch: B, seqLen: T };
}

export function logitsOf(model: LlamaModel, b: LmBatch): Float32Array {
  return tf.tidy(() => model.forward(tf.tensor2d(b.inputIds, [b.batch, b.seqLen], 'int32')).dataSync() as Float32Array).slice();
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}
