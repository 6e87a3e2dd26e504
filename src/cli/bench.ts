/**
 * `loram bench train --shape tiny|smollm2-135m --backend ort|tfjs [--threads N] [--steps N] [--warmup N] [--json]`:
 * one training-speed measurement (bench/train), run in a fresh child process so its peak memory is its own.
 * The bench code is imported only when the command runs.
 */
import type { Io } from './main';
import type * as ArgsModule from '../../bench/train/args';
import type * as BackendsModule from '../../bench/train/backends';
import type * as SpawnModule from '../../bench/train/spawn';
import type { Row } from '../../bench/train/types';

/**
 * A bench/ module, loaded through tsx: bench/ is TypeScript the compiled CLI (lib/, which mirrors src/) does not
 * carry, and the path is built at run time so the CLI's compiler does not follow it.
 */
async function benchModule<T>(name: string): Promise<T> {
  // Running from the sources, TypeScript already loads (tsx, or a test runner's transform).
  if (import.meta.url.endsWith('.js')) (await import('tsx/esm/api')).register();
  return (await import(new URL(`../../bench/train/${name}.ts`, import.meta.url).href)) as T;
}

const USAGE = 'usage: loram bench train --shape tiny|smollm2-135m --backend ort|tfjs [--threads N] [--steps N] [--warmup N] [--json]\n';

export async function cmdBench(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.out.write(USAGE);
    return 0;
  }
  if (sub !== 'train') {
    io.err.write(`loram bench: ${sub ? `unknown benchmark "${sub}"` : 'which benchmark?'} (available: train)\n${USAGE}`);
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
