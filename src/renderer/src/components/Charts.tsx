import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { overlay, X_KEY, type BarRow, type Series } from '../editor/results';
import { formatMetric } from '../editor/run-state';

export const SERIES_COLORS = ['#4c8dff', '#f0a020', '#22b07d', '#e5604d', '#b46cf5', '#2ec4d6', '#d6a02e', '#8a93a3', '#ff7eb6', '#6fdc8c'];

const axis = { stroke: 'var(--muted)', fontSize: 11, tickLine: false } as const;
const tooltipStyle = {
  contentStyle: { background: 'var(--panel-2)', border: '1px solid var(--border)', borderRadius: 6, fontSize: 12, color: 'var(--text)' },
  labelStyle: { color: 'var(--muted)' },
};

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
          {keys.length > 1 && <Legend wrapperStyle={{ fontSize: 12 }} verticalAlign="top" height={24} />}
          {keys.map((k, i) => (
            <Line key={k} dataKey={k} name={k} type="linear" dot={false} strokeWidth={2} stroke={SERIES_COLORS[i % SERIES_COLORS.length]} connectNulls isAnimationActive={false} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

export function Bars({ rows, keys, height = 170, unit, testId, lowerIsBetter }: { rows: BarRow[]; keys: string[]; height?: number; unit?: string; testId?: string; lowerIsBetter?: boolean }) {
  return (
    <div className="chart" data-testid={testId}>
      <ResponsiveContainer width="100%" height={height}>
        <BarChart data={rows} margin={{ top: 8, right: 16, bottom: 4, left: 4 }}>
          <CartesianGrid stroke="var(--grid)" strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="label" {...axis} interval={0} />
          <YAxis {...axis} width={52} tickFormatter={(v: number) => formatMetric(v)} unit={unit} />
          <Tooltip {...tooltipStyle} formatter={(v) => `${formatMetric(v)}${unit ?? ''}`} cursor={{ fill: 'var(--hover)' }} />
          {keys.length > 1 && <Legend wrapperStyle={{ fontSize: 12 }} verticalAlign="top" height={24} />}
          {keys.map((k, i) => (
            <Bar key={k} dataKey={k} name={k} fill={SERIES_COLORS[i % SERIES_COLORS.length]} radius={[3, 3, 0, 0]} maxBarSize={48} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
      {lowerIsBetter !== undefined && <div className="chart-note">{lowerIsBetter ? 'lower is better' : 'higher is better'}</div>}
    </div>
  );
}
