/**
 * Training checkpoints for LoRA-Train and Align: the full training state saved every LORAM_CHECKPOINT_STEPS steps
 * (default 500) or LORAM_CHECKPOINT_MINUTES minutes (default 10), under the node's cache signature in the shared
 * cache folder. A node whose signature is unchanged — re-run after a crash, a kill or a cancel — resumes from its
 * last checkpoint and ends with the same weights as an uninterrupted run; the checkpoint is deleted once the node
 * has finished. Not an artifact: the artifact store only ever holds finished results.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { NodeContext } from './definition';
import type { CheckpointPolicy, TrainState } from '../loram/train/train-state';

export interface NodeCheckpoints {
  /** The state to resume from, or null to start at step 0. */
  resume: TrainState | null;
  policy: CheckpointPolicy;
  /** Forget the checkpoint (the node finished). */
  finished(): Promise<void>;
}

export function checkpointSettings(env: NodeJS.ProcessEnv = process.env): { everySteps: number; everyMs: number } {
  const read = (name: string, dflt: number) => {
    const raw = env[name]?.trim();
    if (!raw) return dflt;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a number ≥ 0 (0 turns that trigger off), got "${raw}"`);
    return v;
  };
  return { everySteps: Math.floor(read('LORAM_CHECKPOINT_STEPS', 500)), everyMs: read('LORAM_CHECKPOINT_MINUTES', 10) * 60_000 };
}

export async function nodeCheckpoints(ctx: NodeContext, totalSteps: number): Promise<NodeCheckpoints> {
  const { loadTrainState, saveTrainState } = await import('../loram/train/train-state');
  const dir = path.join(ctx.cacheDir, 'checkpoints', ctx.signature);
  const resume = await loadTrainState(dir, ctx.signature);
  if (resume) ctx.log(`resuming from the checkpoint at step ${resume.loop.step} of ${totalSteps} (the steps before it are not trained again)`);
  return {
    resume,
    policy: {
      ...checkpointSettings(),
      save: async (s) => {
        await saveTrainState(dir, ctx.signature, s);
        ctx.log(`checkpoint saved at step ${s.loop.step}`);
      },
    },
    finished: () => fsp.rm(dir, { recursive: true, force: true }),
  };
}

/** A data sampler moved past the draws of the steps a resumed run skips, so step k sees step k's batches. */
export function skipDraws(sampler: { next(n: number): unknown }, resume: TrainState | null, gradAccum: number, batchSize: number): void {
  for (let i = 0; i < (resume?.loop.step ?? 0) * gradAccum; i++) sampler.next(batchSize);
}

/** The loss curve of the steps before a resume, from the saved history. */
export function curveBefore(resume: TrainState | null): { x: number[]; y: number[] } {
  const losses = resume?.loop.losses ?? [];
  return { x: losses.map((_, i) => i + 1), y: [...losses] };
}
