/**
 * How a branch is drawn in every chart: colour by pruning strategy, dashes (lines) or stripes (bars) for the
 * ablations, grey for baselines; so 17 or 40 branches stay readable and the same branch looks the same everywhere.
 */
export interface BranchStyle {
  color: string;
  /** SVG stroke-dasharray for lines; undefined for a solid line. */
  dash?: string;
  /** Ablations (w/o alignment, w/o recovery) and baselines are drawn lighter. */
  kind: 'variant' | 'ablation' | 'baseline';
}

const STRATEGIES: [RegExp, string][] = [
  [/qloram/i, '#b46cf5'],
  [/rand/i, '#4c8dff'],
  [/stru/i, '#22b07d'],
  [/semi/i, '#f0a020'],
  [/unst/i, '#e5604d'],
];
const FALLBACK = ['#2ec4d6', '#d6a02e', '#ff7eb6', '#6fdc8c', '#8a93a3'];

export function branchStyle(label: string, index = 0): BranchStyle {
  const baseline = /untuned|baseline|\+ LoRA|full model|small \+/i.test(label) && !/loram/i.test(label);
  const color = baseline ? '#8a93a3' : (STRATEGIES.find(([re]) => re.test(label))?.[1] ?? FALLBACK[index % FALLBACK.length]!);
  if (baseline) return { color, dash: '2 3', kind: 'baseline' };
  if (/w\/o recovery/i.test(label)) return { color, dash: '6 3', kind: 'ablation' };
  if (/w\/o alignment|no alignment/i.test(label)) return { color, dash: '2 2', kind: 'ablation' };
  return { color, kind: 'variant' };
}
