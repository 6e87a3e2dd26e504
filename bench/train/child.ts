/**
 * One measurement in this (fresh) process, so its peak RSS is the measurement's alone; prints the Row as JSON.
 *   node --import tsx bench/train/child.ts --shape tiny --backend tfjs --threads 1 [--steps 5] [--warmup 2]
 * Spawned by spawn.ts for `loram bench train` and bench/train/run.ts.
 */
import { parseTrainArgs } from './args';
import { trainBackend } from './backends';
import { SHAPES } from './types';

const a = parseTrainArgs(process.argv.slice(2));
const row = await trainBackend(a.backend).measure(SHAPES[a.shape], a.threads, { steps: a.steps, warmup: a.warmup, seed: 1 });
process.stdout.write(JSON.stringify(row) + '\n');
