/**
 * The report as one self-contained HTML file: Chart.js (its UMD build, read from node_modules) and the data are
 * inlined, so the file opens offline and can be mailed around.
 */
import { downstreamLines, fmtDuration, fmtPct, lossCurves, MC_DESIGN, memoryTable, offlineSeconds, ROLE_TITLE, tableRows } from './format';
import type { Branch, ReportModel } from './types';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const ROLE_COLOR: Record<Branch['role'], string> = {
  loram: '#2563eb',
  'no-alignment': '#93c5fd',
  'no-recovery': '#f59e0b',
  'untuned-large': '#6b7280',
  'untuned-small': '#d1d5db',
  'lora-large': '#059669',
  'lora-small': '#a855f7',
  other: '#9ca3af',
};

/** Inline a script: nothing in it may close the <script> element. */
export function inlineScript(js: string): string {
  return js.replace(/<\/script/gi, '<\\/script').replace(/<!--/g, '<\\!--');
}

const STYLE = `  body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1100px; padding: 24px; color: #111827; }
  h1 { font-size: 26px; margin-bottom: 4px; } h2 { margin-top: 36px; border-bottom: 1px solid #e5e7eb; padding-bottom: 4px; }
  code, pre { font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; background: #f3f4f6; border-radius: 4px; }
  pre { padding: 10px 12px; overflow-x: auto; } code { padding: 1px 4px; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; } th, td { border: 1px solid #e5e7eb; padding: 4px 6px; text-align: right; }
  th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) { text-align: left; } th { background: #f9fafb; }
  .claim { border: 1px solid #e5e7eb; border-left: 6px solid #9ca3af; border-radius: 6px; padding: 8px 14px; margin: 12px 0; }
  .claim.holds { border-left-color: #059669; } .claim.partly { border-left-color: #f59e0b; } .claim.does-not-hold { border-left-color: #dc2626; }
  .verdict { font-weight: 700; text-transform: uppercase; font-size: 13px; letter-spacing: .04em; } .holds .verdict { color: #059669; } .partly .verdict { color: #b45309; } .does-not-hold .verdict { color: #dc2626; } .paper { color: #4b5563; margin: 4px 0; } .statement { font-weight: 600; margin: 4px 0; }
  .claim ul { margin: 4px 0; padding-left: 20px; font-size: 13px; } li.yes::marker { color: #059669; } li.no::marker { color: #dc2626; }
  .note { font-size: 13px; color: #6b7280; font-style: italic; } .warn { color: #b45309; font-size: 13px; margin: 2px 0; }
  .chart { position: relative; height: 420px; margin: 12px 0 24px; } .chart.short { height: 340px; }
  .legend span { display: inline-flex; align-items: center; margin-right: 14px; font-size: 13px; } .legend i { width: 12px; height: 12px; border-radius: 2px; margin-right: 5px; display: inline-block; }
  .meta { color: #4b5563; }
`;

function claimSection(c: ReportModel['claims'][number]): string {
  return `
    <section class="claim ${c.verdict.replace(/ /g, '-')}">
      <div class="verdict">${esc(c.verdict)}</div>
      <p class="paper">${esc(c.paper)}</p>
      <p class="statement">${esc(c.statement)}</p>
      <ul>${c.comparisons.map((x) => `<li class="${x.holds === true ? 'yes' : x.holds === false ? 'no' : 'tie'}">${esc(x.text)}</li>`).join('')}</ul>
      ${c.note ? `<p class="note">${esc(c.note)}</p>` : ''}
    </section>`;
}

/** The run's status, times, node counts, runtime and commit. */
function runMeta(m: ReportModel): string {
  const counts = Object.entries(m.counts).map(([k, v]) => `${v} ${k}`).join(', ');
  return `<p class="meta">Run <code>${esc(m.runId)}</code> — ${esc(m.status)}${m.startedAt ? `, started ${esc(new Date(m.startedAt).toISOString())}` : ''}; wall time ${esc(fmtDuration(m.wallSeconds))}${m.computeSeconds !== null ? ` (nodes' own compute time, cached ones included: ${esc(fmtDuration(m.computeSeconds))})` : ''}; nodes: ${esc(counts || '—')}.${m.backend ? ` Evaluation runtime: ${esc(m.backend)}.` : ''}${m.commit ? ` Code: commit <code>${esc(m.commit)}</code>.` : ''}</p>`;
}

/** The multiple-choice set's items in the data section: source, design, chance level, leakage check. */
function mcItems(m: ReportModel): string {
  const mc = m.mc;
  if (!mc) return '<li>No multiple-choice set in this run.</li>';
  return `<li>Multiple choice: ${esc(mc.source)}; ${esc(String(mc.testItems ?? '?'))} test items.</li>
${MC_DESIGN.map((d) => `<li>${esc(d)}</li>`).join('\n')}
${mc.chance !== null ? `<li>Chance level: ${esc(fmtPct(mc.chance))}${mc.styleOnlyCeiling !== null && mc.generalDistractors ? `; a model that only recognises the domain's style scores at most ${esc(fmtPct(mc.styleOnlyCeiling))}` : ''}.</li>` : ''}
${mc.leakage ? `<li>Leakage check: ${mc.leakage.checked ? (mc.leakage.overlap.length === 0 ? `the items come from ${mc.leakage.itemDocs} documents, none of them among the ${mc.leakage.trainDocs} training documents.` : `${mc.leakage.overlap.length} item documents ARE training documents: ${esc(mc.leakage.overlap.join(', '))}.`) : 'not done (artifacts not readable).'}</li>` : ''}`;
}

/** Title, description, the run's facts and how to reproduce it. */
function runHeader(m: ReportModel): string {
  return `<h1>${esc(m.title)}</h1>
${m.description ? `<p>${esc(m.description)}</p>` : ''}
${runMeta(m)}
<p>Reproduce this run:</p>
<pre>${esc(m.commands.reproduce)}
npx loram report ${esc(m.runId)}</pre>
<p>From scratch, ignoring any cache: <code>${esc(m.commands.fromScratch)}</code></p>`;
}

/** The verdict, then the paper's claims as this run's numbers decide them. */
function findings(m: ReportModel): string {
  return `<h2>Verdict</h2>
<p class="verdict-headline"><strong>${esc(m.verdict.headline)}</strong></p>
<ul>${[...m.verdict.standings.slice(1).map((x) => x.text), ...m.verdict.gains].map((s) => `<li>${esc(s)}</li>`).join('')}</ul>

<h2>The paper's claims at this scale</h2>
<p>Every line is computed from this run's numbers. Perplexities within ${(m.pplTolerance * 100).toFixed(1)}% count as a tie (not shown); accuracy and exact-match differences come with a 2-standard-error margin and do not decide a verdict.</p>
${m.claims.map(claimSection).join('\n')}
${m.notes.length ? `<ul>${m.notes.map((s) => `<li>${esc(s)}</li>`).join('')}</ul>` : ''}`;
}

/** A horizontal bar chart's height: a row per branch (`perRow` bars each), at least the old fixed height. */
/** The planned-vs-measured table, a warning per gap over 10% (or figures for different runtimes), what each includes. */
function memorySection(trained: readonly Branch[]): string {
  const t = memoryTable(trained);
  return `<table><thead><tr>${t.header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>
<tbody>${t.rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('\n')}</tbody></table>
${t.warnings.map((w) => `<p class="warn">${esc(w)}</p>`).join('\n')}
${t.includes.map((i) => `<p class="note">${esc(i)}</p>`).join('\n')}`;
}

function barsHeight(rows: number, perRow: number): number {
  return Math.max(340, rows * (10 + 8 * perRow) + 90);
}

export function renderHtml(m: ReportModel, chartJs: string): string {
  const b = m.branches;
  const trained = b.filter((x) => x.train && x.role !== 'no-recovery');
  const data = {
    ppl: { labels: b.filter((x) => x.perplexity !== null).map((x) => x.short), values: b.filter((x) => x.perplexity !== null).map((x) => x.perplexity), colors: b.filter((x) => x.perplexity !== null).map((x) => ROLE_COLOR[x.role]) },
    acc: {
      labels: b.filter((x) => x.accuracy !== null).map((x) => x.short),
      acc: b.filter((x) => x.accuracy !== null).map((x) => x.accuracy! * 100),
      norm: b.filter((x) => x.accuracy !== null).map((x) => (x.accuracyNorm ?? 0) * 100),
      chance: m.mc?.chance == null ? null : m.mc.chance * 100,
    },
    em: { labels: b.filter((x) => x.exactMatch !== null).map((x) => x.short), values: b.filter((x) => x.exactMatch !== null).map((x) => x.exactMatch! * 100), colors: b.filter((x) => x.exactMatch !== null).map((x) => ROLE_COLOR[x.role]) },
    mem: { labels: trained.map((x) => x.short), measured: trained.map((x) => (x.train!.memoryMeasured ?? 0) / 2 ** 20), planned: trained.map((x) => (x.train!.memoryPlanned ?? 0) / 2 ** 20) },
    time: { labels: trained.map((x) => x.short), train: trained.map((x) => x.train!.seconds ?? 0), offline: trained.map((x) => offlineSeconds(x) ?? 0) },
    loss: lossCurves(m),
  };
  const t = tableRows(m);
  const legend = (Object.keys(ROLE_TITLE) as Branch['role'][]).filter((r) => b.some((x) => x.role === r)).map((r) => `<span><i style="background:${ROLE_COLOR[r]}"></i>${esc(ROLE_TITLE[r])}</span>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(m.title)}</title>
<style>
${STYLE}</style></head><body>
${runHeader(m)}

${findings(m)}

<h2>Comparison</h2>
<table><thead><tr>${t.header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>
<tbody>${t.rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('\n')}</tbody></table>
${m.heldOut ? `<p>Held-out perplexity: ${esc(m.heldOut)}.</p>` : ''}

<h2>Held-out perplexity</h2>
<div class="legend">${legend}</div>
<div class="chart" style="height:${barsHeight(data.ppl.labels.length, 1)}px"><canvas id="ppl"></canvas></div>
<h2>Multiple-choice accuracy</h2>
<div class="chart" style="height:${barsHeight(data.acc.labels.length, 2)}px"><canvas id="acc"></canvas></div>
${data.em.labels.length ? `<h2>Downstream task: exact match</h2>
<div class="chart" style="height:${barsHeight(data.em.labels.length, 1)}px"><canvas id="em"></canvas></div>` : ''}
<h2>Training memory: planned vs measured</h2>
<div class="chart short" style="height:${barsHeight(data.mem.labels.length, 2)}px"><canvas id="mem"></canvas></div>
${memorySection(trained)}
<h2>Training time</h2>
<div class="chart short" style="height:${barsHeight(data.time.labels.length, 1)}px"><canvas id="time"></canvas></div>
<h2>LoRA training loss</h2>
<div class="chart"><canvas id="loss"></canvas></div>

<h2>The held-out data and the multiple-choice set</h2>
<ul>
${m.heldOut ? `<li>Perplexity is measured on ${esc(m.heldOut)}; the fine-tuning domain was never in the base models' pretraining data.</li>` : ''}
${downstreamLines(m).map((d) => `<li>${esc(d)}</li>`).join('\n')}
${mcItems(m)}
</ul>

<script>${inlineScript(chartJs)}</script>
<script type="application/json" id="report-data">${JSON.stringify(data).replace(/</g, '\\u003c')}</script>
<script>
(function () {
  var d = JSON.parse(document.getElementById('report-data').textContent);
  if (typeof Chart === 'undefined') return;
  Chart.defaults.font.size = 12;
  var hbar = { indexAxis: 'y', responsive: true, maintainAspectRatio: false, plugins: { legend: { position: 'bottom' } } };
  // Every branch keeps its name: the chart grows a row per branch instead of skipping labels.
  function opts(extra) { var o = Object.assign({}, hbar, extra); o.scales = Object.assign({}, o.scales); o.scales.y = Object.assign({ ticks: { autoSkip: false } }, o.scales.y); return o; }
  new Chart(document.getElementById('ppl'), { type: 'bar', data: { labels: d.ppl.labels, datasets: [{ label: 'held-out perplexity (lower is better)', data: d.ppl.values, backgroundColor: d.ppl.colors }] }, options: opts({ plugins: { legend: { display: false } }, scales: { x: { title: { display: true, text: 'perplexity' } } } }) });
  var chanceLine = { id: 'chance', afterDatasetsDraw: function (c) { if (d.acc.chance === null) return; var x = c.scales.x.getPixelForValue(d.acc.chance); var a = c.chartArea; var g = c.ctx; g.save(); g.strokeStyle = '#dc2626'; g.setLineDash([6, 4]); g.beginPath(); g.moveTo(x, a.top); g.lineTo(x, a.bottom); g.stroke(); g.fillStyle = '#dc2626'; g.fillText('chance ' + d.acc.chance.toFixed(0) + '%', x + 4, a.top + 12); g.restore(); } };
  new Chart(document.getElementById('acc'), { type: 'bar', data: { labels: d.acc.labels, datasets: [{ label: 'acc', data: d.acc.acc, backgroundColor: '#2563eb' }, { label: 'acc_norm', data: d.acc.norm, backgroundColor: '#93c5fd' }] }, options: opts({ scales: { x: { min: 0, title: { display: true, text: 'accuracy %' } } } }), plugins: [chanceLine] });
  if (d.em.labels.length) new Chart(document.getElementById('em'), { type: 'bar', data: { labels: d.em.labels, datasets: [{ label: 'task exact match % (higher is better)', data: d.em.values, backgroundColor: d.em.colors }] }, options: opts({ plugins: { legend: { display: false } }, scales: { x: { min: 0, max: 100, title: { display: true, text: 'exact match %' } } } }) });
  new Chart(document.getElementById('mem'), { type: 'bar', data: { labels: d.mem.labels, datasets: [{ label: 'measured (MiB)', data: d.mem.measured, backgroundColor: '#0f766e' }, { label: 'planned (MiB)', data: d.mem.planned, backgroundColor: '#99f6e4' }] }, options: opts({ scales: { x: { title: { display: true, text: 'MiB' } } } }) });
  new Chart(document.getElementById('time'), { type: 'bar', data: { labels: d.time.labels, datasets: [{ label: 'LoRA training (s)', data: d.time.train, backgroundColor: '#7c3aed' }, { label: 'offline prune + align (s)', data: d.time.offline, backgroundColor: '#c4b5fd' }] }, options: opts({ scales: { x: { stacked: true, title: { display: true, text: 'seconds' } }, y: { stacked: true } } }) });
  var palette = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#4b5563', '#ea580c', '#0d9488', '#9333ea'];
  new Chart(document.getElementById('loss'), { type: 'line', data: { datasets: d.loss.map(function (c, i) { return { label: c.name, data: c.x.map(function (x, k) { return { x: x, y: c.y[k] }; }), borderColor: palette[i % palette.length], pointRadius: 0, borderWidth: 1.5, fill: false }; }) }, options: { responsive: true, maintainAspectRatio: false, parsing: false, plugins: { legend: { position: 'bottom' }, title: { display: true, text: 'training loss (moving average)' } }, scales: { x: { type: 'linear', title: { display: true, text: 'step' } }, y: { title: { display: true, text: 'loss' } } } } });
})();
</script>
</body></html>
`;
}
