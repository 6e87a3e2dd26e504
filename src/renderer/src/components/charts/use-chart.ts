import { useEffect, useRef, useSyncExternalStore } from 'react';
import type { ChartConfiguration, ChartType } from 'chart.js';
import { Chart } from './chart-setup';

/**
 * A Chart.js chart on the returned canvas, built from `config`. A new config object (memoize it on its data)
 * replaces the data and options in place and redraws once, without recreating the chart.
 */
export function useChart<T extends ChartType>(config: ChartConfiguration<T>) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<T> | null>(null);
  useEffect(() => {
    if (!canvas.current) return;
    chart.current = new Chart(canvas.current, config);
    return () => {
      chart.current?.destroy();
      chart.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- created once per canvas; later configs update it below
  }, []);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) return void (first.current = false);
    const c = chart.current;
    if (!c) return;
    c.data = config.data;
    if (config.options) c.options = config.options;
    c.update('none');
  }, [config]);
  return canvas;
}

/** The editor's theme (html[data-theme]) as a value that re-renders charts when it changes. */
export function useDocumentTheme(): string {
  return useSyncExternalStore(subscribeTheme, () => document.documentElement.dataset.theme ?? '');
}

function subscribeTheme(onChange: () => void): () => void {
  const o = new MutationObserver(onChange);
  o.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
  return () => o.disconnect();
}
