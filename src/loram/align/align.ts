/**
 * Alignment L_A (loram-method.md §3): continual pre-training of the pruned model on a general corpus so it
 * knows what the original knew. Full-rank (no LoRA), every parameter trains except lm_head, which the LoRAM
 * script freezes; with tied embeddings lm_head IS the embedding, so the embedding stays frozen too.
 * Optimiser and schedule follow the script: AdamW, lr 5e-5, cosine, warmup 100 steps, no weight decay, seed 42,
 * eval every 10 steps. The paper's 800 steps × 128 sequences are scaled down: default 200 steps, warmup
 * min(100, ⌈steps/8⌉) (the paper's 100 of 800), gradient accumulation 1 (the caller sizes its batches).
 */
import { tf } from '../backend/tf';
import { LINEAR_MODULES, linearName } from '../model/config';
import type { LlamaModel } from '../model/llama';
import { lmLoss } from '../model/loss';
import type { LmBatch } from '../model/loss';
import { train } from '../train/trainer';
import type { ResumeOptions, StepInfo, TrainResult } from '../train/trainer';
import { lmMicroLoss, lmTrainConfig } from '../train/lm-objective';
import type { BatchSource, OptimiserSettings } from '../train/lm-objective';

export interface AlignOptions extends OptimiserSettings, ResumeOptions {
  /** Token batches of the general corpus. */
  batches: BatchSource;
  steps?: number;
  /** Held-out batches evaluated every `evalEvery` steps (and after the last step). */
  evalBatches?: readonly LmBatch[];
  evalEvery?: number;
  onStep?: (info: StepInfo & { evalLoss?: number }) => void | Promise<void>;
  signal?: AbortSignal;
}

export const ALIGN_DEFAULTS = { steps: 200, lr: 5e-5, schedule: 'cosine', gradAccum: 1, maxGradNorm: 1.0, weightDecay: 0, seed: 42, evalEvery: 10 } as const;

export interface AlignResult extends TrainResult {
  evalLosses: { step: number; loss: number }[];
  /** Number of parameters trained. */
  trainedParams: number;
}

/** The parameters alignment trains: all of the model's trainable variables except lm_head (and a tied embedding). */
export function alignParams(model: LlamaModel): tf.Variable[] {
  model.layers.forEach((layer, i) => {
    for (const m of LINEAR_MODULES) {
      const lin = layer.linears[m];
      if (lin.inFeatures > 0 && lin.outFeatures > 0 && lin.trainable().length === 0) {
        throw new Error(`${linearName(i, m)} is frozen or quantized: alignment trains the full-precision pruned model (load it with trainable weights, and quantize after aligning)`);
      }
      if ('lora' in lin) throw new Error(`${linearName(i, m)} has a LoRA adapter: alignment is full-parameter training of the base; detach LoRA first`);
    }
  });
  const frozen = new Set<tf.Variable>();
  if (model.lmHead) frozen.add(model.lmHead);
  else frozen.add(model.embed);
  const params = model.variables().filter((v) => !frozen.has(v));
  if (params.length === 0) throw new Error('the model has no trainable parameters (build it with trainable: true)');
  return params;
}

/** Mean token loss over batches (no dropout, no gradients). */
export function meanLoss(model: LlamaModel, batches: readonly LmBatch[]): number {
  let sum = 0;
  let n = 0;
  for (const b of batches) {
    tf.tidy(() => {
      const { loss, count } = lmLoss(model, b);
      sum += loss.dataSync()[0]! * count;
      n += count;
    });
  }
  return n ? sum / n : NaN;
}

export async function alignModel(model: LlamaModel, opts: AlignOptions): Promise<AlignResult> {
  const params = alignParams(model);
  const steps = opts.steps ?? ALIGN_DEFAULTS.steps;
  const evalEvery = opts.evalEvery ?? ALIGN_DEFAULTS.evalEvery;
  const evalLosses: { step: number; loss: number }[] = [];
  const config = lmTrainConfig(steps, opts, ALIGN_DEFAULTS);
  const r = await train({
    params,
    config,
    microLoss: lmMicroLoss(model, opts.batches, config.gradAccum, opts.gradientCheckpointing),
    onStep: async (info) => {
      let evalLoss: number | undefined;
      if (opts.evalBatches?.length && evalEvery > 0 && (info.step % evalEvery === 0 || info.step === info.totalSteps)) {
        evalLoss = meanLoss(model, opts.evalBatches);
        evalLosses.push({ step: info.step, loss: evalLoss });
      }
      await opts.onStep?.({ ...info, evalLoss });
    },
    signal: opts.signal,
    resume: opts.resume,
    checkpoint: opts.checkpoint,
  });
  return { ...r, evalLosses, trainedParams: params.reduce((n, v) => n + v.size, 0) };
}
