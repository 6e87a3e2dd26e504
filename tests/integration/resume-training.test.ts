/**
 * A crash during LoRA-Train loses no more than the steps since the last checkpoint: a real `loram run` process
 * (and its workers) is SIGKILLed after a checkpoint, the history calls that run "interrupted", and the re-run
 * resumes from the checkpoint (its log says from which step) and publishes an adapter byte-for-byte equal to an
 * uninterrupted run's. Then the checkpoint is gone.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunStore } from '../../src/engine/runs';

const BIN = fileURLToPath(new URL('../../bin/loram.mjs', import.meta.url));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'loram-resume-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const recipe = {
  format: 'loram-recipe',
  version: 2,
  name: 'resume after a crash',
  nodes: [
    { id: 'load', type: 'Load', version: 1, params: { source: 'builtin:large' } },
    { id: 'data', type: 'Dataset', version: 1, params: { source: 'sotu', maxDocuments: 20, seed: 0, valFraction: 0.1, testFraction: 0.1 } },
    { id: 'train', type: 'LoRA-Train', version: 1, params: { rank: 4, alpha: 8, batchSize: 4, seqLen: 64, steps: 120, lr: 0.002, seed: 0, dropout: 0.05, gradAccum: 2 } },
  ],
  edges: [
    { id: 'e1', from: { node: 'load', port: 'model' }, to: { node: 'train', port: 'model' } },
    { id: 'e2', from: { node: 'data', port: 'dataset' }, to: { node: 'train', port: 'dataset' } },
  ],
};
const recipeFile = path.join(tmp, 'resume.json');
writeFileSync(recipeFile, JSON.stringify(recipe));

/** `loram run` in its own process group; `killOn` SIGKILLs the whole group at the first line matching it. */
function run(home: string, killOn?: RegExp): Promise<{ code: number | null; signal: string | null; out: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, LORAM_HOME: home, LORAM_CHECKPOINT_STEPS: '10', LORAM_THREADS: '1' };
    const child = spawn(process.execPath, [BIN, 'run', recipeFile], { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    const take = (d: Buffer) => {
      out += d.toString();
      if (killOn?.test(out)) {
        killOn = undefined;
        process.kill(-child.pid!, 'SIGKILL'); // the CLI and every worker it started: a crash, not a shutdown
      }
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    child.on('exit', (code, signal) => resolve({ code, signal, out }));
  });
}

function adapterBytes(home: string): Buffer {
  const store = path.join(home, 'artifacts');
  const hits = readdirSync(store).map((d) => path.join(store, d, 'adapter', 'adapter_model.safetensors')).filter((f) => existsSync(f));
  expect(hits).toHaveLength(1);
  return readFileSync(hits[0]!);
}

test('SIGKILL after a checkpoint: the re-run resumes from it and ends with the uninterrupted adapter, byte for byte', async () => {
  const straightHome = path.join(tmp, 'straight');
  const straight = await run(straightHome);
  expect(straight.code).toBe(0);

  const home = path.join(tmp, 'crashed');
  const killed = await run(home, /checkpoint saved at step 20\b/);
  expect(killed.signal).toBe('SIGKILL');
  const [summary] = await new RunStore(home).list();
  expect(summary?.status).toBe('interrupted');

  const resumed = await run(home);
  expect(resumed.code).toBe(0);
  const from = Number(/resuming from the checkpoint at step (\d+) of 120/.exec(resumed.out)?.[1]);
  expect(from).toBeGreaterThanOrEqual(20);
  expect(from).toBeLessThan(120);
  expect(adapterBytes(home).equals(adapterBytes(straightHome))).toBe(true);
  expect(readdirSync(path.join(home, 'cache', 'checkpoints'))).toEqual([]);
}, 180_000);
