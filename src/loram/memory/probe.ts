/**
 * A training step's memory, measured in a fresh process (memory/measure-steps.ts): the only place where a peak as the
 * OS sees it belongs to one run alone. The engine's compute workers are threads of one long-lived process that
 * also runs other nodes (at the same time, with a pool) and keeps what they freed, so its resident size says little
 * about one training run. The probe replays the run's own training graph — same shapes, storage, LoRA setting,
 * batch, checkpointing, accumulation and threads — for a few steps on random weights.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { StepMeasurement, StepsToMeasure } from './measure-steps';

/** The environment a measuring process starts with (glibc: freed blocks of 64 KiB and more go back to the OS). */
export const MEASURE_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '65536' };

/**
 * Compiled (lib/, bin/build-cli.mjs) the entry is plain JavaScript; from source it runs under `--import tsx`, as
 * bench/loram-memory's rows do (resolved from the checkout's root), so the two measure in the same kind of process.
 */
const COMPILED = import.meta.url.endsWith('.js');
const ENTRY = fileURLToPath(new URL(COMPILED ? './probe-child.js' : './probe-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** LORAM_MEMORY_PROBE=off skips the probe (the measured figure is then absent). */
export function probeEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.LORAM_MEMORY_PROBE?.trim().toLowerCase();
  if (!v || v === 'on') return true;
  if (v === 'off') return false;
  throw new Error(`LORAM_MEMORY_PROBE must be "on" or "off", got "${env.LORAM_MEMORY_PROBE}"`);
}

export async function measureInFreshProcess(spec: StepsToMeasure, signal?: AbortSignal): Promise<StepMeasurement> {
  signal?.throwIfAborted();
  // Under Electron (the engine's utility process) the executable is Electron's: run it as plain Node.
  const env = { ...process.env, ...MEASURE_ENV, OMP_NUM_THREADS: String(spec.threads), ...(process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {}) };
  const args = ['--expose-gc', ...(COMPILED ? [] : ['--import', 'tsx']), ENTRY];
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'], ...(signal ? { signal } : {}) });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
  child.stdin.end(JSON.stringify(spec));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  signal?.throwIfAborted();
  const last = out.trim().split('\n').pop();
  if (code !== 0 || !last) throw new Error(`the memory probe exited with code ${code}: ${err.trim().split('\n').slice(-3).join(' | ') || 'no output'}`);
  return JSON.parse(last) as StepMeasurement;
}
