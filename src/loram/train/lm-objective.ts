/**
 * The causal-LM objective on the shared trainer, as LoRA fine-tuning and alignment both use it: where the token
 * batches come from, the trainer config from optional settings plus a caller's defaults, and the micro-batch loss.
 */
import { lmLoss } from '../model/loss';
import type { LmBatch } from '../model/loss';
import type { LlamaModel } from '../model/llama';
import type { ScheduleKind } from './schedule';
import type { MicroBatchLoss, TrainConfig } from './trainer';

/** Either a list (cycled in order: micro-batch k of the run is batches[k mod n]) or a function of (step, micro). */
export type BatchSource = readonly LmBatch[] | ((step: number, micro: number) => LmBatch);

export function batchAt(src: BatchSource, step: number, micro: number, gradAccum: number): LmBatch {
  if (typeof src === 'function') return src(step, micro);
  if (src.length === 0) throw new Error('no training batches');
  return src[(step * gradAccum + micro) % src.length]!;
}

/** Warmup when none is given: min(100, ⌈steps/8⌉) (the paper's 100 of ~400–800 steps). */
export function defaultWarmup(steps: number): number {
  return Math.min(100, Math.ceil(steps / 8));
}

export interface OptimiserSettings {
  lr?: number;
  warmupSteps?: number;
  schedule?: ScheduleKind;
  gradAccum?: number;
  maxGradNorm?: number;
  weightDecay?: number;
  seed?: number;
  /** Recompute each decoder layer in the backward pass instead of keeping its activations (less memory). */
  gradientCheckpointing?: boolean;
}

export interface OptimiserDefaults {
  lr: number;
  schedule: ScheduleKind;
  gradAccum: number;
  maxGradNorm: number;
  weightDecay: number;
  seed: number;
}

export function lmTrainConfig(steps: number, o: OptimiserSettings, d: OptimiserDefaults): TrainConfig {
  return {
    steps,
    lr: o.lr ?? d.lr,
    warmupSteps: o.warmupSteps ?? defaultWarmup(steps),
    schedule: o.schedule ?? d.schedule,
    maxGradNorm: o.maxGradNorm ?? d.maxGradNorm,
    gradAccum: o.gradAccum ?? d.gradAccum,
    adamw: { weightDecay: o.weightDecay ?? d.weightDecay },
    seed: o.seed ?? d.seed,
  };
}

/** Next-token loss of micro-batch `micro` of step `step`, with dropout seeded by the trainer. */
export function lmMicroLoss(model: LlamaModel, batches: BatchSource, gradAccum: number, checkpoint = false): (step: number, micro: number, seed: number) => MicroBatchLoss {
  return (step, micro, seed) => {
    const b = batchAt(batches, step, micro, gradAccum);
    const { loss, count } = lmLoss(model, b, { training: true, seed, checkpoint });
    return { loss, count, positions: b.batch * b.seqLen };
  };
}
