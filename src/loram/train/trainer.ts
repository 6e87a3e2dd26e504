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
import { checkResumable, type CheckpointPolicy, type LoopState, type OptimizerState, type TrainState } from './train-state';
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

export interface TrainOptions extends ResumeOptions {
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

/**
 * What the loop needs from a backend: accumulate the gradient of the summed token loss of one micro-batch, the
 * global norm of the accumulated gradient over a token count, and an optimiser update with the accumulated
 * gradient times a factor (1/tokens, times the clipping factor) that also clears the accumulator.
 */
export interface StepBackend {
  accumulate(step: number, micro: number, seed: number): Promise<{ lossSum: number; count: number; positions: number }>;
  gradNorm(denom: number): number;
  update(lr: number, gradScale: number): void;
  /** Copies of the trainable tensors and the optimizer's moments and step (for a checkpoint). */
  saveState(): OptimizerState;
  /** Put a checkpoint's tensors and moments back (sizes checked by the caller against `sizes`). */
  loadState(s: OptimizerState): void;
  /** Values in each trainable tensor, in state order. */
  readonly sizes: number[];
  dispose(): void;
}

/** Resume from a saved state, and/or save one now and then (train-state.ts). */
export interface ResumeOptions {
  resume?: TrainState | null;
  checkpoint?: CheckpointPolicy;
}

/** Seed of micro-batch `micro` of step `step` (dropout masks are drawn from it). */
export function microSeed(seed: number, step: number, micro: number): number {
  return (seed * 1000003 + step * 131 + micro) >>> 0;
}

function checkConfig(c: TrainConfig, nParams: number): void {
  if (nParams === 0) throw new Error('nothing to train: no trainable parameters');
  if (!(c.steps > 0)) throw new Error(`steps must be positive, got ${c.steps}`);
  if (!(c.gradAccum >= 1)) throw new Error(`gradAccum must be at least 1, got ${c.gradAccum}`);
}

/** The loop itself, for any backend: accumulation, schedule, clipping, divergence check, progress, cancel, resume. */
export async function runTraining(backend: StepBackend, c: TrainConfig, opts: Pick<TrainOptions, 'onStep' | 'signal'> & ResumeOptions): Promise<TrainResult> {
  const loop: LoopState = opts.resume ? structuredClone(opts.resume.loop) : { step: 0, losses: [], lrs: [], tokens: 0, positions: 0 };
  if (opts.resume) {
    checkResumable(opts.resume, backend.sizes, c.steps);
    backend.loadState(opts.resume.optimizer);
  }
  const saver = checkpointer(backend, loop, opts.checkpoint);
  const start = performance.now();
  for (let step = loop.step; step < c.steps; step++) {
    if (opts.signal?.aborted) throw new CancelledError();
    const t0 = performance.now();
    const r = await optimiserStep(backend, c, step);
    loop.step = step + 1;
    loop.losses.push(r.loss);
    loop.lrs.push(r.lr);
    loop.tokens += r.count;
    loop.positions += r.positions;
    await saver.maybeSave(step + 1 === c.steps);
    const dt = performance.now() - t0;
    await opts.onStep?.({ step: step + 1, totalSteps: c.steps, loss: r.loss, lr: r.lr, gradNorm: r.norm, tokens: r.count, tokensPerSec: (r.positions / dt) * 1000, elapsedMs: performance.now() - start });
  }
  const elapsedMs = performance.now() - start;
  const { losses, lrs } = loop;
  return { steps: losses.length, losses, lrs, finalLoss: losses[losses.length - 1] ?? NaN, tokens: loop.tokens, elapsedMs, tokensPerSec: (loop.positions / elapsedMs) * 1000 };
}

/** One optimiser step: its micro-batches, the clipped update, and what the loop records of it. */
async function optimiserStep(backend: StepBackend, c: TrainConfig, step: number) {
  let lossSum = 0;
  let count = 0;
  let positions = 0;
  for (let micro = 0; micro < c.gradAccum; micro++) {
    const r = await backend.accumulate(step, micro, microSeed(c.seed, step, micro));
    lossSum += r.lossSum;
    count += r.count;
    positions += r.positions;
  }
  const denom = Math.max(1, count);
  const lr = lrAt({ kind: c.schedule, peakLr: c.lr, warmupSteps: c.warmupSteps, totalSteps: c.steps, minLrRatio: c.minLrRatio }, step);
  const norm = backend.gradNorm(denom);
  if (!Number.isFinite(norm)) throw new Error(`training diverged at step ${step + 1}: gradient norm is ${norm} (loss ${lossSum / denom}); lower the learning rate`);
  const factor = c.maxGradNorm > 0 && norm > c.maxGradNorm ? c.maxGradNorm / (norm + 1e-6) : 1;
  backend.update(lr, factor / denom);
  return { loss: lossSum / denom, lr, norm, count, positions };
}

/** Saves the state every N steps and/or M milliseconds (not after the last step: the result is published then). */
function checkpointer(backend: StepBackend, loop: LoopState, policy: CheckpointPolicy | undefined) {
  let last = performance.now();
  return {
    async maybeSave(finished: boolean): Promise<void> {
      if (!policy || finished) return;
      const bySteps = policy.everySteps > 0 && loop.step % policy.everySteps === 0;
      const byTime = policy.everyMs > 0 && performance.now() - last >= policy.everyMs;
      if (!bySteps && !byTime) return;
      await policy.save({ loop: structuredClone(loop), optimizer: backend.saveState() });
      last = performance.now();
    },
  };
}

/** tfjs: gradients by autodiff of `microLoss`, accumulated and updated as tensors. */
class TfjsStepBackend implements StepBackend {
  private acc: tf.Tensor[] | null = null;
  private readonly opt: AdamW;

  constructor(private readonly opts: TrainOptions) {
    this.opt = new AdamW(opts.params, { ...DEFAULT_ADAMW, ...opts.config.adamw }, opts.decays);
  }

  async accumulate(step: number, micro: number, seed: number) {
    const { params } = this.opts;
    let count = 0;
    let positions = 0;
    const { value, grads } = tf.variableGrads(() => {
      const r = this.opts.microLoss(step, micro, seed);
      count = r.count;
      positions = r.positions;
      // Scale by the token count so accumulated gradients are the token-weighted sum.
      return tf.mul(r.loss, count) as tf.Scalar;
    }, params);
    const lossSum = value.dataSync()[0]!;
    value.dispose();
    const g = params.map((p) => grads[p.name] ?? tf.zerosLike(p)); // a parameter off the loss path gets 0
    if (this.acc === null) this.acc = g;
    else {
      const prev: tf.Tensor[] = this.acc;
      this.acc = prev.map((a, i) => tf.add(a, g[i]!));
      tf.dispose([...prev, ...g]);
    }
    return { lossSum, count, positions };
  }

  gradNorm(denom: number): number {
    const acc = this.acc!;
    return tf.tidy(() => Math.sqrt(tf.addN(acc.map((g) => tf.sum(tf.square(tf.div(g, denom))))).dataSync()[0]!));
  }

  update(lr: number, gradScale: number): void {
    const acc = this.acc!;
    this.acc = null;
    const scaled = tf.tidy(() => acc.map((g) => tf.mul(g, gradScale)));
    tf.dispose(acc);
    this.opt.step(scaled, lr);
    tf.dispose(scaled);
  }

  get sizes(): number[] {
    return this.opts.params.map((p) => p.size);
  }

  saveState(): OptimizerState {
    return this.opt.saveState();
  }

  loadState(s: OptimizerState): void {
    this.opt.loadState(s);
  }

  dispose(): void {
    if (this.acc) tf.dispose(this.acc);
    this.opt.dispose();
  }
}

export async function train(opts: TrainOptions): Promise<TrainResult> {
  checkConfig(opts.config, opts.params.length);
  const backend = new TfjsStepBackend(opts);
  try {
    return await runTraining(backend, opts.config, opts);
  } finally {
    backend.dispose();
  }
}
