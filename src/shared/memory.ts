/**
 * Planned vs measured training memory, as LoRA-Train records it and the editor and the report show it: which
 * metrics hold the two figures, which runtime each is for, what each includes, and when the gap between them is a
 * warning. Two figures are compared only when both are for the same runtime; otherwise they are labelled, not
 * compared.
 */
import type { MetricScalar } from './ports';

/** The metric keys LoRA-Train writes (docs/memory.md says what each holds). */
export const MEMORY_METRICS = {
  measured: 'trainMemoryBytes',
  measuredRuntime: 'measuredMemoryRuntime',
  planned: 'plannedMemoryBytes',
  plannedRuntime: 'plannedMemoryRuntime',
  gapPct: 'memoryGapPct',
} as const;

/** The runtimes a figure can be for. */
export type MemoryRuntime = 'onnxruntime-cpu' | 'tfjs';

/** A gap above this share of the measured figure is shown as a warning. */
export const MEMORY_GAP_WARN = 0.1;

export interface MemoryFigures {
  measured: number | null;
  measuredRuntime: string | null;
  planned: number | null;
  plannedRuntime: string | null;
}

export interface MemoryComparison extends MemoryFigures {
  /** Both figures present and for the same runtime. */
  comparable: boolean;
  /** (planned − measured) / measured when comparable, else null. */
  gap: number | null;
  /** |gap| > MEMORY_GAP_WARN. */
  warn: boolean;
  /** One line for a warning or a caveat; null when the figures agree (or one is missing). */
  note: string | null;
}

const num = (v: MetricScalar | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: MetricScalar | undefined): string | null => (typeof v === 'string' && v ? v : null);

/** The two figures of a LoRA-Train node's metrics (tfjs runs of old recorded only peakTensorBytes). */
export function memoryFigures(m: Readonly<Record<string, MetricScalar>>): MemoryFigures {
  return {
    measured: num(m[MEMORY_METRICS.measured]) ?? num(m.peakTensorBytes),
    measuredRuntime: str(m[MEMORY_METRICS.measuredRuntime]),
    planned: num(m[MEMORY_METRICS.planned]),
    plannedRuntime: str(m[MEMORY_METRICS.plannedRuntime]),
  };
}

const RUNTIME_NAMES: Record<string, string> = { 'onnxruntime-cpu': 'ONNX Runtime (CPU)', tfjs: 'TensorFlow.js' };

export function runtimeName(r: string | null): string {
  return r === null ? 'an unrecorded runtime' : (RUNTIME_NAMES[r] ?? r);
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

export function compareMemory(f: MemoryFigures): MemoryComparison {
  const both = f.measured !== null && f.planned !== null && f.measured > 0;
  const comparable = both && f.measuredRuntime !== null && f.measuredRuntime === f.plannedRuntime;
  const gap = comparable ? (f.planned! - f.measured!) / f.measured! : null;
  const warn = gap !== null && Math.abs(gap) > MEMORY_GAP_WARN;
  let note: string | null = null;
  if (warn) note = `planned ${mib(f.planned!)} vs measured ${mib(f.measured!)}: ${gap! > 0 ? '+' : ''}${(gap! * 100).toFixed(0)}%, more than ${MEMORY_GAP_WARN * 100}% apart`;
  else if (both && !comparable) note = `not comparable: planned for ${runtimeName(f.plannedRuntime)}, measured on ${runtimeName(f.measuredRuntime)}`;
  return { ...f, comparable, gap, warn, note };
}

/** What each figure includes, for a tooltip or a footnote. */
export const MEMORY_INCLUDES = {
  planned:
    'Planned (ONNX Runtime, CPU; memory/ort-plan.ts) for the run\'s own training graph: frozen weights in their stored precision (f32, or NF4 codes + absmax with f16 embedding and lm_head), LoRA parameters fed each step, the token batch and dropout masks, the step\'s peak of activations the backward keeps, attention and logits buffers and gradients (recomputation under checkpointing), host AdamW (working copy, gradients, m, v) and the runtime\'s own (a fixed part and a part per graph node, fitted to measurements: docs/memory.md).',
  measured: {
    'onnxruntime-cpu':
      'Measured (ONNX Runtime, CPU): a fresh process trains 2 steps of the same graph (shapes, storage, LoRA, batch, checkpointing, threads) on random weights; its peak resident size above the same process idle with ONNX Runtime loaded. Everything the planned figure counts, as the OS sees it.',
    tfjs: 'Measured (TensorFlow.js): the peak of live tensor bytes during training (f32 base, LoRA, AdamW states, activations, gradients) plus NF4 host arrays; no runtime overhead, so not comparable with the ONNX Runtime plan.',
  } as Record<string, string>,
  unrecorded: 'Recorded without its runtime (an older run): planned and measured may model different things.',
};

/** What each of one node's figures includes (the chart's tooltip, the report's footnote). */
export function memoryIncludes(f: MemoryFigures): { planned: string; measured: string } {
  const measured = f.measuredRuntime ? (MEMORY_INCLUDES.measured[f.measuredRuntime] ?? MEMORY_INCLUDES.unrecorded) : MEMORY_INCLUDES.unrecorded;
  return { planned: f.plannedRuntime === 'onnxruntime-cpu' ? MEMORY_INCLUDES.planned : MEMORY_INCLUDES.unrecorded, measured };
}
