/** The token batch every backend trains on: seeded random ids, next-token labels, the last position ignored. */
import { Rng } from '../../src/loram/util/rng';
import type { LmBatch } from '../../src/loram/model/loss';
import type { TrainShape } from './types';

/** As in HF and src/loram/model/loss.ts (not imported from there: that would load tfjs into an ORT measurement). */
const IGNORE_INDEX = -100;

export function benchBatch(shape: TrainShape, seed: number): LmBatch {
  const rng = new Rng(seed);
  const n = shape.batch * shape.seq;
  const inputIds = Int32Array.from({ length: n }, () => rng.int(shape.vocab));
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = (i + 1) % shape.seq === 0 ? IGNORE_INDEX : inputIds[i + 1]!;
  return { inputIds, labels, batch: shape.batch, seqLen: shape.seq };
}
