/**
 * The registry of training backends that bench/train measures. Adding one is its measure function in its own
 * module plus one line here (imported lazily, so a child process loads only the engine it measures), e.g.
 *   { name: 'ort', measure: async (...a) => (await import('./ort-backend')).measureOrt(...a) },
 */
import type { TrainBackend, TrainBackendName } from './types';

export const TRAIN_BACKENDS: readonly TrainBackend[] = [
  { name: 'ort', measure: async (...a) => (await import('./ort-backend')).measureOrt(...a) },
  { name: 'tfjs', measure: async (...a) => (await import('./tfjs-backend')).measureTfjs(...a) },
];

export function trainBackend(name: TrainBackendName): TrainBackend {
  const b = TRAIN_BACKENDS.find((x) => x.name === name);
  if (!b) {
    const have = TRAIN_BACKENDS.map((x) => x.name).join(', ');
    throw new Error(`the ${name} backend has no training benchmark yet (expected bench/train/${name}-backend.ts, registered in bench/train/backends.ts); available: ${have}`);
  }
  return b;
}
