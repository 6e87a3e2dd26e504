/**
 * LoRA supervised fine-tuning (loram-method.md §4) on top of the shared trainer: only the adapter's A and B
 * are optimised (AdamW, warmup + cosine, clipping, accumulation); the base model is never written.
 */
import { lmLoss } from '../model/loss';
import type { LmBatch } from '../model/loss';
import type { LlamaModel } from '../model/llama';
import { train } from '../train/trainer';
import type { StepInfo, TrainResult } from '../train/trainer';
import type { LoraHandle } from './attach';

/** Either a list (cycled in order: micro-batch k of the run is batches[k mod n]) or a function of (step, micro). */
export type BatchSource = readonly LmBatch[] | ((step: number, micro: number) => LmBatch);

export function batchAt(src: BatchSource, step: number, micro: number, gradAccum: number): LmBatch {
  if (typeof src === 'function') return src(step, micro);
  if (src.length === 0) throw new Error('no training batches');
  return src[(step * gradAccum + micro) % src.length]!;
}

export interface FinetuneOptions {
  batches: BatchSource;
  steps: number;
  lr?: number;
  warmupSteps?: number;
  schedule?: 'cosine' | 'constant' | 'linear';
  gradAccum?: number;
  maxGradNorm?: number;
  weightDecay?: number;
  seed?: number;
  onStep?: (info: StepInfo) => void | Promise<void>;
  signal?: AbortSignal;
}

/**
 * Defaults: lr 1e-4 (the LoRAM script's 1e-5 is noted as low in §12.3; 1e-4 is the usual LoRA rate), warmup
 * min(100, ⌈steps/8⌉) (the paper's 100 of ~400–800 steps), cosine to 0, clip 1.0 (HF Trainer), no decay, seed 42.
 */
export const LORA_TRAIN_DEFAULTS = { lr: 1e-4, schedule: 'cosine', gradAccum: 1, maxGradNorm: 1.0, weightDecay: 0, seed: 42 } as const;

export function defaultWarmup(steps: number): number {
  return Math.min(100, Math.ceil(steps / 8));
}

export async function trainLora(model: LlamaModel, lora: LoraHandle, opts: FinetuneOptions): Promise<TrainResult> {
  if (lora.model !== model) throw new Error('the LoRA handle belongs to a different model');
  const params = lora.params();
  const gradAccum = opts.gradAccum ?? LORA_TRAIN_DEFAULTS.gradAccum;
  return train({
    params,
    config: {
      steps: opts.steps,
      lr: opts.lr ?? LORA_TRAIN_DEFAULTS.lr,
      warmupSteps: opts.warmupSteps ?? defaultWarmup(opts.steps),
      schedule: opts.schedule ?? LORA_TRAIN_DEFAULTS.schedule,
      maxGradNorm: opts.maxGradNorm ?? LORA_TRAIN_DEFAULTS.maxGradNorm,
      gradAccum,
      adamw: { weightDecay: opts.weightDecay ?? LORA_TRAIN_DEFAULTS.weightDecay },
      seed: opts.seed ?? LORA_TRAIN_DEFAULTS.seed,
    },
    microLoss: (step, micro, seed) => {
      const b = batchAt(opts.batches, step, micro, gradAccum);
      const { loss, count } = lmLoss(model, b, { training: true, seed });
      return { loss, count, positions: b.batch * b.seqLen };
    },
    onStep: opts.onStep,
    signal: opts.signal,
  });
}
