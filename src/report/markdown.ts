/** The report as Markdown: tables and Mermaid `xychart-beta` charts (render on GitHub and in most viewers). */
import { downstreamLines, fmtDuration, fmtPct, lossCurves, MC_DESIGN, memoryTable, offlineSeconds, tableRows, verdictMark } from './format';
import type { ReportModel } from './types';

/** Mermaid strings: no double quotes or brackets that would end the token. */
const q = (s: string) => `"${s.replace(/["\[\]]/g, "'")}"`;
const n = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(5).replace(/\.?0+$/, ''));

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function table(header: string[], rows: string[][]): string {
  return [`| ${header.map(mdCell).join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`)].join('\n');
}

function barChart(title: string, axis: string, labels: string[], series: number[][], lines: number[][] = [], yMin = 0): string {
  const all = [...series.flat(), ...lines.flat()].filter((x) => Number.isFinite(x));
  const max = all.length ? Math.max(...all) : 1;
  const top = max > 0 ? Number((max * 1.1).toPrecision(2)) : 1;
  return [
    '```mermaid',
    'xychart-beta horizontal',
    `    title ${q(title)}`,
    `    x-axis [${labels.map(q).join(', ')}]`,
    `    y-axis ${q(axis)} ${n(yMin)} --> ${n(top)}`,
    ...series.map((s) => `    bar [${s.map((x) => n(Number.isFinite(x) ? x : 0)).join(', ')}]`),
    ...lines.map((s) => `    line [${s.map((x) => n(x)).join(', ')}]`),
    '```',
  ].join('\n');
}

function runSection(m: ReportModel): string[] {
  const out = [`# ${m.title}`, ''];
  if (m.description) out.push(m.description, '');
  const counts = Object.entries(m.counts).map(([k, v]) => `${v} ${k}`).join(', ');
  out.push(
    `Run \`${m.runId}\` — ${m.status}${m.startedAt ? `, started ${new Date(m.startedAt).toISOString()}` : ''}; wall time ${fmtDuration(m.wallSeconds)}` +
      `${m.computeSeconds !== null ? ` (the nodes' own compute time, cached ones included: ${fmtDuration(m.computeSeconds)})` : ''}; nodes: ${counts || '—'}.` +
      `${m.backend ? ` Evaluation runtime: ${m.backend}.` : ''}${m.commit ? ` Code: commit ${m.commit}.` : ''}`,
    '',
    'Reproduce this run (cached artifacts are reused; from an empty LORAM_HOME everything is recomputed):',
    '',
    '```sh',
    m.commands.reproduce,
    `npx loram report ${m.runId}`,
    '```',
    '',
    `From scratch, ignoring any cache: \`${m.commands.fromScratch}\`.`,
    '',
  );
  return out;
}

function verdictSection(m: ReportModel): string[] {
  return ['## Verdict', '', m.verdict.headline, '', ...m.verdict.standings.slice(1).map((st) => `- ${st.text}`), ...m.verdict.gains.map((g) => `- ${g}`), ''];
}

function claimsSection(m: ReportModel): string[] {
  const out = ['## The paper\'s claims at this scale', ''];
  out.push(`Every line below is computed from this run's numbers. Perplexities within ${(m.pplTolerance * 100).toFixed(1)}% count as a tie (not shown); accuracy and exact-match differences are reported with a 2-standard-error margin and do not decide a verdict.`, '');
  for (const c of m.claims) {
    out.push(`### ${verdictMark(c.verdict)} — ${c.paper}`, '', c.statement, '');
    for (const x of c.comparisons) out.push(`- ${x.text}`);
    if (c.note) out.push('', `_${c.note}_`);
    out.push('');
  }
  if (m.notes.length) out.push(...m.notes.map((s) => `- ${s}`), '');
  return out;
}

function comparisonSection(m: ReportModel): string[] {
  const t = tableRows(m);
  const out = ['## Comparison', '', table(t.header, t.rows), ''];
  if (m.heldOut) out.push(`Held-out perplexity: ${m.heldOut}. Multiple choice: ${m.mc ? `${m.mc.testItems ?? '?'} items` : 'not measured'}.${m.downstream ? ` Task exact match: ${m.downstream.items ?? '?'} items of ${m.downstream.source}.` : ''}`, '');
  return out;
}

function evaluationCharts(m: ReportModel): string[] {
  const out: string[] = [];
  const withPpl = m.branches.filter((b) => b.perplexity !== null);
  if (withPpl.length) {
    out.push('## Held-out perplexity', '');
    out.push(barChart('Held-out domain perplexity (lower is better)', 'perplexity', withPpl.map((b) => b.short), [withPpl.map((b) => b.perplexity!)]), '');
  }
  const withAcc = m.branches.filter((b) => b.accuracy !== null);
  if (withAcc.length) {
    out.push('## Multiple-choice accuracy', '');
    const chance = m.mc?.chance ?? null;
    out.push(barChart('Multiple-choice accuracy, % (bars: acc, then acc_norm; line: chance)', 'accuracy %', withAcc.map((b) => b.short), [withAcc.map((b) => b.accuracy! * 100), withAcc.map((b) => (b.accuracyNorm ?? 0) * 100)], chance !== null ? [withAcc.map(() => chance * 100)] : []), '');
  }
  const withEm = m.branches.filter((b) => b.exactMatch !== null);
  if (withEm.length) {
    out.push('## Downstream task: exact match', '');
    out.push(barChart(`Exact match on ${m.downstream?.source ?? 'the task'}, % (higher is better)`, 'exact match %', withEm.map((b) => b.short), [withEm.map((b) => b.exactMatch! * 100)]), '');
  }
  return out;
}

function trainingCharts(m: ReportModel): string[] {
  const out: string[] = [];
  const trained = m.branches.filter((b) => b.train && (b.role !== 'no-recovery'));
  if (trained.some((b) => b.train!.memoryMeasured !== null || b.train!.memoryPlanned !== null)) {
    const t = memoryTable(trained);
    out.push('## Training memory: planned vs measured', '');
    out.push(barChart('LoRA training memory, MiB (bars: measured, then planned)', 'MiB', trained.map((b) => b.short), [trained.map((b) => (b.train!.memoryMeasured ?? NaN) / 2 ** 20), trained.map((b) => (b.train!.memoryPlanned ?? NaN) / 2 ** 20)]), '');
    out.push(table(t.header, t.rows), '');
    if (t.warnings.length) out.push(...t.warnings.map((w) => `- ${w}`), '');
    for (const i of t.includes) out.push(`*${i}*`, '');
  }
  if (trained.some((b) => b.train!.seconds !== null)) {
    out.push('## Training time', '');
    out.push(barChart('LoRA training time, s (bars: LoRA training, then offline prune + align)', 'seconds', trained.map((b) => b.short), [trained.map((b) => b.train!.seconds ?? NaN), trained.map((b) => offlineSeconds(b) ?? 0)]), '');
  }
  return out;
}

function lossChart(m: ReportModel): string[] {
  const curves = lossCurves(m);
  if (!curves.length) return [];
  const maxStep = Math.max(...curves.map((c) => c.x[c.x.length - 1]!));
  const points = Math.min(40, maxStep);
  const grid = Array.from({ length: points }, (_, i) => Math.round(1 + ((maxStep - 1) * i) / Math.max(1, points - 1)));
  const at = (c: (typeof curves)[number], step: number) => {
    let k = c.x.findIndex((x) => x >= step);
    if (k < 0) k = c.x.length - 1;
    return c.y[k]!;
  };
  const ys = curves.flatMap((c) => c.y);
  return [
    '## LoRA training loss',
    '',
    '```mermaid',
    'xychart-beta',
    `    title ${q('LoRA training loss (smoothed)')}`,
    `    x-axis ${q('step')} ${grid[0]} --> ${grid[grid.length - 1]}`,
    `    y-axis ${q('loss')} ${n(Number((Math.min(...ys) * 0.95).toPrecision(2)))} --> ${n(Number((Math.max(...ys) * 1.02).toPrecision(3)))}`,
    ...curves.map((c) => `    line [${grid.map((s) => n(Number(at(c, s).toFixed(4)))).join(', ')}]`),
    '```',
    '',
    `Lines, in order: ${curves.map((c, i) => `${i + 1}. ${c.name}`).join('; ')}. Final losses are in the table above.`,
    '',
  ];
}

function dataSection(m: ReportModel): string[] {
  const out = ['## The held-out data and the multiple-choice set', ''];
  if (m.heldOut) out.push(`- Perplexity is measured on ${m.heldOut}; the fine-tuning domain was never in the base models' pretraining data.`);
  for (const d of downstreamLines(m)) out.push(`- ${d}`);
  const mc = m.mc;
  if (mc) {
    out.push(`- Multiple choice: ${mc.source}; ${mc.testItems ?? '?'} test items.`);
    for (const d of MC_DESIGN) out.push(`- ${d}`);
    if (mc.chance !== null) {
      out.push(`- Chance level: ${fmtPct(mc.chance)}${mc.styleOnlyCeiling !== null && mc.generalDistractors ? `; a model that only recognises the domain's style (rejects the ${mc.generalDistractors} general-text distractor${mc.generalDistractors > 1 ? 's' : ''} but ignores the context) scores at most ${fmtPct(mc.styleOnlyCeiling)}` : ''}. With ${mc.testItems ?? '?'} items one standard error is about ±${mc.testItems ? ((Math.sqrt(0.25 / mc.testItems)) * 100).toFixed(1) : '?'} points.`);
    }
    const l = mc.leakage;
    if (l) out.push(l.checked ? `- Leakage check: the items come from ${l.itemDocs} documents (contexts, answers and same-domain distractors); ${l.overlap.length === 0 ? `none of them is among the ${l.trainDocs} training documents.` : `${l.overlap.length} of them ARE training documents: ${l.overlap.join(', ')}.`}` : '- Leakage check: not done (the dataset artifacts could not be read).');
  }
  out.push('');
  return out;
}

export function renderMarkdown(m: ReportModel): string {
  return [
    ...runSection(m),
    ...verdictSection(m),
    ...claimsSection(m),
    ...comparisonSection(m),
    ...evaluationCharts(m),
    ...trainingCharts(m),
    ...lossChart(m),
    ...dataSection(m),
  ].join('\n');
}
