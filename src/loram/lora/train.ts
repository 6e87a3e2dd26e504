/**
 * LoRA supervised fine-tuning (loram-method.md §4) on top of the shared trainer: only the adapter's A and B
 * are optimised (AdamW, warmup + cosine, clipping, accumulation); the base model is never written.
 */
import type { LlamaModel } from '../model/llama';
import { lmMicroLoss, lmTrainConfig } from '../train/lm-objective';
import type { BatchSource, OptimiserSettings } from '../train/lm-objective';
import { train } from '../train/trainer';
import type { ResumeOptions, StepInfo, TrainResult } from '../train/trainer';
import type { LoraHandle } from './attach';

export interface FinetuneOptions extends OptimiserSettings, ResumeOptions {
  batches: BatchSource;
  steps: number;
  onStep?: (info: StepInfo) => void | Promise<void>;
  signal?: AbortSignal;
}

/**
 * Defaults: lr 1e-4 (the LoRAM script's 1e-5 is noted as low in §12.3; 1e-4 is the usual LoRA rate), warmup
 * min(100, ⌈steps/8⌉) (the paper's 100 of ~400–800 steps), cosine to 0, clip 1.0 (HF Trainer), no decay, seed 42.
 */
export const LORA_TRAIN_DEFAULTS = { lr: 1e-4, schedule: 'cosine', gradAccum: 1, maxGradNorm: 1.0, weightDecay: 0, seed: 42 } as const;

export async function trainLora(model: LlamaModel, lora: LoraHandle, opts: FinetuneOptions): Promise<TrainResult> {
  if (lora.model !== model) throw new Error('the LoRA handle belongs to a different model');
  const params = lora.params();
  const config = lmTrainConfig(opts.steps, opts, LORA_TRAIN_DEFAULTS);
  return train({
    params,
    config,
    microLoss: lmMicroLoss(model, opts.batches, config.gradAccum, opts.gradientCheckpointing),
    onStep: opts.onStep,
    signal: opts.signal,
    resume: opts.resume,
    checkpoint: opts.checkpoint,
  });
}
