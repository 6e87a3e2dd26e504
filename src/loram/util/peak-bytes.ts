/** Exact peak of TensorFlow.js's live tensor bytes over an interval. */
import type { tf as TfNamespace } from '../backend/tf';

export interface PeakTracker {
  peak(): number;
  stop(): void;
}

/**
 * The exact peak of tfjs's live tensor bytes from now until stop(): the engine's byte counter is observed on every
 * change (tf.memory() sampled between steps would miss the activations and gradients alive inside a step).
 */
export function trackPeakTensorBytes(tfns: typeof TfNamespace): PeakTracker {
  const state = (tfns.engine() as unknown as { state: { numBytes: number } }).state;
  let value = state.numBytes;
  let peak = value;
  Object.defineProperty(state, 'numBytes', {
    configurable: true,
    enumerable: true,
    get: () => value,
    set: (v: number) => {
      value = v;
      if (v > peak) peak = v;
    },
  });
  let stopped = false;
  return {
    peak: () => peak,
    stop: () => {
      if (stopped) return;
      stopped = true;
      Object.defineProperty(state, 'numBytes', { configurable: true, enumerable: true, writable: true, value });
    },
  };
}
