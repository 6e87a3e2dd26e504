/**
 * One row of bench/loram-memory in this (fresh) process: a preset's shape on random weights, pruned and quantized
 * as the row says, LoRA-trained for a few steps on ONNX Runtime (OrtLoraRun: the session LoRA-Train uses, host
 * AdamW); prints one JSON object (ChildRow) as its last stdout line.
 *
 * Measured by memory/measure-steps.ts (the same routine LoRA-Train's memory probe runs): VmHWM during the steps −
 * the warm idle baseline; this script re-runs itself with MEASURE_ENV and --expose-gc, as that routine needs.
 *
 *   node --import tsx bench/loram-memory/child.ts --shape smollm2-135m --variant stru --ratio 0.85 [--quant nf4]
 *        [--checkpointing] [--batch 1] [--seq 256] [--rank 8] [--steps 2] [--threads 2]
 *        [--arena]            ORT's CPU arena on (training sessions run without it)
 *        [--profile PREFIX]   ORT's profile of the run, for replay-profile.ts
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { MEASURE_ENV } from '../../src/loram/memory/probe';

const { isMeasuringProcess, measureTrainingSteps } = await import('../../src/loram/memory/measure-steps');
if (!isMeasuringProcess()) {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, ...MEASURE_ENV } });
  process.exit(r.status ?? 1);
}

const { benchRowConfig, BENCH_MEMORY_LORA, parseRowArgs } = await import('./rows');
import type { ChildRow } from './rows';

const { values } = parseArgs({ args: process.argv.slice(2), options: { shape: { type: 'string' }, variant: { type: 'string' }, ratio: { type: 'string' }, quant: { type: 'string' }, checkpointing: { type: 'boolean' }, batch: { type: 'string' }, seq: { type: 'string' }, rank: { type: 'string' }, steps: { type: 'string' }, threads: { type: 'string' }, arena: { type: 'boolean' }, profile: { type: 'string' } } });
const row = parseRowArgs(values);
const m = await measureTrainingSteps({
  config: benchRowConfig(row),
  nf4: row.quant === 'nf4' ? { blockSize: 64, doubleQuant: true } : null,
  lora: { ...BENCH_MEMORY_LORA, r: row.rank },
  batch: row.batch,
  seqLen: row.seq,
  checkpoint: row.checkpointing,
  gradAccum: 1,
  steps: row.steps,
  threads: row.threads,
  ...(values.arena ? { cpuArena: true } : {}),
  ...(values.profile ? { profilePrefix: values.profile } : {}),
});
const out: ChildRow = { ...row, ...m };
process.stdout.write(JSON.stringify(out) + '\n');
