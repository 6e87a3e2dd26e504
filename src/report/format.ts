/** Shared formatting and chart data for the Markdown and HTML renderers. */
import { fmtBytes } from './claims';
import { compareMemory, memoryIncludes, runtimeName, type MemoryComparison } from '../shared';
import type { Branch, ReportModel, TrainInfo } from './types';

export { fmtBytes };

export const ROLE_TITLE: Record<Branch['role'], string> = {
  loram: 'LoRAM (recovered, on the original)',
  'no-alignment': 'ablation: w/o alignment',
  'no-recovery': 'ablation: w/o recovery (pruned model + its adapter)',
  'untuned-large': 'baseline: untuned large',
  'untuned-small': 'baseline: untuned small',
  'lora-large': 'baseline: LoRA on the full large model',
  'lora-small': 'baseline: LoRA on the small model',
  other: 'other',
};

export const fmtPpl = (x: number | null) => (x === null ? '—' : x >= 100 ? x.toFixed(1) : x.toFixed(2));
export const fmtPct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
export const fmtSec = (x: number | null) => (x === null ? '—' : x >= 100 ? `${x.toFixed(0)} s` : `${x.toFixed(1)} s`);
export const fmtMiB = (x: number | null) => (x === null ? '—' : `${(x / 2 ** 20).toFixed(1)}`);
export const fmtCount = (x: number | null) => (x === null ? '—' : x.toLocaleString('en-US'));

export function fmtDuration(s: number | null): string {
  if (s === null) return '—';
  if (s < 90) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

export function offlineSeconds(b: Branch): number | null {
  const parts = [b.offline.prune, b.offline.align, b.offline.quantize].filter((x): x is number => x !== null);
  return parts.length ? parts.reduce((a, c) => a + c, 0) : null;
}

/** Planned vs measured training memory of one branch (shared/memory.ts). */
export function branchMemory(t: TrainInfo): MemoryComparison {
  return compareMemory({ measured: t.memoryMeasured, measuredRuntime: t.memoryMeasuredRuntime, planned: t.memoryPlanned, plannedRuntime: t.memoryPlannedRuntime });
}

/**
 * The training-memory table: measured next to planned, their gap when both are for the same runtime; a warning
 * line for each gap over 10% (or figures for different runtimes); what each figure includes, once per kind.
 */
export function memoryTable(trained: readonly Branch[]): { header: string[]; rows: string[][]; warnings: string[]; includes: string[] } {
  const rows: string[][] = [];
  const warnings: string[] = [];
  const includes = new Set<string>();
  for (const b of trained) {
    const c = branchMemory(b.train!);
    const gap = c.gap === null ? (c.note ? 'not comparable' : '—') : `${c.gap > 0 ? '+' : ''}${(c.gap * 100).toFixed(1)}%${c.warn ? ' ⚠' : ''}`;
    const runtime = c.measuredRuntime === c.plannedRuntime ? runtimeName(c.measuredRuntime) : `planned: ${runtimeName(c.plannedRuntime)}; measured: ${runtimeName(c.measuredRuntime)}`;
    rows.push([b.short, c.measured === null ? '—' : fmtBytes(c.measured), c.planned === null ? '—' : fmtBytes(c.planned), gap, runtime, b.train!.baseParams?.toLocaleString('en-US') ?? '—']);
    if (c.note) warnings.push(`${c.warn ? '⚠ ' : ''}${b.short}: ${c.note}`);
    const inc = memoryIncludes(c);
    includes.add(inc.planned).add(inc.measured);
  }
  return { header: ['Branch', 'Measured', 'Planned', 'Gap (planned − measured)', 'Runtime', 'Base parameters'], rows, warnings, includes: [...includes] };
}

/** Columns of the comparison table (label, then values already formatted). */
export function tableRows(m: ReportModel): { header: string[]; rows: string[][] } {
  const task = m.branches.some((b) => b.exactMatch !== null || b.answerPerplexity !== null);
  const header = ['Branch', 'Role', 'Held-out ppl ↓', 'MC acc ↑', 'MC acc_norm ↑', 'acc s.e.', ...(task ? ['Task EM ↑', 'EM s.e.', 'Task answer ppl ↓'] : []), 'Train memory measured (MiB)', 'planned (MiB)', 'LoRA train time', 'Offline prep (prune/align)', 'LoRA params', 'Final train loss'];
  const se = (x: number | null) => (x === null ? '—' : `±${(x * 100).toFixed(1)}`);
  const rows = m.branches.map((b) => [
    b.label + (b.status === 'failed' || b.status === 'skipped' || b.status === 'missing' ? ` (${b.status})` : ''),
    ROLE_TITLE[b.role],
    fmtPpl(b.perplexity),
    fmtPct(b.accuracy),
    fmtPct(b.accuracyNorm),
    se(b.accuracyStderr),
    ...(task ? [fmtPct(b.exactMatch), se(b.exactMatchStderr), fmtPpl(b.answerPerplexity)] : []),
    fmtMiB(b.train?.memoryMeasured ?? null),
    fmtMiB(b.train?.memoryPlanned ?? null),
    fmtSec(b.train?.seconds ?? null),
    fmtSec(offlineSeconds(b)),
    fmtCount(b.train?.loraParams ?? null),
    b.train?.finalLoss == null ? '—' : b.train.finalLoss.toFixed(3),
  ]);
  return { header, rows };
}

/** Moving average (centred, window w) for noisy loss curves. */
export function smooth(y: readonly number[], w: number): number[] {
  if (w <= 1) return [...y];
  const h = Math.floor(w / 2);
  return y.map((_, i) => {
    const lo = Math.max(0, i - h);
    const hi = Math.min(y.length, i + h + 1);
    let s = 0;
    for (let k = lo; k < hi; k++) s += y[k]!;
    return s / (hi - lo);
  });
}

/** Curves of trained branches, each deduplicated by training node (ablations share their main branch's adapter). */
export function lossCurves(m: ReportModel): { name: string; node: string; x: number[]; y: number[] }[] {
  const seen = new Set<string>();
  const out: { name: string; node: string; x: number[]; y: number[] }[] = [];
  for (const b of m.branches) {
    const t = b.train;
    if (!t?.loss || seen.has(t.node) || t.loss.x.length === 0) continue;
    seen.add(t.node);
    const w = Math.max(1, Math.round(t.loss.y.length / 25));
    out.push({ name: b.role === 'no-recovery' ? b.short.replace(' w/o recovery', '') : b.short, node: t.node, x: [...t.loss.x], y: smooth(t.loss.y, w) });
  }
  return out;
}

export function verdictMark(v: string): string {
  return v === 'holds' ? '✅ holds' : v === 'partly' ? '◐ partly' : v === 'does not hold' ? '❌ does not hold' : '— not measured';
}

/** How the downstream task was scored and, with a second leg, trained: one sentence per fact. */
export function downstreamLines(m: ReportModel): string[] {
  const d = m.downstream;
  if (!d) return [];
  const out = [`Downstream task: exact match on ${d.items ?? '?'} items of the ${d.split} split of ${d.source} (${d.nShot ?? 0}-shot, greedy decoding with the KV cache${d.maxNewTokens !== null ? `, at most ${d.maxNewTokens} new tokens` : ''}; the answer is extracted by a regex and compared as a string). With n items one standard error is at most ±${d.items ? (Math.sqrt(0.25 / d.items) * 100).toFixed(1) : '?'} points.`];
  if (d.separateLeg) out.push('Each branch\'s exact match comes from a second adapter trained beside its held-out-text one: supervised fine-tuning on the task\'s train split (loss on the answers only), on the same pruned / aligned / quantized model, recovered and evaluated the same way; the untuned baselines are scored as they are. "Task answer ppl" is the perplexity of the test answers given their prompts under that adapter.');
  return out;
}

export const MC_DESIGN = [
  'Each item gives the last words of a passage from a held-out State of the Union address (the test split: no document of it is in the training split) and asks for its true continuation: the first words of the next sentence.',
  'Distractors are sentence openings of the same length from other held-out addresses (same domain: only the context tells them apart) and from a general corpus (tells whether the model has picked up the domain at all). No choice ends in sentence punctuation, so form and length give nothing away; the answer position is balanced over the slots.',
  'Scored by log-likelihood like lm-evaluation-harness: acc takes the choice with the highest total log-likelihood, acc_norm the highest per character.',
];
