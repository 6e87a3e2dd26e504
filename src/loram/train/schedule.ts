/** Learning-rate schedules (HF semantics: linear warmup from 0, then cosine or constant). */
export type ScheduleKind = 'cosine' | 'constant' | 'linear';

export interface ScheduleConfig {
  kind: ScheduleKind;
  peakLr: number;
  warmupSteps: number;
  totalSteps: number;
  /** Final lr as a fraction of the peak for cosine/linear (HF uses 0). */
  minLrRatio?: number;
}

/** lr at optimiser step `step` (0-based). */
export function lrAt(c: ScheduleConfig, step: number): number {
  if (c.warmupSteps > 0 && step < c.warmupSteps) return (c.peakLr * (step + 1)) / c.warmupSteps;
  if (c.kind === 'constant') return c.peakLr;
  const decaySteps = Math.max(1, c.totalSteps - c.warmupSteps);
  const progress = Math.min(1, (step - c.warmupSteps) / decaySteps);
  const floor = c.peakLr * (c.minLrRatio ?? 0);
  const shape = c.kind === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
  return floor + (c.peakLr - floor) * shape;
}
