/**
 * Peak resident set size of this process over an interval, sampled every few milliseconds. ONNX Runtime allocates
 * outside the JS heap and runs a step on its own threads, so the event loop is free to sample while a step runs.
 */
export interface RssTracker {
  /** Highest RSS seen so far (bytes). */
  peak(): number;
  stop(): number;
}

export function trackPeakRss(intervalMs = 10): RssTracker {
  let peak = process.memoryUsage.rss();
  const sample = () => {
    const r = process.memoryUsage.rss();
    if (r > peak) peak = r;
  };
  const timer = setInterval(sample, intervalMs);
  timer.unref?.();
  return {
    peak: () => (sample(), peak),
    stop: () => {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}
