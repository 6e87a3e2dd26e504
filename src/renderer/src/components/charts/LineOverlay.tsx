/**
 * Overlaid curves (Chart.js lines) with a legend that stays inside its card: below the plot, wrapping, scrolling
 * when there are many branches. Colour by strategy, dashes for ablations and baselines (editor/chart-style.ts).
 */
import { useMemo } from 'react';
import type { ChartConfiguration } from 'chart.js';
import { branchStyle } from '../../editor/chart-style';
import { seriesKeys, type Series } from '../../editor/results';
import { formatMetric } from '../../editor/run-state';
import { dashArray, themeColors } from './chart-setup';
import { useChart, useDocumentTheme } from './use-chart';

function Legend({ keys }: { keys: string[] }) {
  return (
    <ul className="chart-legend" data-testid="chart-legend">
      {keys.map((k, i) => {
        const s = branchStyle(k, i);
        return (
          <li key={k} title={k}>
            <svg width="18" height="8" aria-hidden="true">
              <line x1="0" y1="4" x2="18" y2="4" stroke={s.color} strokeWidth="2" strokeDasharray={s.dash} />
            </svg>
            <span>{k}</span>
          </li>
        );
      })}
    </ul>
  );
}

function lineConfig(series: readonly Series[], keys: readonly string[], xLabel: string, yLabel: string | undefined, theme: string): ChartConfiguration<'line'> {
  void theme; // the colours below are read for the current theme
  const c = themeColors();
  const axisTitle = (text: string | undefined) => (text ? { display: true, text, color: c.muted } : { display: false });
  return {
    type: 'line',
    data: {
      datasets: series.map((s, i) => {
        const st = branchStyle(keys[i]!, i);
        return { label: keys[i], data: s.points, borderColor: st.color, backgroundColor: st.color, borderDash: dashArray(st.dash), borderWidth: st.kind === 'variant' ? 2 : 1.5, pointRadius: 0, tension: 0, spanGaps: true };
      }),
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      interaction: { mode: 'nearest', intersect: false },
      plugins: { legend: { display: false }, tooltip: { callbacks: { title: (items) => `${xLabel} ${items[0]?.parsed.x ?? ''}`, label: (item) => `${item.dataset.label}: ${formatMetric(item.parsed.y)}` } } },
      scales: {
        x: { type: 'linear', grid: { color: c.grid }, ticks: { color: c.muted, maxTicksLimit: 6 }, title: axisTitle(xLabel) },
        y: { grid: { color: c.grid }, ticks: { color: c.muted, maxTicksLimit: 5, callback: (v) => formatMetric(Number(v)) }, title: axisTitle(yLabel) },
      },
    },
  };
}

export function LineOverlay({ series, xLabel = 'step', yLabel, height = 170, testId }: { series: Series[]; xLabel?: string; yLabel?: string; height?: number; testId?: string }) {
  const theme = useDocumentTheme();
  const keys = useMemo(() => seriesKeys(series), [series]);
  const config = useMemo(() => lineConfig(series, keys, xLabel, yLabel, theme), [series, keys, xLabel, yLabel, theme]);
  const canvas = useChart(config);
  return (
    <div className="chart" data-testid={testId}>
      <div className="chart-canvas" style={{ height }}>
        <canvas ref={canvas} role="img" aria-label={`${yLabel ?? 'value'} by ${xLabel}: ${keys.join(', ')}`} />
      </div>
      {keys.length > 1 && <Legend keys={keys} />}
    </div>
  );
}
