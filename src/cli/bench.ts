/**
 * `loram bench train --shape tiny|smollm2-135m --backend ort|tfjs [--threads N] [--steps N] [--warmup N] [--json]`:
 * one training-speed measurement (bench/train), run in a fresh child process so its peak memory is its own.
 * `loram bench memory --shape PRESET [--batch N] [--seq N] [--steps N] [--threads N] [--only KEYS] [--json] [--write]`:
 * bench/loram-memory — the peak resident memory of training steps for each LoRA / LoRAM / QLoRAM row (a fresh
 * child process each) next to the ORT planner's prediction.
 * The bench code is imported only when the command runs.
 */
import type { Io } from './main';
import type * as ArgsModule from '../../bench/train/args';
import type * as BackendsModule from '../../bench/train/backends';
import type * as SpawnModule from '../../bench/train/spawn';
import type { Row } from '../../bench/train/types';
import type * as MemoryModule from '../../bench/loram-memory/run';

/**
 * A bench/ module, loaded through tsx: bench/ is TypeScript the compiled CLI (lib/, which mirrors src/) does not
 * carry, and the path is built at run time so the CLI's compiler does not follow it.
 */
async function benchModule<T>(name: string, dir = 'train'): Promise<T> {
  // Running from the sources, TypeScript already loads (tsx, or a test runner's transform).
  if (import.meta.url.endsWith('.js')) (await import('tsx/esm/api')).register();
  return (await import(new URL(`../../bench/${dir}/${name}.ts`, import.meta.url).href)) as T;
}

const MEMORY_USAGE =
  'usage: loram bench memory --shape PRESET [--batch N] [--seq N] [--steps N] [--threads N] [--only KEY,…] [--json] [--write]\n' +
  '  rows (KEY): lora, rand-0.5, stru-0.5, rand-0.65, stru-0.65, rand-0.85, stru-0.85, qloram-stru-0.85, each with and\n' +
  '  without checkpointing (KEY+ckpt for one of the two); --write also stores the run in bench/results/loram-memory.json\n';
const USAGE = 'usage: loram bench train --shape tiny|smollm2-135m --backend ort|tfjs [--threads N] [--steps N] [--warmup N] [--json]\n' + MEMORY_USAGE;

export async function cmdBench(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.out.write(USAGE);
    return 0;
  }
  if (sub === 'memory') return cmdBenchMemory(rest, io);
  if (sub !== 'train') {
    io.err.write(`loram bench: ${sub ? `unknown benchmark "${sub}"` : 'which benchmark?'} (available: train, memory)\n${USAGE}`);
    return 2;
  }
  const args = await benchModule<typeof ArgsModule>('args');
  let a: ReturnType<typeof args.parseTrainArgs>;
  try {
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out.write(args.TRAIN_USAGE);
      return 0;
    }
    a = args.parseTrainArgs(rest);
  } catch (e) {
    if (!(e instanceof args.TrainArgsError)) throw e;
    io.err.write(`loram bench train: ${e.message}\n${args.TRAIN_USAGE}`);
    return 2;
  }
  const { trainBackend } = await benchModule<typeof BackendsModule>('backends');
  const { measureInChild } = await benchModule<typeof SpawnModule>('spawn');
  try {
    trainBackend(a.backend); // fail here, not in the child, when the backend has no benchmark
    const row = await measureInChild(a);
    if (a.json) io.out.write(JSON.stringify(row) + '\n');
    else io.out.write(formatRow(row));
    return 0;
  } catch (e) {
    io.err.write(`loram bench train: ${(e as Error).message}\n`);
    return 1;
  }
}

function formatRow(r: Row): string {
  const ms = (v: number | null) => (v === null ? 'failed (see the note)' : `${v.toFixed(1)} ms`);
  return [
    `${r.shape} on ${r.backend} (${r.provider}), ${r.threads} thread(s), ${r.tokens} tokens per step`,
    `  LoRA step   ${ms(r.loraStepMs)}`,
    `  full step   ${ms(r.fullStepMs)}`,
    `  forward     ${ms(r.forwardMs)}`,
    `  peak RSS    ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
    ...(r.notes ?? []).map((n) => `  note: ${n}`),
    '',
  ].join('\n');
}

async function cmdBenchMemory(argv: string[], io: Io): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out.write(MEMORY_USAGE);
    return 0;
  }
  const { parseArgs } = await import('node:util');
  const { isPresetName, PRESET_NAMES } = await import('../loram/memory/presets');
  let a: { shape: string; batch?: number; seq?: number; steps?: number; threads?: number; only?: string[]; json: boolean; write: boolean };
  try {
    const { values } = parseArgs({
      args: argv,
      options: { shape: { type: 'string' }, batch: { type: 'string' }, seq: { type: 'string' }, steps: { type: 'string' }, threads: { type: 'string' }, only: { type: 'string' }, json: { type: 'boolean' }, write: { type: 'boolean' } },
    });
    const int = (k: 'batch' | 'seq' | 'steps' | 'threads') => {
      const v = values[k];
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--${k} must be a positive integer, got "${v}"`);
      return n;
    };
    if (!values.shape) throw new Error('--shape is required');
    if (!isPresetName(values.shape)) throw new Error(`unknown shape "${values.shape}" (presets: ${PRESET_NAMES.join(', ')})`);
    a = { shape: values.shape, batch: int('batch'), seq: int('seq'), steps: int('steps'), threads: int('threads'), only: values.only?.split(',').filter(Boolean), json: !!values.json, write: !!values.write };
  } catch (e) {
    io.err.write(`loram bench memory: ${(e as Error).message}\n${MEMORY_USAGE}`);
    return 2;
  }
  const mem = await benchModule<typeof MemoryModule>('run', 'loram-memory');
  const known = mem.rowKeys();
  const unknown = (a.only ?? []).filter((k) => !known.includes(k));
  if (unknown.length) {
    io.err.write(`loram bench memory: unknown row ${unknown.map((k) => `"${k}"`).join(', ')} (rows: ${known.join(', ')})\n`);
    return 2;
  }
  try {
    if (!a.json) io.out.write(`${a.shape}\n${mem.tableHeader()}`);
    const b = await mem.runMemoryBench(a.shape as MemoryModule.MemoryBench['shape'], { ...a, onRow: a.json ? undefined : (r) => io.out.write(mem.tableLine(r)) });
    if (a.write) mem.writeMemoryResults(b);
    if (a.json) io.out.write(JSON.stringify(b) + '\n');
    else io.out.write(`${b.engine}\n${b.command}\n`);
    return 0;
  } catch (e) {
    io.err.write(`loram bench memory: ${(e as Error).message}\n`);
    return 1;
  }
}
