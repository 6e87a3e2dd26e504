/**
 * Charts that scale to many branches: ranked horizontal bars (plain HTML, one row per branch, labels that fit, best
 * first) and overlaid lines with a legend that stays inside its card. Colour by strategy, dashes for ablations
 * (editor/chart-style.ts).
 */
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { branchStyle } from '../editor/chart-style';
import { overlay, X_KEY, type BarRow, type Series } from '../editor/results';
import { formatMetric } from '../editor/run-state';

const axis = { stroke: 'var(--muted)', fontSize: 11, tickLine: false } as const;
const tooltipStyle = {
  contentStyle: { background: 'var(--panel-2)', border: '1px solid var(--border)', borderRadius: 6, fontSize: 12, color: 'var(--text)' },
  labelStyle: { color: 'var(--muted)' },
};

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

export function LineOverlay({ series, xLabel = 'step', yLabel, height = 170, testId }: { series: Series[]; xLabel?: string; yLabel?: string; height?: number; testId?: string }) {
  const { data, keys } = overlay(series);
  return (
    <div className="chart" data-testid={testId}>
      <ResponsiveContainer width="100%" height={height}>
        <LineChart data={data} margin={{ top: 8, right: 16, bottom: 18, left: 4 }}>
          <CartesianGrid stroke="var(--grid)" strokeDasharray="3 3" />
          <XAxis dataKey={X_KEY} type="number" domain={['dataMin', 'dataMax']} {...axis} label={{ value: xLabel, position: 'insideBottom', offset: -10, fill: 'var(--muted)', fontSize: 11 }} />
          <YAxis {...axis} width={52} tickFormatter={(v: number) => formatMetric(v)} domain={['auto', 'auto']} label={yLabel ? { value: yLabel, angle: -90, position: 'insideLeft', fill: 'var(--muted)', fontSize: 11 } : undefined} />
          <Tooltip {...tooltipStyle} formatter={(v) => formatMetric(v)} labelFormatter={(l) => `${xLabel} ${l}`} />
          {keys.map((k, i) => {
            const s = branchStyle(k, i);
            return <Line key={k} dataKey={k} name={k} type="linear" dot={false} strokeWidth={s.kind === 'variant' ? 2 : 1.5} stroke={s.color} strokeDasharray={s.dash} connectNulls isAnimationActive={false} />;
          })}
        </LineChart>
      </ResponsiveContainer>
      {keys.length > 1 && <Legend keys={keys} />}
    </div>
  );
}

/** One ranked list per metric: every branch on its own row, best first, the value printed next to its bar. */
export function Bars({ rows, keys, unit, testId, lowerIsBetter }: { rows: BarRow[]; keys: string[]; height?: number; unit?: string; testId?: string; lowerIsBetter?: boolean }) {
  return (
    <div className="chart ranked-bars" data-testid={testId}>
      {keys.map((k) => {
        const vals = rows.filter((r) => typeof r[k] === 'number') as (BarRow & Record<string, number>)[];
        const lower = lowerIsBetter ?? !/acc/i.test(k);
        const sorted = [...vals].sort((a, b) => (lower ? a[k] - b[k] : b[k] - a[k]));
        const max = Math.max(...sorted.map((r) => Math.abs(r[k])), 1e-12);
        return (
          <div key={k} className="ranked">
            {keys.length > 1 && <div className="ranked-title">{k}</div>}
            {sorted.map((r, i) => {
              const s = branchStyle(r.label, i);
              return (
                <div key={r.node} className={`ranked-row ${s.kind}`} data-testid="bar-row">
                  <span className="ranked-label" title={r.label}>
                    {r.label}
                  </span>
                  <span className="ranked-track">
                    <span className="ranked-bar" style={{ width: `${((Math.abs(r[k]) / max) * 100).toFixed(1)}%`, ['--bar' as string]: s.color }} />
                  </span>
                  <span className="ranked-value">
                    {formatMetric(r[k])}
                    {unit ?? ''}
                  </span>
                </div>
              );
            })}
          </div>
        );
      })}
      <div className="chart-note">{lowerIsBetter === false ? 'higher is better' : lowerIsBetter ? 'lower is better' : ''}</div>
    </div>
  );
}
