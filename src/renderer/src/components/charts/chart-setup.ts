/**
 * Chart.js for the editor, the same library the HTML report inlines (src/report/html.ts): only the pieces the
 * editor draws (horizontal bars, lines, category and linear axes, tooltips), registered once. No animation: a chart
 * redraws when its data changes, never on a timer.
 */
import { BarController, BarElement, CategoryScale, Chart, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Tooltip);
Chart.defaults.animation = false;
Chart.defaults.font.size = 11;
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", sans-serif';

export { Chart };

/** The theme's colours for canvas drawing (canvas cannot read CSS variables itself). */
export interface ChartColors {
  text: string;
  muted: string;
  grid: string;
  panel: string;
  border: string;
}

export function themeColors(): ChartColors {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string, dflt: string) => css.getPropertyValue(name).trim() || dflt;
  return { text: v('--text', '#ddd'), muted: v('--muted', '#999'), grid: v('--grid', '#333'), panel: v('--panel-2', '#222'), border: v('--border', '#444') };
}

/** "6 3" (an SVG dash array, as chart-style.ts gives it) → [6, 3] for the canvas. */
export function dashArray(dash: string | undefined): number[] {
  return dash ? dash.split(/[\s,]+/).map(Number) : [];
}

/** Diagonal stripes in `color`: how an ablation's bar differs from its variant's (same hue, the dash of a bar). */
export function stripes(color: string): CanvasPattern | string {
  const tile = document.createElement('canvas');
  tile.width = tile.height = 7;
  const g = tile.getContext('2d');
  if (!g) return color;
  g.strokeStyle = color;
  g.lineWidth = 3;
  g.beginPath();
  g.moveTo(-1, 8);
  g.lineTo(8, -1);
  g.stroke();
  return g.createPattern(tile, 'repeat') ?? color;
}

/** `text` cut with an ellipsis to at most `maxPx` wide in `font` (axis labels that fit their card). */
export function fitText(text: string, maxPx: number, font: string): string {
  const g = measureContext();
  if (!g) return text;
  g.font = font;
  if (g.measureText(text).width <= maxPx) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (g.measureText(text.slice(0, mid) + '…').width <= maxPx) lo = mid;
    else hi = mid - 1;
  }
  return text.slice(0, lo) + '…';
}

/** How wide `text` is in `font`, in CSS pixels. */
export function textWidth(text: string, font: string): number {
  const g = measureContext();
  if (!g) return text.length * 7;
  g.font = font;
  return g.measureText(text).width;
}

/**
 * Chart.js's `afterFit` for a vertical axis: exactly as wide as its widest label plus `pad`. (Left to itself, it
 * caps every side axis at a share of the chart and clips longer labels at the canvas edge.)
 */
export function fitAxisToLabels(font: string, pad: number) {
  return (scale: { width: number; ticks: { label?: string | string[] | number }[] }) => {
    const widest = Math.max(0, ...scale.ticks.map((t) => textWidth(String(t.label ?? ''), font)));
    scale.width = Math.ceil(widest + pad);
  };
}

let measure: CanvasRenderingContext2D | null | undefined;
function measureContext(): CanvasRenderingContext2D | null {
  if (measure === undefined) measure = document.createElement('canvas').getContext('2d');
  return measure;
}
