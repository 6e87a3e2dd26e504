/** Which engine trains: the node parameter, LORAM_TRAIN_BACKEND under auto, and checkpointing's pull towards tfjs. */
import { ortTrainOptions, resolveTrainBackend } from '../../../src/nodes/train-backend';

test('auto is ONNX Runtime unless LORAM_TRAIN_BACKEND says otherwise; an explicit choice wins', () => {
  expect(resolveTrainBackend('auto', { env: {} })).toBe('ort');
  expect(resolveTrainBackend('auto', { env: { LORAM_TRAIN_BACKEND: 'tfjs' } })).toBe('tfjs');
  expect(resolveTrainBackend('ort', { env: { LORAM_TRAIN_BACKEND: 'tfjs' } })).toBe('ort');
  expect(() => resolveTrainBackend('auto', { env: { LORAM_TRAIN_BACKEND: 'torch' } })).toThrow(/LORAM_TRAIN_BACKEND must be "ort" or "tfjs", got "torch"/);
});

test('checkpointing moves auto to tfjs and says why; an explicit ort is kept with a warning', () => {
  const said: string[] = [];
  expect(resolveTrainBackend('auto', { checkpointing: true, env: {}, log: (m) => said.push(m) })).toBe('tfjs');
  expect(resolveTrainBackend('ort', { checkpointing: true, env: {}, log: (m) => said.push(m) })).toBe('ort');
  expect(said[0]).toMatch(/training on TensorFlow\.js/);
  expect(said[1]).toMatch(/not applied on ONNX Runtime/);
});

test('LORAM_THREADS and LORAM_ORT_PROVIDER are checked', () => {
  expect(ortTrainOptions({ LORAM_THREADS: '3', LORAM_ORT_PROVIDER: 'webgpu' })).toEqual({ threads: 3, provider: 'webgpu' });
  // Without LORAM_THREADS: the cores shared among the nodes that compute at once.
  const cores = (ortTrainOptions({ LORAM_CONCURRENCY: '1' }).threads as number);
  expect(ortTrainOptions({ LORAM_CONCURRENCY: String(cores) }).threads).toBe(1);
  expect(ortTrainOptions({ LORAM_CONCURRENCY: String(cores * 4) }).threads).toBe(1);
  expect(() => ortTrainOptions({ LORAM_THREADS: 'two' })).toThrow(/LORAM_THREADS must be a positive integer, got "two"/);
  expect(() => ortTrainOptions({ LORAM_ORT_PROVIDER: 'metal' })).toThrow(/LORAM_ORT_PROVIDER must be cuda, webgpu, cpu or auto/);
});
