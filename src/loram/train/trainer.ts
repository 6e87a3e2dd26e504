/**
 * The training loop shared by pretraining, alignment and LoRA: AdamW, warmup + cosine schedule, global-norm
 * gradient clipping, gradient accumulation over micro-batches (token-weighted), a progress callback after every
 * optimiser step that is also the cancellation point, and no tensor leaks.
 */
import { CancelledError } from '../../shared/cancelled';
import { tf } from '../backend/tf';
import { AdamW, DEFAULT_ADAMW } from './adamw';
import type { AdamWConfig } from './adamw';
import { lrAt } from './schedule';
import type { ScheduleKind } from './schedule';

export interface TrainConfig {
  steps: number;
  lr: number;
  warmupSteps: number;
  schedule: ScheduleKind;
  minLrRatio?: number;
  maxGradNorm: number;
  gradAccum: number;
  adamw?: Partial<AdamWConfig>;
  seed: number;
}

export interface StepInfo {
  step: number; // 1-based optimiser step just completed
  totalSteps: number;
  loss: number; // token-weighted mean over the step's micro-batches
  lr: number;
  gradNorm: number; // before clipping
  tokens: number; // counted tokens this step
  tokensPerSec: number; // processed (input) tokens per second, this step
  elapsedMs: number;
}

export interface MicroBatchLoss {
  /** Mean token loss of the micro-batch (scalar). */
  loss: tf.Scalar;
  /** Number of counted tokens (labels not ignored). */
  count: number;
  /** Number of input positions processed (for throughput). */
  positions: number;
}

export interface TrainOptions {
  params: tf.Variable[];
  config: TrainConfig;
  /** Loss of micro-batch `micro` of optimiser step `step` (0-based); `seed` is for dropout. */
  microLoss: (step: number, micro: number, seed: number) => MicroBatchLoss;
  /** Called after each step; throw (or abort the signal) to cancel. */
  onStep?: (info: StepInfo) => void | Promise<void>;
  signal?: AbortSignal;
  decays?: (v: tf.Variable, index: number) => boolean;
}

export interface TrainResult {
  steps: number;
  losses: number[];
  lrs: number[];
  finalLoss: number;
  tokens: number;
  elapsedMs: number;
  tokensPerSec: number;
}

// One class for the library and the nodes (src/shared/cancelled.ts); re-exported here for the trainer's users.
export { CancelledError };

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const { params, config: c } = opts;
  if (params.length === 0) throw new Error('nothing to train: no trainable parameters');
  if (!(c.steps > 0)) throw new Error(`steps must be positive, got ${c.steps}`);
  if (!(c.gradAccum >= 1)) throw new Error(`gradAccum must be at least 1, got ${c.gradAccum}`);
  const opt = new AdamW(params, { ...DEFAULT_ADAMW, ...c.adamw }, opts.decays);
  const losses: number[] = [];
  const lrs: number[] = [];
  let tokensTotal = 0;
  let positionsTotal = 0;
  const start = performance.now();
  try {
    for (let step = 0; step < c.steps; step++) {
      if (opts.signal?.aborted) throw new CancelledError();
      const t0 = performance.now();
      let acc: tf.Tensor[] | null = null;
      let lossSum = 0;
      let count = 0;
      let positions = 0;
      for (let micro = 0; micro < c.gradAccum; micro++) {
        let n = 0;
        let pos = 0;
        const seed = (c.seed * 1000003 + step * 131 + micro) >>> 0;
        const { value, grads } = tf.variableGrads(() => {
          const r = opts.microLoss(step, micro, seed);
          n = r.count;
          pos = r.positions;
          // Scale by the token count so accumulated gradients are the token-weighted mean.
          return tf.mul(r.loss, n) as tf.Scalar;
        }, params);
        lossSum += value.dataSync()[0]!;
        value.dispose();
        count += n;
        positions += pos;
        const g = params.map((p) => grads[p.name] ?? tf.zerosLike(p)); // a parameter off the loss path gets 0
        if (acc === null) acc = g;
        else {
          const prev: tf.Tensor[] = acc;
          acc = prev.map((a, i) => tf.add(a, g[i]!));
          tf.dispose([...prev, ...g]);
        }
      }
      const denom = Math.max(1, count);
      const lr = lrAt({ kind: c.schedule, peakLr: c.lr, warmupSteps: c.warmupSteps, totalSteps: c.steps, minLrRatio: c.minLrRatio }, step);
      const summed = acc!;
      const { clipped, norm } = tf.tidy(() => {
        const mean = summed.map((g) => tf.div(g, denom));
        const sq = tf.addN(mean.map((g) => tf.sum(tf.square(g))));
        const norm = Math.sqrt(sq.dataSync()[0]!);
        const factor = c.maxGradNorm > 0 && norm > c.maxGradNorm ? c.maxGradNorm / (norm + 1e-6) : 1;
        return { clipped: mean.map((g) => (factor === 1 ? g : tf.mul(g, factor))), norm };
      });
      tf.dispose(summed);
      if (!Number.isFinite(norm)) {
        tf.dispose(clipped);
        throw new Error(`training diverged at step ${step + 1}: gradient norm is ${norm} (loss ${lossSum / denom}); lower the learning rate`);
      }
      opt.step(clipped, lr);
      tf.dispose(clipped);
      const loss = lossSum / denom;
      losses.push(loss);
      lrs.push(lr);
      tokensTotal += count;
      positionsTotal += positions;
      const dt = performance.now() - t0;
      await opts.onStep?.({
        step: step + 1,
        totalSteps: c.steps,
        loss,
        lr,
        gradNorm: norm,
        tokens: count,
        tokensPerSec: (positions / dt) * 1000,
        elapsedMs: performance.now() - start,
      });
    }
  } finally {
    opt.dispose();
  }
  const elapsedMs = performance.now() - start;
  return {
    steps: losses.length,
    losses,
    lrs,
    finalLoss: losses[losses.length - 1] ?? NaN,
    tokens: tokensTotal,
    elapsedMs,
    tokensPerSec: (positionsTotal / elapsedMs) * 1000,
  };
}
