/** Planned vs measured memory: which figures, for which runtime, and when their gap is a warning. */
import { compareMemory, MEMORY_GAP_WARN, memoryFigures, memoryIncludes } from '../../../src/shared/memory';

const MiB = 2 ** 20;
const ort = (measured: number | null, planned: number | null) => ({ measured, planned, measuredRuntime: 'onnxruntime-cpu', plannedRuntime: 'onnxruntime-cpu' });

describe('compareMemory', () => {
  test('the gap is (planned − measured) / measured; over 10% either way is a warning, 10% itself is not', () => {
    expect(MEMORY_GAP_WARN).toBe(0.1);
    expect(compareMemory(ort(100 * MiB, 110 * MiB))).toMatchObject({ comparable: true, gap: 0.1, warn: false, note: null });
    expect(compareMemory(ort(100 * MiB, 90 * MiB))).toMatchObject({ gap: -0.1, warn: false, note: null });
    const over = compareMemory(ort(100 * MiB, 110.5 * MiB));
    expect(over).toMatchObject({ warn: true, note: 'planned 110.5 MiB vs measured 100.0 MiB: +11%, more than 10% apart' });
    expect(over.gap).toBeCloseTo(0.105, 10);
    expect(compareMemory(ort(80 * MiB, 60 * MiB))).toMatchObject({ gap: -0.25, warn: true, note: 'planned 60.0 MiB vs measured 80.0 MiB: -25%, more than 10% apart' });
  });

  test('figures for different runtimes, or without one, are labelled and never compared', () => {
    const tfjs = compareMemory({ measured: 10 * MiB, planned: 100 * MiB, measuredRuntime: 'tfjs', plannedRuntime: 'onnxruntime-cpu' });
    expect(tfjs).toMatchObject({ comparable: false, gap: null, warn: false, note: 'not comparable: planned for ONNX Runtime (CPU), measured on TensorFlow.js' });
    expect(compareMemory({ measured: 10 * MiB, planned: 100 * MiB, measuredRuntime: null, plannedRuntime: null })).toMatchObject({ comparable: false, gap: null, note: 'not comparable: planned for an unrecorded runtime, measured on an unrecorded runtime' });
  });

  test('one figure missing (the probe off or failed): nothing to compare, nothing to say', () => {
    expect(compareMemory(ort(null, 100 * MiB))).toMatchObject({ comparable: false, gap: null, warn: false, note: null });
    expect(compareMemory(ort(0, 100 * MiB))).toMatchObject({ comparable: false, gap: null });
  });
});

test('memoryFigures reads LoRA-Train\'s metrics; an old tfjs run had only peakTensorBytes', () => {
  expect(memoryFigures({ trainMemoryBytes: 5, plannedMemoryBytes: 6, measuredMemoryRuntime: 'onnxruntime-cpu', plannedMemoryRuntime: 'onnxruntime-cpu', peakTensorBytes: 1 })).toEqual(ort(5, 6));
  expect(memoryFigures({ peakTensorBytes: 7, plannedMemoryBytes: 'x' })).toEqual({ measured: 7, planned: null, measuredRuntime: null, plannedRuntime: null });
});

test('what each figure includes: the same components for ONNX Runtime; tfjs and unrecorded runs say they differ', () => {
  const i = memoryIncludes(ort(1, 1));
  for (const part of ['stored precision', 'LoRA', 'dropout masks', 'activations', 'logits', 'gradients', 'AdamW', 'runtime']) expect(i.planned).toContain(part);
  expect(i.measured).toMatch(/Everything the planned figure counts/);
  expect(memoryIncludes({ ...ort(1, 1), measuredRuntime: 'tfjs' }).measured).toMatch(/not comparable/);
  expect(memoryIncludes({ measured: 1, planned: 1, measuredRuntime: null, plannedRuntime: null })).toEqual({ planned: expect.stringMatching(/older run/), measured: expect.stringMatching(/older run/) });
});
