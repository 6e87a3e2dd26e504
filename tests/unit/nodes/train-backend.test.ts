/** Which engine trains (the node parameter, LORAM_TRAIN_BACKEND under auto) and with how many threads. */
import { ortTrainOptions, resolveTrainBackend } from '../../../src/nodes/train-backend';

test('auto is ONNX Runtime unless LORAM_TRAIN_BACKEND says otherwise; an explicit choice wins', () => {
  expect(resolveTrainBackend('auto', {})).toBe('ort');
  expect(resolveTrainBackend('auto', { LORAM_TRAIN_BACKEND: 'tfjs' })).toBe('tfjs');
  expect(resolveTrainBackend('ort', { LORAM_TRAIN_BACKEND: 'tfjs' })).toBe('ort');
  expect(() => resolveTrainBackend('auto', { LORAM_TRAIN_BACKEND: 'torch' })).toThrow(/LORAM_TRAIN_BACKEND must be "ort" or "tfjs", got "torch"/);
});

test('LORAM_THREADS and LORAM_ORT_PROVIDER are checked', () => {
  expect(ortTrainOptions({ LORAM_THREADS: '3', LORAM_ORT_PROVIDER: 'webgpu' })).toEqual({ threads: 3, provider: 'webgpu' });
  // Without LORAM_THREADS: the cores shared among the nodes that compute at once.
  const cores = (ortTrainOptions({ LORAM_CONCURRENCY: '1' }).threads as number);
  expect(ortTrainOptions({ LORAM_CONCURRENCY: String(cores) }).threads).toBe(1);
  expect(ortTrainOptions({ LORAM_CONCURRENCY: String(cores * 4) }).threads).toBe(1);
  expect(() => ortTrainOptions({ LORAM_THREADS: 'two' })).toThrow(/LORAM_THREADS must be a positive integer, got "two"/);
  expect(() => ortTrainOptions({ LORAM_ORT_PROVIDER: 'metal' })).toThrow(/LORAM_ORT_PROVIDER must be cuda, webgpu, cpu or auto/);
  // The arena stays the training session's default (off) unless asked for.
  expect(ortTrainOptions({ LORAM_THREADS: '1' })).toEqual({ threads: 1 });
  expect(ortTrainOptions({ LORAM_THREADS: '1', LORAM_ORT_ARENA: 'on' })).toEqual({ threads: 1, cpuArena: true });
  expect(() => ortTrainOptions({ LORAM_ORT_ARENA: 'yes' })).toThrow(/LORAM_ORT_ARENA must be "on" or "off", got "yes"/);
});
