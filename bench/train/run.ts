/**
 * Training speed per backend: LoRA step, full-weight step and forward (medians), and peak process memory, for the
 * tiny and SmolLM2-135M shapes of issue 10, next to a PyTorch peer of our own (torch_peer.py) where torch imports.
 *   npx tsx bench/train/run.ts [--shapes tiny,smollm2-135m] [--backends tfjs,ort] [--threads 1,2]
 *                              [--steps 5] [--warmup 2] [--repeat 1] [--no-torch] [--torch-blas-dir DIR]
 * Every measurement runs in a fresh process (peak RSS is its own). One measurement: `npx loram bench train`.
 * --repeat N: N rounds over all measurements (interleaved, so load from other work spreads over every column);
 * the table shows each field's best (lowest) median over the rounds, the JSON every round.
 * --torch-blas-dir: a folder with an OpenBLAS libblas.so.3 for the peer only (Debian's torch otherwise uses
 * whatever libblas.so.3 the system resolves, and the reference one is ~20× slower than OpenBLAS).
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { printTable, writeResults } from '../common';
import { TRAIN_BACKENDS } from './backends';
import { measureInChild } from './spawn';
import { findTorchPython, measureTorch } from './torch';
import type { TorchPython } from './torch';
import { DEFAULT_MEASURE, SHAPE_NAMES, SHAPES } from './types';
import type { MeasureOpts, Row, ShapeName } from './types';

const { values } = parseArgs({
  options: {
    shapes: { type: 'string', default: SHAPE_NAMES.join(',') },
    backends: { type: 'string', default: TRAIN_BACKENDS.map((b) => b.name).join(',') },
    threads: { type: 'string' },
    steps: { type: 'string', default: String(DEFAULT_MEASURE.steps) },
    warmup: { type: 'string', default: String(DEFAULT_MEASURE.warmup) },
    repeat: { type: 'string', default: '1' },
    'no-torch': { type: 'boolean' },
    'torch-blas-dir': { type: 'string' },
  },
  strict: true,
});

function list<T extends string>(flag: string, value: string, allowed: readonly T[]): T[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const i of items) if (!(allowed as readonly string[]).includes(i)) throw new Error(`--${flag}: "${i}" is not one of ${allowed.join(', ')}`);
  return items as T[];
}

const cores = Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
const shapes = list('shapes', values.shapes!, SHAPE_NAMES);
const backends = list('backends', values.backends!, TRAIN_BACKENDS.map((b) => b.name));
const threadList = values.threads ? values.threads.split(',').map(Number) : [...new Set([1, cores])];
if (threadList.some((t) => !Number.isInteger(t) || t < 1)) throw new Error(`--threads: positive integers, comma-separated (got ${values.threads})`);
const opts: MeasureOpts = { steps: Number(values.steps), warmup: Number(values.warmup), seed: DEFAULT_MEASURE.seed };
const repeat = Number(values.repeat);
if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat: a positive integer (got ${values.repeat})`);

const notes: string[] = [
  `${cores}-core machine shared with other work: step times are noisy; the load average is recorded with each row`,
];
let torchPy: TorchPython | null = null;
if (values['no-torch']) notes.push('PyTorch column skipped (--no-torch)');
else {
  const { found, tried } = findTorchPython();
  torchPy = found;
  if (!found) notes.push(`PyTorch column skipped: no Python here imports torch (${tried.join('; ')}); Debian: apt install python3-torch`);
}

interface Measured {
  row: Row;
  loadAvg1m: [number, number];
  round: number;
}

async function measured(round: number, run: () => Promise<Row>): Promise<Measured | null> {
  const before = os.loadavg()[0]!;
  try {
    const row = await run();
    console.log(JSON.stringify(row));
    for (const n of row.notes ?? []) notes.push(`${row.backend} on ${row.shape}, ${row.threads} thread(s): ${n}`);
    return { row, loadAvg1m: [before, os.loadavg()[0]!], round };
  } catch (e) {
    console.error(`  ${(e as Error).message}`);
    notes.push((e as Error).message.split('\n')[0]!);
    return null;
  }
}

async function measureRound(round: number): Promise<Measured[]> {
  const out: Measured[] = [];
  for (const shape of shapes as ShapeName[]) {
    for (const threads of threadList) {
      for (const backend of backends) {
        const m = await measured(round, () => measureInChild({ shape, backend, threads, steps: opts.steps, warmup: opts.warmup }));
        if (m) out.push(m);
      }
      const py = torchPy;
      if (py) {
        const m = await measured(round, () => measureTorch(py, SHAPES[shape], threads, opts, values['torch-blas-dir']));
        if (m) out.push(m);
      }
    }
  }
  return out;
}

const minOf = (xs: (number | null)[]) => (xs.some((x) => x !== null) ? Math.min(...xs.filter((x): x is number => x !== null)) : null);

/** Per (shape, backend, threads): each timing's best median over the rounds, the highest peak RSS, the load range. */
function best(all: Measured[]): Measured[] {
  const groups = new Map<string, Measured[]>();
  for (const m of all) {
    const k = `${m.row.shape}|${m.row.backend}|${m.row.threads}`;
    groups.set(k, [...(groups.get(k) ?? []), m]);
  }
  return [...groups.values()].map((g) => ({
    round: 0,
    loadAvg1m: [Math.min(...g.map((m) => m.loadAvg1m[0])), Math.max(...g.map((m) => m.loadAvg1m[1]))],
    row: {
      ...g[0]!.row,
      loraStepMs: minOf(g.map((m) => m.row.loraStepMs)),
      fullStepMs: minOf(g.map((m) => m.row.fullStepMs)),
      forwardMs: minOf(g.map((m) => m.row.forwardMs)),
      peakRssBytes: Math.max(...g.map((m) => m.row.peakRssBytes)),
    },
  }));
}

function tableRows(measuredRows: Measured[]): Record<string, string | number>[] {
  const torchOf = (r: Row) => measuredRows.find((m) => m.row.backend === 'torch' && m.row.shape === r.shape && m.row.threads === r.threads)?.row;
  const ratio = (a: number | null, b: number | null | undefined) => (a !== null && b ? `${(a / b).toFixed(2)}×` : '—');
  const ms = (v: number | null) => (v === null ? 'failed' : v.toFixed(1));
  return measuredRows.map(({ row: r, loadAvg1m }) => ({
    shape: r.shape,
    backend: r.backend,
    provider: r.provider,
    threads: r.threads,
    'LoRA step ms': ms(r.loraStepMs),
    'full step ms': ms(r.fullStepMs),
    'forward ms': ms(r.forwardMs),
    'LoRA tok/s': r.loraStepMs === null ? '—' : Math.round((r.tokens * 1000) / r.loraStepMs),
    'peak RSS MiB': (r.peakRssBytes / 2 ** 20).toFixed(0),
    'LoRA / torch': r.backend === 'torch' ? '1' : ratio(r.loraStepMs, torchOf(r)?.loraStepMs),
    'full / torch': r.backend === 'torch' ? '1' : ratio(r.fullStepMs, torchOf(r)?.fullStepMs),
    load: loadAvg1m.map((l) => l.toFixed(1)).join('→'),
  }));
}

const results: Measured[] = [];
for (let round = 1; round <= repeat; round++) results.push(...(await measureRound(round)));
const summary = best(results);
const torchRows = results.filter((m) => m.row.backend === 'torch').map((m) => m.row as Row & { blas?: string });
if (torchRows.some((r) => r.blas === 'reference')) {
  notes.push('the PyTorch peer ran on the reference (netlib) BLAS: ~20× slower than OpenBLAS, not a meaningful peer; pass --torch-blas-dir (an OpenBLAS libblas.so.3 folder) or install libopenblas0-pthread');
}
console.log();
if (repeat > 1) console.log(`best of ${repeat} rounds (each a median over ${opts.steps} steps after ${opts.warmup} warm-ups):\n`);
printTable(tableRows(summary));
const uniqueNotes = [...new Set(notes)];
for (const n of uniqueNotes) console.log(`note: ${n}`);
writeResults('train', {
  notes: uniqueNotes,
  options: { ...opts, repeat, shapes, backends, threads: threadList, torchPython: torchPy, torchBlasDir: values['torch-blas-dir'] ?? null },
  best: summary.map((m) => ({ ...m.row, loadAvg1m: m.loadAvg1m })),
  rounds: results.map((m) => ({ round: m.round, ...m.row, loadAvg1m: m.loadAvg1m })),
});
