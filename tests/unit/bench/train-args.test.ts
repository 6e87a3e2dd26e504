import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseTrainArgs, TrainArgsError } from '../../../bench/train/args';
import { TRAIN_BACKENDS } from '../../../bench/train/backends';
import { medianAfter, SHAPE_NAMES, TRAIN_BACKEND_NAMES } from '../../../bench/train/types';
import { cmdBench } from '../../../src/cli/bench';
import type { Io } from '../../../src/cli/main';

function errorOf(argv: string[]): string {
  try {
    parseTrainArgs(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(TrainArgsError);
    return (e as Error).message;
  }
  throw new Error(`parseTrainArgs accepted ${argv.join(' ')}`);
}

function capture(): { io: Io; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { io: { out: { write: (s) => void (out += s) }, err: { write: (s) => void (err += s) }, isTTY: false }, out: () => out, err: () => err };
}

describe('loram bench train arguments', () => {
  test('a full command line', () => {
    expect(parseTrainArgs(['--shape', 'smollm2-135m', '--backend', 'ort', '--threads', '2', '--steps', '7', '--warmup', '0', '--json'])).toEqual({
      shape: 'smollm2-135m',
      backend: 'ort',
      threads: 2,
      steps: 7,
      warmup: 0,
      json: true,
    });
  });

  test('defaults: 5 measured steps after 2 warm-ups, one thread per core, text output', () => {
    const a = parseTrainArgs(['--shape', 'tiny', '--backend', 'tfjs']);
    expect(a).toMatchObject({ steps: 5, warmup: 2, json: false });
    expect(a.threads).toBeGreaterThanOrEqual(1);
  });

  test('a bad shape names the flag and the allowed values', () => {
    const msg = errorOf(['--shape', 'huge', '--backend', 'tfjs']);
    expect(msg).toContain('--shape');
    for (const s of SHAPE_NAMES) expect(msg).toContain(s);
    expect(msg).toContain('"huge"');
  });

  test('a bad or missing backend, shape or count is an error naming its flag', () => {
    expect(errorOf(['--shape', 'tiny', '--backend', 'torch'])).toMatch(/--backend must be one of ort, tfjs \(got "torch"\)/);
    expect(errorOf(['--backend', 'tfjs'])).toMatch(/--shape is required \(one of tiny, smollm2-135m\)/);
    expect(errorOf(['--shape', 'tiny'])).toMatch(/--backend is required/);
    expect(errorOf(['--shape', 'tiny', '--backend', 'tfjs', '--threads', '0'])).toMatch(/--threads must be an integer ≥ 1 \(got "0"\)/);
    expect(errorOf(['--shape', 'tiny', '--backend', 'tfjs', '--threads', '1.5'])).toMatch(/--threads/);
    expect(errorOf(['--shape', 'tiny', '--backend', 'tfjs', '--steps', 'x'])).toMatch(/--steps/);
    expect(errorOf(['--shape', 'tiny', '--backend', 'tfjs', '--warmup', '-1'])).toMatch(/--warmup/);
    expect(errorOf(['--shape', 'tiny', '--backend', 'tfjs', '--bogus'])).toMatch(/bogus/);
    expect(errorOf(['--shape', 'tiny', '--backend', 'tfjs', 'extra'])).toMatch(/unexpected argument "extra"/);
  });

  test('the registry lists known backend names, tfjs among them', () => {
    const names = TRAIN_BACKENDS.map((b) => b.name);
    expect(names).toContain('tfjs');
    for (const n of names) expect(TRAIN_BACKEND_NAMES).toContain(n);
    expect(new Set(names).size).toBe(names.length);
  });

  test('medians skip the warm-up', () => {
    expect(medianAfter([100, 90, 3, 1, 2], 2)).toBe(2);
    expect(medianAfter([100, 4, 1, 3, 2], 1)).toBe(2.5);
    expect(() => medianAfter([1, 2], 2)).toThrow(/no measured values/);
  });
});

describe('loram bench (the command)', () => {
  test('usage errors exit 2 with the message on stderr, before anything is measured', async () => {
    const c = capture();
    expect(await cmdBench(['train', '--shape', 'huge', '--backend', 'tfjs'], c.io)).toBe(2);
    expect(c.err()).toMatch(/^loram bench train: --shape must be one of tiny, smollm2-135m \(got "huge"\)/);
    expect(c.out()).toBe('');
    const d = capture();
    expect(await cmdBench(['frobnicate'], d.io)).toBe(2);
    expect(d.err()).toMatch(/unknown benchmark "frobnicate" \(available: train, memory\)/);
    const h = capture();
    expect(await cmdBench(['train', '--help'], h.io)).toBe(0);
    expect(h.out()).toMatch(/--shape tiny\|smollm2-135m --backend ort\|tfjs/);
  });

  test('bin/loram.mjs routes `bench` to it', () => {
    const bin = fileURLToPath(new URL('../../../bin/loram.mjs', import.meta.url));
    const r = spawnSync(process.execPath, [bin, 'bench', 'train', '--shape', 'huge', '--backend', 'tfjs', '--json'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--shape must be one of tiny, smollm2-135m');
    expect(r.stdout).toBe('');
  });
});
