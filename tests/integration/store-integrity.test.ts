/**
 * The store never lies (issue 15), through real `loram` processes on the built-in model and a real store:
 * - each kind of artifact (model folder, adapter, dataset splits, metrics) truncated: the next run finds it by
 *   its sizes on the cache hit, moves it to LORAM_HOME/damaged/, recomputes it, and the results are identical;
 * - one byte flipped (same size): found by the hash check when a node reads it (a run whose evaluation changed)
 *   or by `loram cache verify`; --repair moves it aside; recomputed identically;
 * - two `loram run` started together on one LORAM_HOME compute every node exactly once;
 * - `loram cache gc --max-gib` brings the store under the cap, the kept runs re-run fully cached; the cap
 *   LORAM_CACHE_MAX_GIB is enforced after a run, which keeps its own artifacts.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { artifactsOfRun, listStore } from '../../src/engine/cache';
import { RunStore } from '../../src/engine/runs';
import { resolveModelSource } from '../../src/nodes/sources';

const BIN = fileURLToPath(new URL('../../bin/loram.mjs', import.meta.url));
const haveModels = existsSync(path.join(resolveModelSource('builtin:large', '.'), 'config.json'));
const d = haveModels ? describe : describe.skip;

const tmp = mkdtempSync(path.join(os.tmpdir(), 'loram-store-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Params = { trainSeed?: number; evalTokens?: number };
function recipeFile(name: string, p: Params = {}): string {
  const recipe = {
    format: 'loram-recipe',
    version: 2,
    name: 'store integrity',
    nodes: [
      { id: 'load', type: 'Load', version: 1, params: { source: 'builtin:large' } },
      { id: 'data', type: 'Dataset', version: 1, params: { source: 'sotu', maxDocuments: 20, seed: 0, valFraction: 0.1, testFraction: 0.1 } },
      { id: 'prune', type: 'Prune', version: 1, params: { strategy: 'stru', ratio: 0.5, seed: 0, calibrationSamples: 4, calibrationTokens: 32 } },
      { id: 'train', type: 'LoRA-Train', version: 1, params: { rank: 4, alpha: 8, batchSize: 2, seqLen: 32, steps: 4, lr: 0.002, seed: p.trainSeed ?? 0 } },
      { id: 'eval', type: 'Evaluate', version: 1, params: { maxTokens: p.evalTokens ?? 2000, seqLen: 64, split: 'test' } },
    ],
    edges: [
      { id: 'e1', from: { node: 'load', port: 'model' }, to: { node: 'prune', port: 'model' } },
      { id: 'e2', from: { node: 'data', port: 'dataset' }, to: { node: 'prune', port: 'calibration' } },
      { id: 'e3', from: { node: 'prune', port: 'model' }, to: { node: 'train', port: 'model' } },
      { id: 'e4', from: { node: 'data', port: 'dataset' }, to: { node: 'train', port: 'dataset' } },
      { id: 'e5', from: { node: 'prune', port: 'model' }, to: { node: 'eval', port: 'model' } },
      { id: 'e6', from: { node: 'train', port: 'adapter' }, to: { node: 'eval', port: 'adapter' } },
      { id: 'e7', from: { node: 'data', port: 'dataset' }, to: { node: 'eval', port: 'dataset' } },
    ],
  };
  const f = path.join(tmp, `${name}.json`);
  writeFileSync(f, JSON.stringify(recipe));
  return f;
}

function loram(home: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: tmp, env: { ...process.env, LORAM_HOME: home, LORAM_THREADS: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

/** Timings and process memory (and the planned-vs-measured gap): measured, so they differ between two runs of the same computation. */
const VOLATILE = /(Seconds|PerSec|Ms|RssBytes|PeakBytes|MemoryBytes|GapPct)$/;
function stable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stable);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !VOLATILE.test(k)).map(([k, x]) => [k, stable(x)]));
  return v;
}

/** Per node of the newest run: its signature, and the hash of each data file of its artifact (outputs.json's provenance aside; JSON without timings). */
async function snapshot(home: string): Promise<Record<string, { sig: string; files: Record<string, string>; metrics: unknown }>> {
  const runs = new RunStore(home);
  const [latest] = await runs.list();
  const nodes = await runs.metrics(latest!.runId);
  const out: Record<string, { sig: string; files: Record<string, string>; metrics: unknown }> = {};
  for (const [id, n] of Object.entries(nodes)) {
    const dir = path.join(home, 'artifacts', n.signature!);
    const files: Record<string, string> = {};
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name !== 'outputs.json' && e.name !== 'manifest.json') {
          const bytes = readFileSync(p);
          const content = p.endsWith('.json') ? JSON.stringify(stable(JSON.parse(bytes.toString('utf8')))) : bytes;
          files[path.relative(dir, p)] = createHash('sha256').update(content).digest('hex');
        }
      }
    };
    walk(dir);
    out[id] = { sig: n.signature!, files, metrics: stable(n.metrics) };
  }
  return out;
}

const statusCount = (out: string, what: RegExp) => out.split('\n').filter((l) => what.test(l)).length;
const DONE = /^\w+: done in /;
const CACHED = /^\w+: cached/;

/** The file of each kind of artifact that the tests damage. */
const TARGETS: [node: string, file: string][] = [
  ['prune', 'model/model.safetensors'], // a model folder
  ['train', 'adapter/adapter_model.safetensors'], // an adapter
  ['data', 'train.jsonl'], // dataset splits
  ['eval', 'metrics.json'], // metrics
];

/** Flip one byte in place, keeping the size (and, in a text file, a digit a digit and a letter a letter). */
function flipByte(file: string): void {
  const buf = readFileSync(file);
  let i = Math.floor(buf.length * 0.75);
  while (i < buf.length && !/[0-9A-Za-z]/.test(String.fromCharCode(buf[i]!))) i++;
  const c = buf[i]!;
  buf[i] = c >= 0x30 && c <= 0x39 ? c ^ 0x01 : c ^ 0x20;
  writeFileSync(file, buf);
}

d('the artifact store never lies', () => {
  const main = recipeFile('main');
  const home = path.join(tmp, 'home');
  let first: Awaited<ReturnType<typeof snapshot>>;

  test('truncated artifacts of each kind: found by their sizes on the hit, moved aside, recomputed identically', async () => {
    const r1 = await loram(home, ['run', main]);
    expect(r1.code).toBe(0);
    expect(statusCount(r1.out, DONE)).toBe(5);
    first = await snapshot(home);
    for (const [node, file] of TARGETS) {
      const p = path.join(home, 'artifacts', first[node]!.sig, file);
      truncateSync(p, Math.floor(statSync(p).size / 2));
    }
    const r2 = await loram(home, ['run', main]);
    expect(r2.code).toBe(0);
    for (const [node, file] of TARGETS) expect(r2.out).toMatch(new RegExp(`artifact ${first[node]!.sig.slice(0, 12)} is damaged \\(found on a cache hit\\): ${file.replace('.', '\\.')} is \\d+ bytes, the manifest says \\d+`));
    expect(statusCount(r2.out, DONE)).toBe(4); // all but load
    expect(await snapshot(home)).toEqual(first);
    // Kept for inspection, with what was wrong.
    const damaged = readdirSync(path.join(home, 'damaged'));
    expect(damaged).toHaveLength(4);
    for (const [node] of TARGETS) {
      const dir = damaged.find((n) => n.startsWith(first[node]!.sig))!;
      expect(readFileSync(path.join(home, 'damaged', dir, 'DAMAGE.txt'), 'utf8')).toMatch(/bytes, the manifest says/);
    }
  }, 240_000);

  test('a flipped byte: found by the hash when a node reads it, or by `loram cache verify`; recomputed identically', async () => {
    for (const [node, file] of TARGETS) flipByte(path.join(home, 'artifacts', first[node]!.sig, file));
    // Sizes are right: a fully cached run cannot see it (by design: hashing everything on every hit is too slow).
    const cachedRun = await loram(home, ['run', main]);
    expect(statusCount(cachedRun.out, CACHED)).toBe(5);

    // A changed evaluation reads the model, the adapter and the dataset: each is hashed first, found, recomputed.
    const variant = await loram(home, ['run', recipeFile('variant', { evalTokens: 1500 })]);
    expect(variant.code).toBe(0);
    for (const node of ['prune', 'train', 'data']) expect(variant.out).toMatch(new RegExp(`artifact ${first[node]!.sig.slice(0, 12)} is damaged \\(found when (eval|prune|train) read it\\): .* has the right size but not the content it was published with`));
    expect(statusCount(variant.out, DONE)).toBe(4);

    // The metrics artifact is read by nothing: `loram cache verify` finds it, --repair moves it aside.
    const v = await loram(home, ['cache', 'verify']);
    expect(v.code).toBe(1);
    expect(v.out).toContain(`${first.eval!.sig.slice(0, 12)}: DAMAGED`);
    expect(v.out).toMatch(/1 damaged/);
    const repaired = await loram(home, ['cache', 'verify', '--repair']);
    expect(repaired.code).toBe(0);
    expect(repaired.out).toMatch(/moved to .*damaged/);
    expect((await loram(home, ['cache', 'verify'])).code).toBe(0);

    const again = await loram(home, ['run', main]);
    expect(again.code).toBe(0);
    expect(statusCount(again.out, DONE)).toBe(1); // eval; the rest was repaired by the variant run
    expect(await snapshot(home)).toEqual(first);
  }, 240_000);

  test('two `loram run` started together on one LORAM_HOME compute every node exactly once', async () => {
    const shared = path.join(tmp, 'shared');
    const [a, b] = await Promise.all([loram(shared, ['run', main]), loram(shared, ['run', main])]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(statusCount(a.out, DONE) + statusCount(b.out, DONE)).toBe(5);
    expect(statusCount(a.out, DONE) + statusCount(a.out, CACHED)).toBe(5);
    expect(statusCount(b.out, DONE) + statusCount(b.out, CACHED)).toBe(5);
    expect(a.out + b.out).toMatch(/waiting for process \d+/);
    // The same results as a run alone.
    expect(await snapshot(shared)).toEqual(first);
    expect(readdirSync(path.join(shared, 'locks')).filter((n) => n.endsWith('.lock'))).toEqual([]);
  }, 240_000);

  test('`loram cache gc --max-gib` brings the store under the cap; the kept runs re-run fully cached; LORAM_CACHE_MAX_GIB after a run', async () => {
    const gcHome = path.join(tmp, 'gc');
    const files = [0, 1, 2].map((s) => recipeFile(`seed${s}`, { trainSeed: s }));
    for (const f of files) expect((await loram(gcHome, ['run', f])).code).toBe(0);
    const runs = new RunStore(gcHome);
    const [r3, r2] = await runs.list(); // newest first
    const keep = new Set([...(await artifactsOfRun(path.join(runs.dir, r3!.runId))), ...(await artifactsOfRun(path.join(runs.dir, r2!.runId)))]);
    const before = await listStore(gcHome);
    const keptBytes = before.artifacts.filter((x) => keep.has(x.signature)).reduce((s, x) => s + x.bytes, 0);
    expect(keptBytes).toBeLessThan(before.totalBytes);
    const capGib = (keptBytes + 1) / 2 ** 30;

    const gc = await loram(gcHome, ['cache', 'gc', '--max-gib', String(capGib), '--keep-runs', '2']);
    expect(gc.code).toBe(0);
    expect(gc.out).toMatch(/removed 2 artifact\(s\)/); // seed 0's adapter and evaluation
    const after = await listStore(gcHome);
    expect(after.totalBytes).toBeLessThanOrEqual(capGib * 2 ** 30);
    expect(new Set(after.artifacts.map((x) => x.signature))).toEqual(keep);
    for (const f of files.slice(1)) {
      const r = await loram(gcHome, ['run', f]);
      expect(statusCount(r.out, CACHED)).toBe(5);
    }

    // The cap after a run: with nothing kept but the run itself, everything else goes; the run's own stays.
    const capped = await loram(gcHome, ['run', files[0]!], { LORAM_CACHE_MAX_GIB: '0', LORAM_CACHE_KEEP_RUNS: '0' });
    expect(capped.code).toBe(0);
    expect(capped.out).toMatch(/cache: removed 4 least recently used artifact\(s\)/);
    expect(capped.out).toMatch(/over LORAM_CACHE_MAX_GIB=0/);
    const [latest] = await runs.list();
    const own = await artifactsOfRun(path.join(runs.dir, latest!.runId));
    expect(new Set((await listStore(gcHome)).artifacts.map((x) => x.signature))).toEqual(own);
  }, 300_000);
});
