/**
 * One ranked horizontal bar chart per metric (Chart.js): every branch on its own row, best first, its name on the
 * left (cut to fit the card, whole in the tooltip) and its value on the right. The chart grows a row per branch, so
 * 17 or 40 branches keep readable labels; colour by strategy, stripes for ablations, grey for baselines.
 */
import { useMemo } from 'react';
import type { ChartConfiguration } from 'chart.js';
import { branchStyle } from '../../editor/chart-style';
import type { BarRow } from '../../editor/results';
import { formatMetric } from '../../editor/run-state';
import { Chart, fitAxisToLabels, fitText, stripes, themeColors } from './chart-setup';
import { useChart, useDocumentTheme } from './use-chart';

const ROW_PX = 18;
const AXIS_PX = 26;
/** The share of the chart's width the branch names may take. */
const LABEL_SHARE = 0.42;
/** Tick length and padding beside an axis label. */
const LABEL_PAD = 14;

export interface Ranked {
  labels: string[];
  values: number[];
}

/** The rows that have `key`, best first (lower is better unless `lowerIsBetter` is false). */
export function rank(rows: readonly BarRow[], key: string, lowerIsBetter: boolean): Ranked {
  const vals = rows.filter((r) => typeof r[key] === 'number').map((r) => ({ label: r.label, v: r[key] as number }));
  vals.sort((a, b) => (lowerIsBetter ? a.v - b.v : b.v - a.v));
  return { labels: vals.map((x) => x.label), values: vals.map((x) => x.v) };
}

function barFill(label: string, i: number): string | CanvasPattern {
  const s = branchStyle(label, i);
  if (s.kind === 'ablation') return stripes(s.color);
  return s.kind === 'baseline' ? `${s.color}8c` : s.color;
}

/** Text cut into tooltip lines of at most `width` characters (Chart.js does not wrap). */
export function tooltipLines(text: string, width = 64): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const w of para.split(/\s+/).filter(Boolean)) {
      if (line && line.length + 1 + w.length > width) (out.push(line), (line = ''));
      line = line ? `${line} ${w}` : w;
    }
    if (line) out.push(line);
  }
  return out;
}

function rankedConfig(r: Ranked, unit: string, theme: string, footer?: (label: string) => string | undefined): ChartConfiguration<'bar'> {
  void theme; // the colours below are read for the current theme
  const c = themeColors();
  const font = `${Chart.defaults.font.size}px ${Chart.defaults.font.family}`;
  const valueText = r.values.map((v) => `${formatMetric(v)}${unit}`);
  return {
    type: 'bar',
    data: { labels: r.labels, datasets: [{ data: r.values, backgroundColor: r.labels.map(barFill), borderColor: r.labels.map((l, i) => branchStyle(l, i).color), borderWidth: 1, barPercentage: 0.8, categoryPercentage: 1 }] },
    options: {
      indexAxis: 'y',
      responsive: true,
      maintainAspectRatio: false,
      layout: { padding: { right: 2 } },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            title: (items) => r.labels[items[0]?.dataIndex ?? 0] ?? '',
            label: (item) => valueText[item.dataIndex] ?? '',
            footer: (items) => tooltipLines(footer?.(r.labels[items[0]?.dataIndex ?? 0] ?? '') ?? ''),
          },
        },
      },
      scales: {
        x: { beginAtZero: true, grid: { color: c.grid }, border: { display: false }, ticks: { color: c.muted, maxTicksLimit: 4, callback: (v) => formatMetric(Number(v)) } },
        y: {
          grid: { display: false },
          ticks: {
            color: c.text,
            autoSkip: false,
            callback(_v, i) {
              return fitText(r.labels[i] ?? '', this.chart.width * LABEL_SHARE, font);
            },
          },
          afterFit: fitAxisToLabels(font, LABEL_PAD),
        },
        values: { type: 'category', position: 'right', offset: true, labels: valueText, grid: { display: false }, border: { display: false }, ticks: { color: c.muted, autoSkip: false }, afterFit: fitAxisToLabels(font, LABEL_PAD) },
      },
    },
  };
}

function RankedChart({ ranked, unit, title, footer }: { ranked: Ranked; unit: string; title: string | null; footer?: (label: string) => string | undefined }) {
  const theme = useDocumentTheme();
  const config = useMemo(() => rankedConfig(ranked, unit, theme, footer), [ranked, unit, theme, footer]);
  const canvas = useChart(config);
  return (
    <div className="ranked" data-testid="ranked-chart">
      {title && <div className="ranked-title">{title}</div>}
      <div className="chart-canvas" style={{ height: ranked.labels.length * ROW_PX + AXIS_PX }}>
        <canvas ref={canvas} role="img" aria-label={`${title ?? 'ranking'}: ${ranked.labels.map((l, i) => `${l} ${formatMetric(ranked.values[i])}`).join(', ')}`} />
      </div>
    </div>
  );
}

/** `footer(key, label)`: a note under a bar's value in its tooltip (e.g. what a memory figure includes). */
export function RankedBars({ rows, keys, unit = '', testId, lowerIsBetter, footer }: { rows: BarRow[]; keys: string[]; unit?: string; testId?: string; lowerIsBetter?: boolean; footer?: (key: string, label: string) => string | undefined }) {
  const ranked = useMemo(() => keys.map((k) => ({ key: k, ranked: rank(rows, k, lowerIsBetter ?? !/acc/i.test(k)), footer: footer ? (label: string) => footer(k, label) : undefined })), [rows, keys, lowerIsBetter, footer]);
  return (
    <div className="chart ranked-bars" data-testid={testId}>
      {ranked.map(({ key, ranked: r, footer: f }) => (
        <RankedChart key={key} ranked={r} unit={unit} title={keys.length > 1 ? key : null} {...(f ? { footer: f } : {})} />
      ))}
      <div className="chart-note">{lowerIsBetter === false ? 'higher is better' : lowerIsBetter ? 'lower is better' : ''}</div>
    </div>
  );
}
