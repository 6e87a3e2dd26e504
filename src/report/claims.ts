/**
 * The paper's claims (loram-method.md §9), checked on a run's branches. Every statement is computed from the
 * numbers: nothing here knows what a run "should" show.
 *
 * Perplexity comparisons call two values a tie when they differ by less than `tolerance` (relative); accuracy
 * comparisons are reported with a 2-standard-error margin (√(se_a² + se_b²), unpaired, so conservative) and never
 * decide a verdict on their own.
 */
import { MEMORY_INCLUDES } from '../shared';
import type { Branch, Claim, Comparison, Verdict } from './types';

export const DEFAULT_PPL_TOLERANCE = 0.005;
/** Memory within 1% counts as equal. */
const MEMORY_TOLERANCE = 0.01;

const fmtPpl = (x: number) => (x >= 100 ? x.toFixed(1) : x.toFixed(2));
const fmtPct = (x: number) => `${(x * 100).toFixed(1)}%`;
const signed = (x: number, digits = 1) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;

export function fmtBytes(b: number): string {
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(2)} GiB`;
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(1)} MiB`;
  return `${(b / 2 ** 10).toFixed(0)} KiB`;
}

/** "lower is better" comparison of a (the claimed-better branch) against b. */
function lowerIsBetter(what: string, metric: string, a: number | null, b: number | null, tol: number, fmt: (x: number) => string, bName: string, aName: string): Comparison {
  if (a === null || b === null || !Number.isFinite(a) || !Number.isFinite(b)) {
    return { what, metric, a, b, holds: null, text: `${aName}: ${metric} not measured${a === null ? '' : ` (${fmt(a)})`}${b === null ? ` — ${bName} not measured` : ''}` };
  }
  const rel = (a - b) / b;
  const holds = Math.abs(rel) < tol ? null : rel < 0;
  const how = holds === null ? `a tie (within ${(tol * 100).toFixed(1)}%)` : holds ? 'lower' : 'higher';
  return { what, metric, a, b, holds, text: `${aName}: ${metric} ${fmt(a)} vs ${fmt(b)} for ${bName} (${signed(rel * 100)}%) — ${how}` };
}

/** A proportion of a branch (higher is better) with its standard error, as the claims quote it. */
interface Score {
  metric: 'accuracy' | 'exact match';
  title: string;
  value: (b: Branch) => number | null;
  se: (b: Branch) => number | null;
  extra?: (a: Branch, b: Branch) => string;
}

const ACCURACY: Score = {
  metric: 'accuracy',
  title: 'multiple-choice accuracy',
  value: (b) => b.accuracy,
  se: (b) => b.accuracyStderr,
  extra: (a, b) => (a.accuracyNorm !== null && b.accuracyNorm !== null ? `; acc_norm ${fmtPct(a.accuracyNorm)} vs ${fmtPct(b.accuracyNorm)}` : ''),
};
const EXACT_MATCH: Score = { metric: 'exact match', title: 'task exact match', value: (b) => b.exactMatch, se: (b) => b.exactMatchStderr };

/** a vs b on a score both measured, with a 2-standard-error margin; informative, never deciding a verdict. */
function scoreLine(s: Score, a: Branch, b: Branch): Comparison {
  const what = `${a.label} vs ${b.label}`;
  const [x, y] = [s.value(a)!, s.value(b)!];
  const d = x - y;
  const se = Math.sqrt((s.se(a) ?? 0) ** 2 + (s.se(b) ?? 0) ** 2);
  const significant = se > 0 && Math.abs(d) > 2 * se;
  return {
    what,
    metric: s.metric,
    a: x,
    b: y,
    holds: significant ? d > 0 : null,
    text: `${a.label}: ${s.title} ${fmtPct(x)} vs ${fmtPct(y)} for ${b.label} (${signed(d * 100)} points, 2-s.e. margin ±${(2 * se * 100).toFixed(1)}: ${significant ? (d > 0 ? 'higher' : 'lower') : 'not a significant difference'})${s.extra?.(a, b) ?? ''}`,
  };
}

/** Score lines for the pairs (a, b) that measured the score on both sides (an ablation judged on perplexity only has none). */
function scoreLines(pairs: readonly (readonly [Branch, Branch])[]): Comparison[] {
  return [ACCURACY, EXACT_MATCH].flatMap((s) => pairs.filter(([a, b]) => s.value(a) !== null && s.value(b) !== null).map(([a, b]) => scoreLine(s, a, b)));
}

function verdictOf(cs: readonly Comparison[]): Verdict {
  const measured = cs.filter((c) => c.a !== null && c.b !== null);
  if (measured.length === 0) return 'not measured';
  const yes = measured.filter((c) => c.holds === true).length;
  if (yes === measured.length) return 'holds';
  if (yes === 0) return 'does not hold';
  return 'partly';
}

function names(cs: readonly Comparison[]): string {
  return cs.map((c) => c.what.split(' vs ')[0]).join(', ');
}

/** A sentence from a verdict over per-variant comparisons. */
function summarize(verdict: Verdict, cs: readonly Comparison[], shown: string, notShown: string, needs = 'LoRAM branches and their baseline'): string {
  const measured = cs.filter((c) => c.a !== null && c.b !== null);
  const yes = measured.filter((c) => c.holds === true);
  const no = measured.filter((c) => c.holds !== true);
  switch (verdict) {
    case 'holds':
      return `Shown by this run: ${shown} ${measured.length === 1 ? 'for the one variant compared' : measured.length === 2 ? 'for both' : `for all ${measured.length}`} (${names(yes)}).`;
    case 'partly':
      return `Partly shown: ${shown} for ${yes.length} of ${measured.length} (${names(yes)}); not for ${names(no)}${no.some((c) => c.holds === null) ? ' (ties count as not shown)' : ''}.`;
    case 'does not hold':
      return `Not shown at this scale: ${notShown} (${names(no)}).`;
    default:
      return `Not measured: the run has no branches to compare for this claim (it needs ${needs}).`;
  }
}

/** A branch that ran (not failed or skipped). */
const usable = (b: Branch) => b.status !== 'failed' && b.status !== 'skipped';

export function findRole(branches: readonly Branch[], role: Branch['role']): Branch | undefined {
  return branches.find((b) => b.role === role && usable(b));
}

/** The words of a claim: what the paper says, and the sentences for when this run shows it or does not. */
interface ClaimWording {
  id: string;
  title: string;
  paper: string;
  shown: string;
  notShown: string;
  needs: string;
}

/** Claims 1 and 2: every LoRAM branch has a lower perplexity than one baseline. */
function beatsBaselineClaim(loram: readonly Branch[], base: Branch | undefined, tolerance: number, w: ClaimWording): Claim {
  const cs = base ? loram.map((b) => lowerIsBetter(`${b.label} vs ${base.label}`, 'perplexity', b.perplexity, base.perplexity, tolerance, fmtPpl, base.label, b.label)) : [];
  const verdict = verdictOf(cs);
  const acc = base ? scoreLines(loram.map((b) => [b, base] as const)) : [];
  return { id: w.id, title: w.title, paper: w.paper, verdict, statement: summarize(verdict, cs, w.shown, w.notShown, w.needs), comparisons: [...cs, ...acc] };
}

const BEATS_UNTUNED: ClaimWording = {
  id: 'beats-untuned',
  title: 'LoRAM beats the untuned large model',
  paper: 'LoRAM on the large model beats the untuned large model (Tables 1-3, Figs. 3-5: every LoRAM variant improves on "w/o FT").',
  shown: 'LoRAM (recovered onto the original large model) has a lower held-out domain perplexity than the untuned large model',
  notShown: 'no LoRAM variant has a lower held-out domain perplexity than the untuned large model',
  needs: 'LoRAM branches and an untuned large-model baseline',
};

const BEATS_SMALL_LORA: ClaimWording = {
  id: 'beats-small-lora',
  title: 'LoRAM beats LoRA on the small model',
  paper: 'LoRAM on the large model beats LoRA on the smaller model of the same family (Tables 1-3, Figs. 3-5: "13B LoRAM" > "7B LoRA", "70B QLoRAM" > "13B LoRA").',
  shown: 'LoRAM has a lower held-out domain perplexity than LoRA on the small model',
  notShown: 'no LoRAM variant has a lower held-out domain perplexity than LoRA on the small model',
  needs: 'LoRAM branches and a LoRA-on-the-small-model baseline',
};

/** Claim 3: less training memory than LoRA on the large model; only structured pruning and QLoRAM count. */
function lessMemoryClaim(loram: readonly Branch[], full: Branch | undefined): Claim {
  const structuredish = (b: Branch) => b.strategy === 'rand' || b.strategy === 'stru' || b.quantized;
  const mem = (b: Branch, which: 'memoryMeasured' | 'memoryPlanned') => b.train?.[which] ?? null;
  const measured = full ? loram.map((b) => lowerIsBetter(`${b.label} vs ${full.label}`, 'measured training memory', mem(b, 'memoryMeasured'), mem(full, 'memoryMeasured'), MEMORY_TOLERANCE, fmtBytes, full.label, b.label)) : [];
  const planned = full ? loram.map((b) => lowerIsBetter(`${b.label} vs ${full.label}`, 'planned training memory', mem(b, 'memoryPlanned'), mem(full, 'memoryPlanned'), MEMORY_TOLERANCE, fmtBytes, full.label, b.label)) : [];
  const counted = measured.filter((_, i) => structuredish(loram[i]!));
  const verdict = verdictOf(counted);
  const sparse = loram.filter((b) => !structuredish(b));
  const sparseMeasured = measured.filter((_, i) => !structuredish(loram[i]!));
  const sparseSaves = sparseMeasured.filter((c) => c.holds === true).length;
  return {
    id: 'less-memory',
    title: 'structured LoRAM / QLoRAM train with less memory',
    paper: 'Structured LoRAM (Rand, Stru) and QLoRAM train with less memory than LoRA on the large model (Table 8, §8); non-structured Semi/Unst only reduce parameters "theoretically" (zeros are stored, Table 1 caption).',
    verdict,
    statement:
      summarize(verdict, counted, 'structured LoRAM / QLoRAM used less measured training memory than LoRA on the full large model', 'no structured LoRAM / QLoRAM variant used less measured training memory than LoRA on the full large model', 'structured LoRAM branches and a LoRA-on-the-full-model baseline with memory measured') +
      (sparse.length ? ` Semi/Unst (not counted, as the paper expects no saving): ${sparseSaves} of ${sparse.length} measured lower by more than 1%.` : ''),
    comparisons: [...measured, ...planned],
    note: `${MEMORY_INCLUDES.measured['onnxruntime-cpu']} ${MEMORY_INCLUDES.planned} Branches trained on TensorFlow.js are measured by its tensor counter instead (no runtime overhead). The training-memory section lists each branch's gap between the two.`,
  };
}

const ABLATIONS = [
  [
    'no-recovery',
    'recovery-needed',
    'Removing recovery hurts: inferring with the pruned model and its own adapter ("train small, infer small") is worse than recovering the adapter onto the original (Fig. 6, Fig. 7).',
    'the adapter recovered onto the original large model gives a lower held-out perplexity than the pruned model with its own adapter',
    'in no pair does the adapter recovered onto the original large model give a lower held-out perplexity than the pruned model with its own adapter',
  ],
  [
    'no-alignment',
    'alignment-needed',
    'Removing alignment hurts: LoRAM trained on the pruned but unaligned model is worse (Fig. 6).',
    'LoRAM trained on the aligned pruned model gives a lower held-out perplexity than LoRAM trained without alignment',
    'in no pair does LoRAM trained on the aligned pruned model give a lower held-out perplexity than LoRAM trained without alignment',
  ],
] as const;

/** Claims 4 and 5: each ablation (without recovery, without alignment) is worse than the branch it ablates. */
function ablationClaim(branches: readonly Branch[], [role, id, paper, shown, notShown]: (typeof ABLATIONS)[number], tolerance: number): Claim {
  const pairs = branches.filter((b) => b.role === role && usable(b)).map((abl) => [branches.find((m) => m.node === abl.ablationOf && usable(m)), abl] as const);
  const cs = pairs.filter(([m]) => m).map(([m, abl]) => lowerIsBetter(`${m!.label} vs ${abl.label}`, 'perplexity', m!.perplexity, abl.perplexity, tolerance, fmtPpl, abl.label, m!.label));
  const verdict = verdictOf(cs);
  const acc = scoreLines(pairs.filter(([m]) => m).map(([m, abl]) => [m!, abl] as const));
  return {
    id,
    title: id === 'recovery-needed' ? 'recovery is needed' : 'alignment is needed',
    paper,
    verdict,
    statement: summarize(verdict, cs, shown, notShown, `LoRAM branches and their ${role === 'no-recovery' ? 'w/o-recovery' : 'w/o-alignment'} ablations`),
    comparisons: [...cs, ...acc],
  };
}

export function computeClaims(branches: readonly Branch[], tolerance = DEFAULT_PPL_TOLERANCE): Claim[] {
  const loram = branches.filter((b) => b.role === 'loram' && usable(b));
  return [
    beatsBaselineClaim(loram, findRole(branches, 'untuned-large'), tolerance, BEATS_UNTUNED),
    beatsBaselineClaim(loram, findRole(branches, 'lora-small'), tolerance, BEATS_SMALL_LORA),
    lessMemoryClaim(loram, findRole(branches, 'lora-large')),
    ...ABLATIONS.map((ablation) => ablationClaim(branches, ablation, tolerance)),
  ];
}

/** Context lines that are not claims of the paper but help read the table. */
export function contextNotes(branches: readonly Branch[]): string[] {
  const notes: string[] = [];
  const full = findRole(branches, 'lora-large');
  const untuned = findRole(branches, 'untuned-large');
  const loram = branches.filter((b) => b.role === 'loram' && b.perplexity !== null);
  if (full?.perplexity != null && loram.length) {
    const best = loram.reduce((x, y) => (y.perplexity! < x.perplexity! ? y : x));
    const gapOf = untuned?.perplexity != null ? (untuned.perplexity - best.perplexity!) / (untuned.perplexity - full.perplexity) : null;
    notes.push(
      `Upper bound: LoRA on the full large model reaches perplexity ${fmtPpl(full.perplexity)}; the best LoRAM variant (${best.label}) reaches ${fmtPpl(best.perplexity!)}` +
        (gapOf !== null && Number.isFinite(gapOf) && untuned!.perplexity! > full.perplexity ? `, i.e. ${(gapOf * 100).toFixed(0)}% of the full-LoRA improvement over the untuned model.` : '.'),
    );
  }
  const trained = branches.filter((b) => b.train?.seconds != null);
  if (full?.train?.seconds != null && trained.length > 1) {
    const faster = trained.filter((b) => b.role === 'loram' && b.train!.seconds! < full.train!.seconds!);
    notes.push(`Training time: LoRA on the full large model took ${full.train.seconds.toFixed(0)} s; ${faster.length} of ${trained.filter((b) => b.role === 'loram').length} LoRAM variants trained faster.`);
  }
  return notes;
}
