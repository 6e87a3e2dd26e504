/**
 * One row of bench/loram-memory in this (fresh) process: a preset's shape on random weights, pruned and quantized
 * as the row says, LoRA-trained for a few steps on ONNX Runtime (OrtLoraRun: the session LoRA-Train uses, host
 * AdamW); prints one JSON object (ChildRow) as its last stdout line.
 *
 * Measured the way the OS sees it: resident set size. Baseline = RSS once the runtime is loaded and warm (a one-node
 * session has run) and the token batch exists, before any weight is made. The peak is the kernel's high-water mark
 * (VmHWM), reset (/proc/self/clear_refs 5) once the session is built and the host weights are collected, so the
 * weights' host copies and graph serialization (which a training process needs only while it starts) are not in it;
 * measuredPeakBytes = VmHWM during the steps − baseline. glibc keeps freed blocks under its dynamic mmap threshold,
 * which would leave the start-up's garbage resident: the script re-runs itself with MALLOC_MMAP_THRESHOLD_ fixed so
 * large frees go back to the OS (as bench/qloram-base does).
 *
 *   node --import tsx bench/loram-memory/child.ts --shape smollm2-135m --variant stru --ratio 0.85 [--quant nf4]
 *        [--checkpointing] [--batch 1] [--seq 256] [--rank 8] [--steps 2] [--threads 2]
 *        [--arena]            ORT's CPU arena on (training sessions run without it)
 *        [--profile PREFIX]   ORT's profile of the run, for replay-profile.ts
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc || !process.env.MALLOC_MMAP_THRESHOLD_) {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '65536' } });
  process.exit(r.status ?? 1);
}

const { expectedShapes } = await import('../../src/loram/model/config');
const { DenseBases, Nf4Bases } = await import('../../src/loram/ort-train/base-linears');
const { OrtLoraRun } = await import('../../src/loram/ort-train/trainer');
const { createSession } = await import('../../src/loram/onnx/runtime');
const { GraphBuilder, DataType, modelProto } = await import('../../src/loram/onnx/graph');
const { benchRowConfig, BENCH_MEMORY_LORA, parseRowArgs } = await import('./rows');
import type { WeightMap } from '../../src/loram/util/tensor';
import type { ChildRow } from './rows';
import { uniformBenchWeights } from '../random-weights';

const { values } = parseArgs({ args: process.argv.slice(2), options: { shape: { type: 'string' }, variant: { type: 'string' }, ratio: { type: 'string' }, quant: { type: 'string' }, checkpointing: { type: 'boolean' }, batch: { type: 'string' }, seq: { type: 'string' }, rank: { type: 'string' }, steps: { type: 'string' }, threads: { type: 'string' }, arena: { type: 'boolean' }, profile: { type: 'string' } } });
const row = parseRowArgs(values);

const rss = () => process.memoryUsage.rss();
const hwm = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;

async function settle(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((r) => setTimeout(r, 50));
  }
  return rss();
}

/** A one-node session first, so ONNX Runtime's code and thread pool are in the baseline. */
async function warmRuntime(threads: number): Promise<void> {
  const g = new GraphBuilder('warm');
  g.input('x', DataType.FLOAT, [1]);
  g.output('y', g.op1('Neg', ['x']), DataType.FLOAT, [1]);
  const bytes = await modelProto(g.toGraphProto().graph, { irVersion: 8, opset: 17, producerName: 'bench', producerVersion: '1' }).toBytes();
  await (await createSession(bytes, { provider: 'cpu', threads })).session.release();
}

const cfg = benchRowConfig(row);
const n = row.batch * row.seq;
let id = 7;
const inputIds = Int32Array.from({ length: n }, () => (id = (id * 48271) % 2147483647) % cfg.vocabSize);
const labels = Int32Array.from({ length: n }, (_, i) => ((i + 1) % row.seq === 0 ? -100 : inputIds[i + 1]!));
const batch = { inputIds, labels, batch: row.batch, seqLen: row.seq };
await warmRuntime(row.threads);
const baseline = await settle();

const t0 = performance.now();
// The values do not change memory.
let weights: WeightMap | null = uniformBenchWeights(expectedShapes(cfg), 1);
const bases = row.quant === 'nf4' ? new Nf4Bases({ blockSize: 64, doubleQuant: true }) : new DenseBases();
const run = await OrtLoraRun.start({ config: cfg, weights, bases }, { ...BENCH_MEMORY_LORA, r: row.rank }, { batch: row.batch, seqLen: row.seq, checkpoint: row.checkpointing }, { provider: 'cpu', threads: row.threads, ...(values.arena ? { cpuArena: true } : {}), ...(values.profile ? { profilePrefix: values.profile } : {}) });
weights = null;
const buildMs = performance.now() - t0;
const afterBuild = (await settle()) - baseline;
writeFileSync('/proc/self/clear_refs', '5');
const times: number[] = [];
let last = 0;
await run.train({
  batches: [batch],
  config: { steps: row.steps, lr: 1e-4, warmupSteps: 0, schedule: 'constant', maxGradNorm: 1, gradAccum: 1, adamw: { weightDecay: 0 }, seed: 1 },
  onStep: (i) => void (times.push(i.elapsedMs - last), (last = i.elapsedMs)),
});
const peak = hwm();
const mem = run.session.memory;
const out: ChildRow = {
  ...row,
  measuredPeakBytes: peak - baseline,
  residentAfterBuildBytes: afterBuild,
  baselineBytes: baseline,
  stepMs: times.length > 1 ? Math.min(...times.slice(1)) : times[0]!,
  buildMs,
  trainableParams: run.numParams(),
  graph: { ...mem },
  engine: run.engine,
  storage: bases.summary,
};
await run.release();
process.stdout.write(JSON.stringify(out) + '\n');
