/**
 * The verdict of a comparison: per metric the winning variant and the variants tied with it within noise, and how
 * much the variants beat each baseline. The same function feeds `loram report` (Markdown / HTML) and the editor's
 * Compare view, so both say the same thing in the same words.
 *
 * Noise rules (the report's): perplexity within `pplTolerance` (relative, 0.5% by default) is a tie; accuracy and
 * task exact match within 2 standard errors (√(se_a² + se_b²)); measured memory within 1%; training time within 5% (time on a
 * shared machine varies by a few percent between identical runs). Baselines (untuned or plain LoRA models) are
 * what the variants are measured against: they are never ranked.
 */
import type { Branch, BranchRole, ReportVerdict, Standing } from './types';

const BASELINES: readonly BranchRole[] = ['untuned-large', 'untuned-small', 'lora-large', 'lora-small'];
export const MEMORY_TIE = 0.01;
export const TIME_TIE = 0.05;

export const isBaseline = (b: Pick<Branch, 'role'>): boolean => BASELINES.includes(b.role);
const usable = (b: Branch) => b.status !== 'failed' && b.status !== 'skipped' && b.status !== 'missing';

interface MetricRule {
  metric: Standing['metric'];
  title: string;
  lowerIsBetter: boolean;
  value: (b: Branch) => number | null;
  /** True when `b` is within noise of the winner `w`. */
  tie: (b: Branch, w: Branch) => boolean;
  fmt: (x: number) => string;
  noise: string;
}

/** A proportion (higher is better) whose ties are within 2 standard errors. */
function score(metric: Standing['metric'], title: string, value: (b: Branch) => number | null, se: (b: Branch) => number | null): MetricRule {
  return {
    metric,
    title,
    lowerIsBetter: false,
    value,
    tie: (b, w) => Math.abs(value(b)! - value(w)!) <= 2 * Math.sqrt((se(b) ?? 0) ** 2 + (se(w) ?? 0) ** 2),
    fmt: (x) => `${(x * 100).toFixed(1)}%`,
    noise: '2 standard errors',
  };
}

function rules(pplTolerance: number): MetricRule[] {
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b || 1);
  return [
    { metric: 'perplexity', title: 'held-out perplexity', lowerIsBetter: true, value: (b) => b.perplexity, tie: (b, w) => rel(b.perplexity!, w.perplexity!) < pplTolerance, fmt: (x) => (x >= 100 ? x.toFixed(1) : x.toFixed(2)), noise: `${(pplTolerance * 100).toFixed(1)}%` },
    score('accuracy', 'multiple-choice accuracy', (b) => b.accuracy, (b) => b.accuracyStderr),
    score('exactMatch', 'task exact match', (b) => b.exactMatch, (b) => b.exactMatchStderr),
    { metric: 'memory', title: 'measured training memory', lowerIsBetter: true, value: (b) => b.train?.memoryMeasured ?? null, tie: (b, w) => rel(b.train!.memoryMeasured!, w.train!.memoryMeasured!) < MEMORY_TIE, fmt: (x) => `${(x / 2 ** 20).toFixed(1)} MiB`, noise: '1%' },
    { metric: 'time', title: 'LoRA training time', lowerIsBetter: true, value: (b) => b.train?.seconds ?? null, tie: (b, w) => rel(b.train!.seconds!, w.train!.seconds!) < TIME_TIE, fmt: (x) => `${x.toFixed(1)} s`, noise: '5%' },
  ];
}

function standing(rule: MetricRule, variants: readonly Branch[]): Standing {
  const measured = variants.filter((b) => {
    const v = rule.value(b);
    return v !== null && Number.isFinite(v);
  });
  const base = { metric: rule.metric, title: rule.title, lowerIsBetter: rule.lowerIsBetter };
  if (measured.length === 0) return { ...base, winner: null, tied: [], text: `${cap(rule.title)}: not measured.` };
  const w = measured.reduce((x, y) => ((rule.lowerIsBetter ? rule.value(y)! < rule.value(x)! : rule.value(y)! > rule.value(x)!) ? y : x));
  const tied = measured.filter((b) => b === w || rule.tie(b, w));
  const others = tied.filter((b) => b !== w).map((b) => b.label);
  const head = `${cap(rule.title)}: ${w.label} is best (${rule.fmt(rule.value(w)!)})`;
  const text =
    measured.length === 1
      ? `${head}; the only variant measured.`
      : tied.length === measured.length
        ? `${head}, but all ${measured.length} variants are within ${rule.noise} of it: a tie.`
        : others.length
          ? `${head}; tied within ${rule.noise}: ${others.join(', ')}.`
          : `${head}, ahead of every other variant by more than ${rule.noise}.`;
  return { ...base, winner: w.label, tied: tied.map((b) => b.label), text };
}

function gainLine(baseline: Branch, variants: readonly Branch[]): string | null {
  if (baseline.perplexity === null) return null;
  const gains = variants.filter((b) => b.perplexity !== null).map((b) => ({ b, g: (baseline.perplexity! - b.perplexity!) / baseline.perplexity! }));
  if (!gains.length) return null;
  const lo = Math.min(...gains.map((x) => x.g));
  const hi = Math.max(...gains.map((x) => x.g));
  const mags = [Math.abs(lo), Math.abs(hi)].sort((a, b) => a - b).map((x) => (x * 100).toFixed(1));
  const range = gains.length === 1 || mags[0] === mags[1] ? `${mags[1]}%` : `${mags[0]}–${mags[1]}%`;
  if (lo > 0) return `${gains.length === 1 ? gains[0]!.b.label : `Every variant (${gains.length})`} beats ${baseline.label} (baseline): ${range} lower perplexity.`;
  if (hi < 0) return `No variant beats ${baseline.label} (baseline): ${range} higher perplexity.`;
  return `${gains.filter((x) => x.g > 0).length} of ${gains.length} variants beat ${baseline.label} (baseline) on perplexity.`;
}

/** Exact-match gain over a baseline, counted beyond 2 standard errors (a proportion's noise, not a relative tie). */
function exactMatchGainLine(baseline: Branch, variants: readonly Branch[]): string | null {
  if (baseline.exactMatch === null) return null;
  const diffs = variants.filter((b) => b.exactMatch !== null).map((b) => ({ b, d: b.exactMatch! - baseline.exactMatch!, se: Math.hypot(b.exactMatchStderr ?? 0, baseline.exactMatchStderr ?? 0) }));
  if (!diffs.length) return null;
  const pts = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}`;
  const lo = Math.min(...diffs.map((x) => x.d));
  const hi = Math.max(...diffs.map((x) => x.d));
  const range = lo === hi ? `${pts(lo)} points` : `${pts(lo)} to ${pts(hi)} points`;
  const beyond = diffs.filter((x) => x.d > 2 * x.se).length;
  const who = diffs.length === 1 ? diffs[0]!.b.label : `Every variant (${diffs.length})`;
  if (beyond === diffs.length) return `${who} beats ${baseline.label} (baseline) on task exact match beyond 2 standard errors: ${range}.`;
  return `${beyond} of ${diffs.length} variant${diffs.length > 1 ? 's' : ''} beat${diffs.length > 1 ? '' : 's'} ${baseline.label} (baseline) on task exact match beyond 2 standard errors (${range}).`;
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The verdict of a comparison's branches. Variants: every branch that is not a baseline; LoRAM branches lead the gains. */
export function computeVerdict(branches: readonly Branch[], pplTolerance: number): ReportVerdict {
  const ok = branches.filter(usable);
  const variants = ok.filter((b) => !isBaseline(b));
  const baselines = ok.filter(isBaseline);
  const standings = rules(pplTolerance).map((r) => standing(r, variants));
  const main = variants.filter((b) => b.role === 'loram');
  const ranked = main.length ? main : variants;
  const gains = baselines.flatMap((b) => [gainLine(b, ranked), exactMatchGainLine(b, ranked)]).filter((x): x is string => x !== null);
  // The headline is the first metric measured (perplexity, else accuracy, else exact match…), listed first.
  const lead = standings.findIndex((s) => s.winner !== null);
  if (lead > 0) standings.unshift(...standings.splice(lead, 1));
  const headline = lead < 0 ? 'No variant has a perplexity, an accuracy or an exact match to compare.' : standings[0]!.text;
  return { headline, standings, gains, baselines: branches.filter(isBaseline).map((b) => b.label) };
}
