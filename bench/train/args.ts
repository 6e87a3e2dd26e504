/**
 * Arguments of `loram bench train` (and of the per-measurement child process):
 *   --shape tiny|smollm2-135m --backend ort|tfjs [--threads N] [--steps N] [--warmup N] [--json]
 * Every error names the flag and what it accepts.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_MEASURE, SHAPE_NAMES, TRAIN_BACKEND_NAMES } from './types';
import type { ShapeName, TrainBackendName } from './types';

export class TrainArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainArgsError';
  }
}

export interface TrainArgs {
  shape: ShapeName;
  backend: TrainBackendName;
  threads: number;
  steps: number;
  warmup: number;
  json: boolean;
}

export const TRAIN_USAGE = `usage: loram bench train --shape ${SHAPE_NAMES.join('|')} --backend ${TRAIN_BACKEND_NAMES.join('|')} [--threads N] [--steps N] [--warmup N] [--json]
  one training-speed measurement in a fresh process: LoRA step, full-weight step and forward (medians over
  --steps, default ${DEFAULT_MEASURE.steps}, after --warmup, default ${DEFAULT_MEASURE.warmup}), and the peak resident memory;
  --threads defaults to the number of cores. The whole table: npx tsx bench/train/run.ts
`;

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T {
  if (value === undefined) throw new TrainArgsError(`${flag} is required (one of ${allowed.join(', ')})`);
  if (!(allowed as readonly string[]).includes(value)) throw new TrainArgsError(`${flag} must be one of ${allowed.join(', ')} (got "${value}")`);
  return value as T;
}

function integer(flag: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) throw new TrainArgsError(`${flag} must be an integer ≥ ${min} (got "${value}")`);
  return n;
}

export function parseTrainArgs(argv: readonly string[]): TrainArgs {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: { shape: { type: 'string' }, backend: { type: 'string' }, threads: { type: 'string' }, steps: { type: 'string' }, warmup: { type: 'string' }, json: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    }));
  } catch (e) {
    throw new TrainArgsError((e as Error).message);
  }
  if (positionals.length) throw new TrainArgsError(`unexpected argument "${positionals[0]}"`);
  const str = (k: string) => values[k] as string | undefined;
  return {
    shape: oneOf('--shape', str('shape'), SHAPE_NAMES),
    backend: oneOf('--backend', str('backend'), TRAIN_BACKEND_NAMES),
    threads: integer('--threads', str('threads'), Math.max(1, os.availableParallelism?.() ?? os.cpus().length), 1),
    steps: integer('--steps', str('steps'), DEFAULT_MEASURE.steps, 1),
    warmup: integer('--warmup', str('warmup'), DEFAULT_MEASURE.warmup, 0),
    json: !!values.json,
  };
}

/** The child process's command line for the same measurement (no --json: the child always prints JSON). */
export function childArgv(a: Omit<TrainArgs, 'json'>): string[] {
  return ['--shape', a.shape, '--backend', a.backend, '--threads', String(a.threads), '--steps', String(a.steps), '--warmup', String(a.warmup)];
}
