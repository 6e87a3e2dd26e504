/**
 * The training benchmark's vocabulary: the two model shapes of issue 10, the LoRA settings every backend uses,
 * one result row per (shape, backend, threads), and the backend interface the registry (backends.ts) lists.
 * Pure data: no tfjs / onnxruntime import, so the CLI can validate arguments without loading an engine.
 */

export const SHAPE_NAMES = ['tiny', 'smollm2-135m'] as const;
export type ShapeName = (typeof SHAPE_NAMES)[number];

/** Backends of the registry; `torch` is the PyTorch peer (bench/train/torch_peer.py), a column of run.ts only. */
export const TRAIN_BACKEND_NAMES = ['ort', 'tfjs'] as const;
export type TrainBackendName = (typeof TRAIN_BACKEND_NAMES)[number];

export interface TrainShape {
  name: ShapeName;
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  intermediate: number;
  vocab: number;
  tied: boolean;
  batch: number;
  seq: number;
}

/** Random-weight LLaMA decoders (RMSNorm, RoPE, GQA, SwiGLU), fp32. torch_peer.py holds the same table. */
export const SHAPES: Readonly<Record<ShapeName, TrainShape>> = {
  tiny: { name: 'tiny', layers: 4, hidden: 128, heads: 4, kvHeads: 4, intermediate: 344, vocab: 256, tied: false, batch: 8, seq: 64 },
  'smollm2-135m': { name: 'smollm2-135m', layers: 30, hidden: 576, heads: 9, kvHeads: 3, intermediate: 1536, vocab: 49152, tied: true, batch: 1, seq: 128 },
};

/** LoRA as issue 10 measures it: r 8, α 16, dropout 0 on the seven decoder projections; AdamW on A and B. */
export const BENCH_LORA = {
  r: 8,
  alpha: 16,
  dropout: 0,
  targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
} as const;

/** Optimiser settings shared by every backend (and the torch peer): AdamW, lr 1e-4, no decay, clip 1.0. */
export const BENCH_OPTIM = { lr: 1e-4, weightDecay: 0, maxGradNorm: 1.0 } as const;

export interface MeasureOpts {
  /** Measured steps (the median is reported); at least 5 for published numbers. */
  steps: number;
  /** Unmeasured steps first. */
  warmup: number;
  /** Seed of the weights and of the token batch. */
  seed: number;
}

export const DEFAULT_MEASURE: Readonly<MeasureOpts> = { steps: 5, warmup: 2, seed: 1 };

/** One measurement: medians in ms, the process's peak resident set size in bytes. */
export interface Row {
  shape: ShapeName;
  backend: TrainBackendName | 'torch';
  /** The engine underneath: a tfjs backend (wasm, tensorflow, …), an ORT execution provider, or torch's device. */
  provider: string;
  threads: number;
  /** Forward + loss + backward + clipping + AdamW on LoRA A/B, frozen base. null: it could not run (see notes). */
  loraStepMs: number | null;
  /** The same with every weight but the embedding and lm_head trained (Align). null: it could not run. */
  fullStepMs: number | null;
  /** Forward + loss, no gradients. null: it could not run. */
  forwardMs: number | null;
  /** Input tokens per step (batch × sequence). */
  tokens: number;
  peakRssBytes: number;
  steps?: number;
  warmup?: number;
  notes?: string[];
}

export interface TrainBackend {
  name: TrainBackendName;
  /** Runs in a fresh process per call (see spawn.ts), so peakRssBytes is this measurement's alone. */
  measure(shape: TrainShape, threads: number, opts: MeasureOpts): Promise<Row>;
}

/** `f`'s result, or null and a note saying why it failed (e.g. out of memory), so the other numbers survive. */
export async function attempt<T>(what: string, notes: string[], f: () => Promise<T>): Promise<T | null> {
  try {
    return await f();
  } catch (e) {
    notes.push(`${what} failed: ${(e instanceof Error ? `${e.name}: ${e.message}` : String(e)).split('\n')[0]}`);
    return null;
  }
}

/** Median of the values after the first `skip` (the warm-up). */
export function medianAfter(values: readonly number[], skip: number): number {
  const v = values.slice(skip).sort((a, b) => a - b);
  if (v.length === 0) throw new Error(`no measured values (${values.length} in all, ${skip} warm-up)`);
  return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
}

/** This process's peak resident set size in bytes (getrusage maxrss, which Node reports in KiB). */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}
