/**
 * LoRA-Train's training memory, planned and measured for the same runtime (ONNX Runtime on the CPU provider) and
 * the same training graph: the run's config (pruned shapes), NF4 storage, LoRA setting, batch, sequence length,
 * checkpointing and accumulation. Planned: memory/ort-plan.ts. Measured: a fresh process replaying two steps of that
 * graph (memory/probe.ts) — the engine's workers are threads of a long-lived process whose resident size belongs to
 * every node it ran. docs/memory.md says what each figure includes.
 */
import type { LlamaConfig, LoraTarget } from '../loram/model/config';
import type { OrtPlan } from '../loram/memory/ort-plan';
import type { StepsToMeasure } from '../loram/memory/measure-steps';
import { compareMemory, MEMORY_METRICS, type MemoryRuntime, type ModelLineage } from '../shared';
import { quantizeOf } from './lineage';
import type { NodeContext } from './definition';

/** The training settings both figures are for (LoRA-Train's parameters, the run's config and its lineage). */
export interface TrainSettings {
  config: LlamaConfig;
  lineage: ModelLineage;
  rank: number;
  alpha: number;
  dropout: number;
  targets: readonly LoraTarget[];
  batchSize: number;
  seqLen: number;
  gradientCheckpointing: boolean;
  gradAccum: number;
  threads: number;
}

function nf4Of(lineage: ModelLineage): { blockSize: number; doubleQuant: boolean } | null {
  const q = quantizeOf(lineage);
  return q ? { blockSize: q.blockSize, doubleQuant: q.doubleQuant } : null;
}

/** The ORT planner on the config actually trained (structured pruning is already in its shapes; semi/unst store zeros densely). */
export async function plannedTrainingMemory(s: TrainSettings): Promise<OrtPlan> {
  const { planOrtTraining } = await import('../loram/memory/ort-plan');
  const nf4 = nf4Of(s.lineage);
  return planOrtTraining({
    model: s.config,
    strategy: 'none',
    ...(nf4 ? { quant: 'nf4' as const, nf4 } : {}),
    lora: { rank: s.rank, alpha: s.alpha, dropout: s.dropout, targets: s.targets },
    batch: s.batchSize,
    seqLen: s.seqLen,
    checkpointing: s.gradientCheckpointing,
    gradAccum: s.gradAccum,
  });
}

/** The probe's spec for the same settings (two steps, as bench/loram-memory measures). */
export function probeSpec(s: TrainSettings): StepsToMeasure {
  return {
    config: s.config,
    nf4: nf4Of(s.lineage),
    lora: { r: s.rank, alpha: s.alpha, dropout: s.dropout, targetModules: s.targets },
    batch: s.batchSize,
    seqLen: s.seqLen,
    checkpoint: s.gradientCheckpointing,
    gradAccum: s.gradAccum,
    steps: 2,
    threads: s.threads,
  };
}

/**
 * The largest planned step the probe replays by default (LORAM_MEMORY_PROBE_MAX_GIB): the probe runs on the CPU, so
 * for a model trained on a GPU, or one whose step needs a large share of this machine's memory, it would cost
 * minutes and a second copy of the model's memory after training; the plan then stands alone (and says so).
 */
export function probeLimitBytes(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.LORAM_MEMORY_PROBE_MAX_GIB);
  return (Number.isFinite(v) && v > 0 ? v : 4) * 2 ** 30;
}

/** The measured figure, or null (with a warning in the log) when the probe is off or fails: training still stands. */
export async function measuredTrainingMemory(ctx: NodeContext, s: TrainSettings, plannedBytes: number): Promise<number | null> {
  const { measureInFreshProcess, probeEnabled } = await import('../loram/memory/probe');
  if (!probeEnabled()) {
    ctx.log('LORAM_MEMORY_PROBE=off: training memory not measured');
    return null;
  }
  if (plannedBytes > probeLimitBytes()) {
    const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
    ctx.log(`training memory not measured: the planned step (${gib(plannedBytes)}) is over the probe's limit (${gib(probeLimitBytes())}, LORAM_MEMORY_PROBE_MAX_GIB); the planned figure stands alone`);
    return null;
  }
  ctx.log('measuring training memory: 2 steps of the same training graph in a fresh process (ONNX Runtime, CPU)');
  try {
    return (await measureInFreshProcess(probeSpec(s), ctx.signal)).measuredPeakBytes;
  } catch (e) {
    ctx.signal.throwIfAborted();
    ctx.log(`training memory not measured: ${(e as Error).message}`, 'warn');
    return null;
  }
}

/**
 * The memory metrics: both figures with their runtimes, the planned breakdown, and the gap when comparable
 * (a tfjs run is measured by its tensor counter, not comparable with the ORT plan: no gap).
 */
export function memoryMetrics(plan: OrtPlan, measured: { bytes: number | null; runtime: MemoryRuntime }): Record<string, number | string | null> {
  const b = plan.bytes;
  const figures = { measured: measured.bytes, measuredRuntime: measured.runtime, planned: b.total, plannedRuntime: 'onnxruntime-cpu' };
  const c = compareMemory(figures);
  return {
    [MEMORY_METRICS.measured]: measured.bytes,
    [MEMORY_METRICS.measuredRuntime]: measured.runtime,
    [MEMORY_METRICS.planned]: b.total,
    [MEMORY_METRICS.plannedRuntime]: 'onnxruntime-cpu',
    plannedWeightsBytes: b.weights,
    plannedActivationsBytes: b.fed + b.activations,
    plannedOptimizerBytes: b.optimizer,
    plannedRuntimeBytes: b.runtime,
    [MEMORY_METRICS.gapPct]: c.gap === null ? null : Math.round(c.gap * 1000) / 10,
  };
}
