/**
 * Training speed per backend: LoRA step, full-weight step and forward (medians), and peak process memory, for the
 * tiny and SmolLM2-135M shapes of issue 10, next to a PyTorch peer of our own (torch_peer.py) where torch imports.
 *   npx tsx bench/train/run.ts [--shapes tiny,smollm2-135m] [--backends tfjs,ort] [--threads 1,2]
 *                              [--steps 5] [--warmup 2] [--no-torch] [--torch-blas-dir DIR]
 * Every measurement runs in a fresh process (peak RSS is its own). One measurement: `npx loram bench train`.
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
}

async function measured(run: () => Promise<Row>): Promise<Measured | null> {
  const before = os.loadavg()[0]!;
  try {
    const row = await run();
    console.log(JSON.stringify(row));
    for (const n of row.notes ?? []) notes.push(`${row.backend} on ${row.shape}, ${row.threads} thread(s): ${n}`);
    return { row, loadAvg1m: [before, os.loadavg()[0]!] };
  } catch (e) {
    console.error(`  ${(e as Error).message}`);
    notes.push((e as Error).message.split('\n')[0]!);
    return null;
  }
}

async function measureAll(): Promise<Measured[]> {
  const out: Measured[] = [];
  for (const shape of shapes as ShapeName[]) {
    for (const threads of threadList) {
      for (const backend of backends) {
        const m = await measured(() => measureInChild({ shape, backend, threads, steps: opts.steps, warmup: opts.warmup }));
        if (m) out.push(m);
      }
      const py = torchPy;
      if (py) {
        const m = await measured(() => measureTorch(py, SHAPES[shape], threads, opts, values['torch-blas-dir']));
        if (m) out.push(m);
      }
    }
  }
  return out;
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

const results = await measureAll();
const torchRows = results.filter((m) => m.row.backend === 'torch').map((m) => m.row as Row & { blas?: string });
if (torchRows.some((r) => r.blas === 'reference')) {
  notes.push('the PyTorch peer ran on the reference (netlib) BLAS: ~20× slower than OpenBLAS, not a meaningful peer; pass --torch-blas-dir (an OpenBLAS libblas.so.3 folder) or install libopenblas0-pthread');
}
console.log();
printTable(tableRows(results));
for (const n of notes) console.log(`note: ${n}`);
writeResults('train', {
  notes,
  options: { ...opts, shapes, backends, threads: threadList, torchPython: torchPy, torchBlasDir: values['torch-blas-dir'] ?? null },
  rows: results.map((m) => ({ ...m.row, loadAvg1m: m.loadAvg1m })),
});
