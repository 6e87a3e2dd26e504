/**
 * LoRAM training memory on ONNX Runtime, measured next to the planner (src/loram/memory/ort-plan.ts): for a preset
 * shape on random weights — LoRA on the full model, LoRAM-Rand / -Stru at p 0.5 / 0.65 / 0.85, QLoRAM-Stru p 0.85,
 * each with and without checkpointing — every row in a fresh child process (child.ts) that reports the peak
 * resident size of its training steps above its idle baseline.
 *
 *   node --import tsx bench/loram-memory/run.ts --shape smollm2-135m [--batch 1] [--seq 256] [--steps 2]
 *        [--threads 2] [--only lora,stru-0.85,qloram-stru-0.85] [--no-write]
 *   node --import tsx bench/loram-memory/run.ts --replan   (stored rows' plans recomputed with the current planner)
 *   npx loram bench memory --shape NAME [--json]
 * Prints a table; writes bench/results/loram-memory.json (rows of earlier runs of other shapes are kept).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { planOrtTraining } from '../../src/loram/memory/ort-plan';
import type { PresetName } from '../../src/loram/memory/presets';
import { BENCH_MEMORY_LORA, planInputFor, rowArgv, rowName, type ChildRow, type RowSpec } from './rows';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
export const RESULTS_FILE = path.join(REPO, 'bench', 'results', 'loram-memory.json');

export interface MemoryRow {
  variant: string;
  ratio: number;
  quant: 'none' | 'nf4';
  checkpointing: boolean;
  plannedBytes: number;
  measuredPeakBytes: number;
  stepMs: number;
  /** (planned − measured) / measured. */
  error: number;
  residentAfterBuildBytes: number;
  trainableParams: number;
}

export interface MemoryBench {
  shape: PresetName;
  command: string;
  batch: number;
  seq: number;
  steps: number;
  threads: number;
  engine: string;
  rows: MemoryRow[];
}

export interface MemoryBenchOptions {
  batch?: number;
  seq?: number;
  steps?: number;
  threads?: number;
  /** Row keys to run (lora, rand-0.5, stru-0.85, qloram-stru-0.85, …; each with and without checkpointing). */
  only?: readonly string[];
  onRow?: (r: MemoryRow) => void;
}

/** The issue's rows: key, variant, ratio, quant. */
export const ROWS: readonly { key: string; variant: RowSpec['variant']; ratio: number; quant: RowSpec['quant'] }[] = [
  { key: 'lora', variant: 'lora', ratio: 0, quant: 'none' },
  ...[0.5, 0.65, 0.85].flatMap((p) => [
    { key: `rand-${p}`, variant: 'rand' as const, ratio: p, quant: 'none' as const },
    { key: `stru-${p}`, variant: 'stru' as const, ratio: p, quant: 'none' as const },
  ]),
  { key: 'qloram-stru-0.85', variant: 'stru', ratio: 0.85, quant: 'nf4' },
];

/** Every key `only` accepts: each row's, and each row's checkpointed half alone (KEY+ckpt). */
export function rowKeys(): string[] {
  return ROWS.flatMap((r) => [r.key, `${r.key}+ckpt`]);
}

async function child(spec: RowSpec): Promise<ChildRow> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const env = { ...process.env, OMP_NUM_THREADS: String(spec.threads) };
    const p = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, 'child.ts'), ...rowArgv(spec)], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      const line = out.trim().split('\n').reverse().find((l) => l.startsWith('{'));
      if (code !== 0 || !line) reject(new Error(`row ${rowArgv(spec).join(' ')} failed (exit ${code}): ${(err || out).trim().split('\n').slice(-6).join('\n')}`));
      else resolve(JSON.parse(line) as ChildRow);
    });
  });
}

export function plannedBytesFor(spec: Pick<RowSpec, 'shape' | 'variant' | 'ratio' | 'quant' | 'checkpointing' | 'batch' | 'seq' | 'rank'>): number {
  return planOrtTraining(planInputFor(spec)).bytes.total;
}

export async function runMemoryBench(shape: PresetName, o: MemoryBenchOptions = {}): Promise<MemoryBench> {
  const base = { shape, batch: o.batch ?? 1, seq: o.seq ?? 256, rank: BENCH_MEMORY_LORA.r, steps: o.steps ?? 2, threads: o.threads ?? 2 };
  const rows: MemoryRow[] = [];
  let engine = '';
  for (const r of ROWS) {
    for (const checkpointing of [false, true]) {
      const key = `${r.key}${checkpointing ? '+ckpt' : ''}`;
      if (o.only && !o.only.includes(r.key) && !o.only.includes(key)) continue;
      const spec: RowSpec = { ...base, variant: r.variant, ratio: r.ratio, quant: r.quant, checkpointing };
      const plannedBytes = plannedBytesFor(spec);
      const c = await child(spec);
      engine = c.engine;
      const row: MemoryRow = {
        variant: rowName(spec),
        ratio: r.ratio,
        quant: r.quant,
        checkpointing,
        plannedBytes,
        measuredPeakBytes: c.measuredPeakBytes,
        stepMs: Math.round(c.stepMs),
        error: (plannedBytes - c.measuredPeakBytes) / c.measuredPeakBytes,
        residentAfterBuildBytes: c.residentAfterBuildBytes,
        trainableParams: c.trainableParams,
      };
      rows.push(row);
      o.onRow?.(row);
    }
  }
  const command = `node --import tsx bench/loram-memory/run.ts --shape ${shape} --batch ${base.batch} --seq ${base.seq} --steps ${base.steps} --threads ${base.threads}${o.only ? ` --only ${o.only.join(',')}` : ''}`;
  return { shape, command, batch: base.batch, seq: base.seq, steps: base.steps, threads: base.threads, engine, rows };
}

const MIB = 2 ** 20;
export function tableHeader(): string {
  return '| variant | p | quant | ckpt | planned MiB | measured MiB | error | step ms |\n|---|---|---|---|---|---|---|---|\n';
}
export function tableLine(r: MemoryRow): string {
  return `| ${r.variant} | ${r.ratio || '—'} | ${r.quant} | ${r.checkpointing ? 'yes' : 'no'} | ${(r.plannedBytes / MIB).toFixed(0)} | ${(r.measuredPeakBytes / MIB).toFixed(0)} | ${(r.error * 100).toFixed(1)}% | ${r.stepMs} |\n`;
}

/**
 * bench/results/loram-memory.json: one entry per shape. A run with the same batch, sequence length, steps and
 * threads as the stored entry replaces only the rows it measured (so a shape's table can be filled in a few runs,
 * `--only`); any other run replaces the entry.
 */
export function writeMemoryResults(b: MemoryBench, file = RESULTS_FILE): void {
  let all: { shapes?: Record<string, MemoryBench & { when?: string; commands?: string[] }> } = {};
  try {
    const prev = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof all;
    if (prev.shapes) all = prev;
  } catch {
    // first run, or the old tfjs format: start over
  }
  const prev = all.shapes?.[b.shape];
  const same = prev && prev.batch === b.batch && prev.seq === b.seq && prev.steps === b.steps && prev.threads === b.threads;
  const key = (r: MemoryRow) => `${r.variant}|${r.ratio}|${r.quant}|${r.checkpointing}`;
  const order = (r: MemoryRow) => ROWS.findIndex((x) => rowName({ variant: x.variant, ratio: x.ratio, quant: x.quant }) === r.variant && x.ratio === r.ratio && x.quant === r.quant) * 2 + (r.checkpointing ? 1 : 0);
  const fresh = new Set(b.rows.map(key));
  const rows = same ? [...prev.rows.filter((r) => !fresh.has(key(r))), ...b.rows].sort((x, y) => order(x) - order(y)) : b.rows;
  const commands = same ? [...new Set([...(prev.commands ?? [prev.command]), b.command])] : [b.command];
  const shapes = { ...(all.shapes ?? {}), [b.shape]: { ...b, rows, commands, when: new Date().toISOString() } };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ note: 'measuredPeakBytes: VmHWM during the training steps − RSS of the warm idle process (bench/loram-memory/child.ts); plannedBytes: src/loram/memory/ort-plan.ts', shapes }, null, 2) + '\n');
}

/**
 * The stored rows' plannedBytes and error recomputed with the current planner (the measurements do not depend on
 * it): after a planner change, `run.ts --replan` updates bench/results/loram-memory.json without re-measuring.
 */
export function replanResults(file = RESULTS_FILE): MemoryBench[] {
  const all = JSON.parse(fs.readFileSync(file, 'utf8')) as { note: string; shapes: Record<string, MemoryBench> };
  for (const b of Object.values(all.shapes)) {
    for (const r of b.rows) {
      const variant = r.variant.includes('Rand') ? 'rand' : r.variant.includes('Stru') ? 'stru' : 'lora';
      r.plannedBytes = plannedBytesFor({ shape: b.shape, variant, ratio: r.ratio, quant: r.quant, checkpointing: r.checkpointing, batch: b.batch, seq: b.seq, rank: BENCH_MEMORY_LORA.r });
      r.error = (r.plannedBytes - r.measuredPeakBytes) / r.measuredPeakBytes;
    }
  }
  fs.writeFileSync(file, JSON.stringify(all, null, 2) + '\n');
  return Object.values(all.shapes);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({ options: { replan: { type: 'boolean' }, shape: { type: 'string', default: 'smollm2-135m' }, batch: { type: 'string' }, seq: { type: 'string' }, steps: { type: 'string' }, threads: { type: 'string' }, only: { type: 'string' }, 'no-write': { type: 'boolean' } } });
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  if (values.replan) {
    for (const b of replanResults()) process.stdout.write(`${b.shape}\n${tableHeader()}${b.rows.map(tableLine).join('')}`);
    process.exit(0);
  }
  process.stdout.write(`${values.shape}\n${tableHeader()}`);
  const b = await runMemoryBench(values.shape as PresetName, { batch: num(values.batch), seq: num(values.seq), steps: num(values.steps), threads: num(values.threads), only: values.only?.split(','), onRow: (r) => process.stdout.write(tableLine(r)) });
  process.stdout.write(`${b.engine}\n${b.command}\n`);
  if (!values['no-write']) writeMemoryResults(b);
}
