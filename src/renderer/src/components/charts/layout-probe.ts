/**
 * Where a chart drew its axis labels, in page coordinates: for the devtools console and the e2e tests that check
 * that no two labels overlap and that they stay inside their card (canvas text has no DOM boxes to ask).
 */
import { Chart } from './chart-setup';

export interface TextBox {
  axis: string;
  text: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

interface LabelItem {
  label: string | string[];
  font: { string: string; lineHeight: number };
  options: { translation: [number, number]; textAlign: CanvasTextAlign; textBaseline: CanvasTextBaseline };
}

function boxOf(g: CanvasRenderingContext2D, item: LabelItem, origin: DOMRect, axis: string): TextBox {
  const text = Array.isArray(item.label) ? item.label.join(' ') : String(item.label);
  g.font = item.font.string;
  const width = g.measureText(text).width;
  const height = item.font.lineHeight;
  const [tx, ty] = item.options.translation;
  const align = item.options.textAlign;
  const x = align === 'right' || align === 'end' ? tx - width : align === 'center' ? tx - width / 2 : tx;
  const base = item.options.textBaseline;
  const y = base === 'middle' ? ty - height / 2 : base === 'bottom' ? ty - height : ty;
  return { axis, text, x: origin.x + x, y: origin.y + y, width, height };
}

/** The drawn tick labels of every axis of the chart on `canvas` (none when it has no chart). */
export function chartTextBoxes(canvas: HTMLCanvasElement): TextBox[] {
  const chart = Chart.getChart(canvas);
  if (!chart) return [];
  const origin = canvas.getBoundingClientRect();
  const out: TextBox[] = [];
  for (const [id, scale] of Object.entries(chart.scales)) {
    const ticks = (scale.options as { ticks?: { display?: boolean } }).ticks;
    if (!scale.options.display || ticks?.display === false) continue;
    const items = (scale as unknown as { getLabelItems(): LabelItem[] }).getLabelItems();
    for (const item of items) out.push(boxOf(chart.ctx, item, origin, id));
  }
  return out;
}
