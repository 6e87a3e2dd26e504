/**
 * The rows of bench/loram-memory and what the child process and the planner share about them: the preset shape,
 * the pruned config (the planner's kept layer sizes — the same function the Prune node uses), the LoRA setting.
 * Pure data and the model config: no onnxruntime import.
 */
import type { LlamaConfig, LoraTarget } from '../../src/loram/model/config';
import { LORA_TARGETS } from '../../src/loram/model/config';
import { keptLayerSizes } from '../../src/loram/memory/planner';
import { isPresetName, presetConfig, type PresetName } from '../../src/loram/memory/presets';
import type { OrtPlanInput } from '../../src/loram/memory/ort-plan';
import type { StepMeasurement } from '../../src/loram/memory/measure-steps';

/** Shapes the bench runs (any preset works; these are the acceptance shapes). */
export const MEMORY_SHAPES = ['smollm2-135m', 'tinyllama-1.1b'] as const;

export const VARIANTS = ['lora', 'rand', 'stru'] as const;
export type Variant = (typeof VARIANTS)[number];

/** LoRA as the paper trains it (§4): r 8, α 16 on the seven projections and lm_head; dropout 0 (no masks fed). */
export const BENCH_MEMORY_LORA: { r: number; alpha: number; dropout: number; targetModules: readonly LoraTarget[] } = { r: 8, alpha: 16, dropout: 0, targetModules: LORA_TARGETS };

export interface RowSpec {
  shape: PresetName;
  /** lora = LoRA on the full model; rand / stru = LoRAM with that pruning (same kept sizes on random weights). */
  variant: Variant;
  ratio: number;
  quant: 'none' | 'nf4';
  checkpointing: boolean;
  batch: number;
  seq: number;
  rank: number;
  steps: number;
  threads: number;
}

/** What child.ts prints: the row and its measurement (memory/measure-steps.ts). */
export type ChildRow = RowSpec & StepMeasurement;

/** The row's model config: the preset, with the kept sizes of structured pruning at `ratio` (default layer range). */
export function benchRowConfig(row: Pick<RowSpec, 'shape' | 'variant' | 'ratio'>): LlamaConfig {
  const cfg = presetConfig(row.shape);
  if (row.variant !== 'lora') cfg.layers = keptLayerSizes(cfg, row.ratio);
  return cfg;
}

export function rowName(r: Pick<RowSpec, 'variant' | 'ratio' | 'quant'>): string {
  if (r.variant === 'lora') return r.quant === 'nf4' ? 'QLoRA (full model)' : 'LoRA (full model)';
  return `${r.quant === 'nf4' ? 'QLoRAM' : 'LoRAM'}-${r.variant === 'rand' ? 'Rand' : 'Stru'}`;
}

export function rowArgv(r: RowSpec): string[] {
  return [
    '--shape', r.shape, '--variant', r.variant, '--ratio', String(r.ratio), '--quant', r.quant,
    ...(r.checkpointing ? ['--checkpointing'] : []),
    '--batch', String(r.batch), '--seq', String(r.seq), '--rank', String(r.rank), '--steps', String(r.steps), '--threads', String(r.threads),
  ];
}

function int(v: string | undefined, d: number, what: string): number {
  const n = v === undefined ? d : Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${what} must be a positive integer, got ${v}`);
  return n;
}

export function parseRowArgs(v: Record<string, string | boolean | undefined>): RowSpec {
  const shape = String(v.shape ?? '');
  if (!isPresetName(shape)) throw new Error(`--shape must be a model preset, got "${shape}"`);
  const variant = String(v.variant ?? 'lora') as Variant;
  if (!VARIANTS.includes(variant)) throw new Error(`--variant must be one of ${VARIANTS.join(', ')}`);
  const ratio = variant === 'lora' ? 0 : Number(v.ratio);
  if (!(ratio >= 0 && ratio < 1)) throw new Error(`--ratio must be in [0, 1), got ${v.ratio}`);
  const quant = (v.quant ?? 'none') as RowSpec['quant'];
  if (quant !== 'none' && quant !== 'nf4') throw new Error('--quant must be none or nf4');
  return {
    shape,
    variant,
    ratio,
    quant,
    checkpointing: !!v.checkpointing,
    batch: int(v.batch as string | undefined, 1, 'batch'),
    seq: int(v.seq as string | undefined, 256, 'seq'),
    rank: int(v.rank as string | undefined, 8, 'rank'),
    steps: int(v.steps as string | undefined, 2, 'steps'),
    threads: int(v.threads as string | undefined, 2, 'threads'),
  };
}

/** A row's settings as the planner's input (one mapping for the bench's planned column and the profile replay). */
export function planInputFor(spec: Pick<RowSpec, 'shape' | 'variant' | 'ratio' | 'quant' | 'checkpointing' | 'batch' | 'seq' | 'rank'>): OrtPlanInput {
  return {
    model: spec.shape,
    strategy: spec.variant === 'lora' ? 'none' : spec.variant,
    ratio: spec.ratio,
    quant: spec.quant,
    lora: { rank: spec.rank, alpha: BENCH_MEMORY_LORA.alpha, dropout: BENCH_MEMORY_LORA.dropout, targets: BENCH_MEMORY_LORA.targetModules },
    batch: spec.batch,
    seqLen: spec.seq,
    checkpointing: spec.checkpointing,
  };
}
