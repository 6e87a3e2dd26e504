/**
 * The measured side of "planned vs measured" training memory (bench/loram-memory and LoRA-Train's figure): the
 * peak of a few LoRA training steps on ONNX Runtime (OrtLoraRun: the session and host AdamW LoRA-Train runs) as the
 * OS sees it, in this process, on random weights of the trained shapes (memory does not depend on the values).
 *
 * measuredPeakBytes = the process's peak resident size during the steps − its resident size when idle but warm
 * (ORT loaded, a one-node session run, the token batch made). The peak is the kernel's high-water mark (VmHWM),
 * reset (/proc/self/clear_refs 5) once the session is built and the host weights are collected, so the host copies
 * and the graph's serialization, which a run needs only while it starts, are not in it; where that is unavailable
 * (not Linux) the resident size sampled every 2 ms during the steps.
 *
 * The process must be fresh and started for it (MEASURE_ENV, --expose-gc): glibc keeps freed blocks below its
 * dynamic mmap threshold, which would leave start-up garbage resident and hide it from the baseline; with a fixed
 * threshold large frees go back to the OS. memory/probe.ts starts such a process; so does bench/loram-memory/child.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { expectedShapes, type LlamaConfig, type LoraTarget } from '../model/config';
import type { LmBatch } from '../model/loss';
import { DenseBases, Nf4Bases } from '../ort-train/base-linears';
import type { GraphMemory } from '../ort-train/live-bytes';
import { OrtLoraRun } from '../ort-train/trainer';
import { createSession } from '../onnx/runtime';
import { DataType, GraphBuilder, modelProto } from '../onnx/graph';
import { trackPeakRss, type RssTracker } from '../util/peak-rss';
import { uniformBenchWeights } from '../util/random-weights';
import type { WeightMap } from '../util/tensor';
import { MEASURE_ENV } from './probe';

/** What to measure: the trained config (pruned shapes), its storage, the LoRA setting and the step's shape. */
export interface StepsToMeasure {
  config: LlamaConfig;
  nf4: { blockSize: number; doubleQuant: boolean } | null;
  lora: { r: number; alpha: number; dropout: number; targetModules: readonly LoraTarget[] };
  batch: number;
  seqLen: number;
  checkpoint: boolean;
  /** Micro-batches per optimizer step (above 1 the host optimizer keeps a receive buffer). */
  gradAccum: number;
  steps: number;
  threads: number;
  cpuArena?: boolean;
  /** Write ORT's profile (bench/loram-memory/replay-profile.ts reads it). */
  profilePrefix?: string;
}

export interface StepMeasurement {
  measuredPeakBytes: number;
  /** Resident size once the session is built and the host weights collected, above the baseline. */
  residentAfterBuildBytes: number;
  baselineBytes: number;
  /** The fastest step after the first (the first alone when there is one). */
  stepMs: number;
  buildMs: number;
  trainableParams: number;
  graph: GraphMemory;
  engine: string;
  storage: string | null;
  peakMethod: 'VmHWM' | 'sampled RSS';
}

const gcFn = () => (globalThis as { gc?: () => void }).gc;

/** Whether this process was started to measure (MEASURE_ENV and --expose-gc). */
export function isMeasuringProcess(): boolean {
  return typeof gcFn() === 'function' && Object.entries(MEASURE_ENV).every(([k, v]) => process.env[k] === v);
}

async function settle(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gcFn()!();
    await new Promise((r) => setTimeout(r, 50));
  }
  return process.memoryUsage.rss();
}

/** A one-node session first, so ONNX Runtime's code and thread pool are in the baseline. */
async function warmRuntime(threads: number): Promise<void> {
  const g = new GraphBuilder('warm');
  g.input('x', DataType.FLOAT, [1]);
  g.output('y', g.op1('Neg', ['x']), DataType.FLOAT, [1]);
  const bytes = await modelProto(g.toGraphProto().graph, { irVersion: 8, opset: 17, producerName: 'measure', producerVersion: '1' }).toBytes();
  await (await createSession(bytes, { provider: 'cpu', threads })).session.release();
}

/** The peak from now on: VmHWM after a reset where the kernel allows it, else sampled RSS. */
function peakFromNow(): { read(): number; method: StepMeasurement['peakMethod'] } {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return { read: () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024, method: 'VmHWM' };
  } catch {
    const t: RssTracker = trackPeakRss(2);
    return { read: () => t.stop(), method: 'sampled RSS' };
  }
}

/** A fixed token batch of the step's shape (a deterministic stream; the last position of each row ignored). */
function tokenBatch(vocab: number, batch: number, seqLen: number): LmBatch {
  let id = 7;
  const inputIds = Int32Array.from({ length: batch * seqLen }, () => (id = (id * 48271) % 2147483647) % vocab);
  const labels = Int32Array.from({ length: batch * seqLen }, (_, i) => ((i + 1) % seqLen === 0 ? -100 : inputIds[i + 1]!));
  return { inputIds, labels, batch, seqLen };
}

export async function measureTrainingSteps(s: StepsToMeasure): Promise<StepMeasurement> {
  if (!isMeasuringProcess()) throw new Error('measureTrainingSteps needs a process started for it (MEASURE_ENV, --expose-gc): memory/probe.ts starts one');
  const batch = tokenBatch(s.config.vocabSize, s.batch, s.seqLen);
  await warmRuntime(s.threads);
  const baseline = await settle();
  const t0 = performance.now();
  let weights: WeightMap | null = uniformBenchWeights(expectedShapes(s.config), 1);
  const bases = s.nf4 ? new Nf4Bases(s.nf4) : new DenseBases();
  const ort = { provider: 'cpu' as const, threads: s.threads, ...(s.cpuArena ? { cpuArena: true } : {}), ...(s.profilePrefix ? { profilePrefix: s.profilePrefix } : {}) };
  const run = await OrtLoraRun.start({ config: s.config, weights, bases }, s.lora, { batch: s.batch, seqLen: s.seqLen, checkpoint: s.checkpoint }, ort);
  weights = null;
  try {
    const buildMs = performance.now() - t0;
    const afterBuild = (await settle()) - baseline;
    const peak = peakFromNow();
    const times: number[] = [];
    let last = 0;
    await run.train({
      batches: () => batch,
      config: { steps: s.steps, lr: 1e-4, warmupSteps: 0, schedule: 'constant', maxGradNorm: 1, gradAccum: s.gradAccum, adamw: { weightDecay: 0 }, seed: 1 },
      onStep: (i) => void (times.push(i.elapsedMs - last), (last = i.elapsedMs)),
    });
    return {
      measuredPeakBytes: peak.read() - baseline,
      residentAfterBuildBytes: afterBuild,
      baselineBytes: baseline,
      stepMs: times.length > 1 ? Math.min(...times.slice(1)) : times[0]!,
      buildMs,
      trainableParams: run.numParams(),
      graph: { ...run.session.memory },
      engine: run.engine,
      storage: bases.summary,
      peakMethod: peak.method,
    };
  } finally {
    await run.release();
  }
}
