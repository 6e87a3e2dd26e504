/** LoRA-Train's memory metrics from a plan and a measurement: the breakdown, the runtimes, the gap when comparable. */
import { measuredTrainingMemory, memoryMetrics, probeLimitBytes, probeSpec } from '../../../src/nodes/train-memory';
import type { NodeContext } from '../../../src/nodes/definition';
import type { OrtPlan } from '../../../src/loram/memory/ort-plan';
import { makeConfig } from '../../../src/loram/model/config';
import type { ModelLineage } from '../../../src/shared';

const MiB = 2 ** 20;
const plan = { bytes: { weights: 10 * MiB, fed: 1 * MiB, activations: 30 * MiB, optimizer: 2 * MiB, runtime: 32 * MiB, total: 75 * MiB } } as OrtPlan;

test('ONNX Runtime: planned and measured for the same runtime, the gap in percent (one decimal)', () => {
  expect(memoryMetrics(plan, { bytes: 70 * MiB, runtime: 'onnxruntime-cpu' })).toEqual({
    trainMemoryBytes: 70 * MiB,
    measuredMemoryRuntime: 'onnxruntime-cpu',
    plannedMemoryBytes: 75 * MiB,
    plannedMemoryRuntime: 'onnxruntime-cpu',
    plannedWeightsBytes: 10 * MiB,
    plannedActivationsBytes: 31 * MiB,
    plannedOptimizerBytes: 2 * MiB,
    plannedRuntimeBytes: 32 * MiB,
    memoryGapPct: 7.1,
  });
});

test('tfjs, or no measurement: no gap', () => {
  expect(memoryMetrics(plan, { bytes: 20 * MiB, runtime: 'tfjs' })).toMatchObject({ trainMemoryBytes: 20 * MiB, measuredMemoryRuntime: 'tfjs', memoryGapPct: null });
  expect(memoryMetrics(plan, { bytes: null, runtime: 'onnxruntime-cpu' })).toMatchObject({ trainMemoryBytes: null, memoryGapPct: null });
});

test('the probe measures the run\'s own settings: config, NF4 storage from the lineage, LoRA, batch, checkpointing, accumulation', () => {
  const config = makeConfig({ vocabSize: 64, hiddenSize: 16, numLayers: 2, numHeads: 2, numKvHeads: 1, intermediateSize: 32 });
  const lineage = { origin: { id: 'x', name: 'x' }, transforms: [{ kind: 'quantize', scheme: 'nf4', blockSize: 128, doubleQuant: false }] } as unknown as ModelLineage;
  const s = { config, lineage, rank: 4, alpha: 8, dropout: 0.1, targets: ['q_proj', 'v_proj'] as const, batchSize: 3, seqLen: 32, gradientCheckpointing: true, gradAccum: 2, threads: 1 };
  expect(probeSpec(s)).toEqual({ config, nf4: { blockSize: 128, doubleQuant: false }, lora: { r: 4, alpha: 8, dropout: 0.1, targetModules: ['q_proj', 'v_proj'] }, batch: 3, seqLen: 32, checkpoint: true, gradAccum: 2, steps: 2, threads: 1 });
  expect(probeSpec({ ...s, lineage: { ...lineage, transforms: [] } }).nf4).toBeNull();
});

test('a step planned over the probe limit is not replayed: the log says why, the measured figure is absent', async () => {
  expect(probeLimitBytes({})).toBe(4 * 2 ** 30);
  expect(probeLimitBytes({ LORAM_MEMORY_PROBE_MAX_GIB: '0.5' })).toBe(0.5 * 2 ** 30);
  const lines: string[] = [];
  const ctx = { log: (m: string) => lines.push(m), signal: new AbortController().signal } as unknown as NodeContext;
  const settings = {} as Parameters<typeof measuredTrainingMemory>[1];
  await expect(measuredTrainingMemory(ctx, settings, 5 * 2 ** 30)).resolves.toBeNull();
  expect(lines.join('\n')).toMatch(/the planned step \(5\.0 GiB\) is over the probe's limit \(4\.0 GiB, LORAM_MEMORY_PROBE_MAX_GIB\)/);
});
