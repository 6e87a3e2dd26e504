/**
 * The training graph's memory accounting (live-bytes.ts): exact on a hand-sized graph; and on real training graphs
 * it orders the variants as memory should be ordered — checkpointing and NF4 need less, full-weight training more.
 */
import { A, DataType, GraphBuilder } from '../../../src/loram/onnx/graph';
import { makeConfig, expectedShapes, LINEAR_MODULES } from '../../../src/loram/model/config';
import { DenseBases, Nf4Bases, type BaseLinears } from '../../../src/loram/ort-train/base-linears';
import { buildTrainGraph, type TrainMode } from '../../../src/loram/ort-train/llama-graph';
import { graphMemory } from '../../../src/loram/ort-train/live-bytes';
import type { WeightMap } from '../../../src/loram/util/tensor';

test('a hand-sized graph: weights and inputs always, each intermediate until its last reader', () => {
  const g = new GraphBuilder('t');
  g.input('x', DataType.FLOAT, [10, 4]); // 160 B
  g.floatInitializer('w', [8, 4], new Float32Array(32)); // 128 B
  const y = g.op1('Gemm', ['x', 'w'], { transB: A.int(1) }); // [10, 8] 320 B
  const z = g.op1('Transpose', [y], { perm: A.ints([1, 0]) }); // [8, 10] 320 B, y freed after
  const s = g.op1('ReduceSum', [z, g.i64([1])], { keepdims: A.int(0) }); // [8] 32 B (+ the i64 constant, 8 B)
  g.output('s', s, DataType.FLOAT, [8]);
  const m = graphMemory(g);
  expect(m.initializerBytes).toBe(128 + 8);
  expect(m.inputBytes).toBe(160);
  expect(m.peakBytes).toBe(128 + 8 + 160 + 320 + 320); // y and z alive together once
});

const cfg = makeConfig({ vocabSize: 512, hiddenSize: 64, numLayers: 6, numHeads: 4, numKvHeads: 2, intermediateSize: 128, maxPositionEmbeddings: 256 });
const weights: WeightMap = new Map([...expectedShapes(cfg)].map(([n, s]) => [n, { shape: s, data: new Float32Array(s.reduce((a, b) => a * b, 1)).fill(0.01) }]));
const lora: TrainMode = { kind: 'lora', lora: { r: 8, alpha: 16, dropout: 0.1, targets: LINEAR_MODULES } };
const mem = (mode: TrainMode, bases: BaseLinears = new DenseBases(), checkpoint = false) =>
  graphMemory(buildTrainGraph({ config: cfg, weights, bases, mode, batch: 4, seqLen: 128, checkpoint }).tape.g);

test('real graphs: checkpointing < plain; NF4 base < dense; full-weight feeds the weights', () => {
  const plain = mem(lora);
  const ckpt = mem(lora, new DenseBases(), true);
  const nf4 = mem(lora, new Nf4Bases({ blockSize: 64, doubleQuant: true }));
  const full = mem({ kind: 'full', frozen: new Set(['lm_head.weight']) });
  expect(ckpt.peakBytes).toBeLessThan(plain.peakBytes * 0.8);
  expect(Math.abs(ckpt.initializerBytes - plain.initializerBytes)).toBeLessThan(64); // a few more int64 constants
  expect(nf4.initializerBytes).toBeLessThan(plain.initializerBytes * 0.6);
  expect(full.inputBytes).toBeGreaterThan(0.7 * plain.initializerBytes); // every weight but lm_head is fed
  expect(full.initializerBytes).toBeLessThan(0.3 * plain.initializerBytes);
  // Activations dominate at this size: the peak is several times the stored weights.
  expect(plain.peakBytes).toBeGreaterThan(3 * plain.initializerBytes);
});

test('pruneUnused drops nodes nothing reads (and their constants); training graphs carry none', () => {
  const g = new GraphBuilder('t');
  g.input('x', DataType.FLOAT, [4]);
  const y = g.op1('Neg', ['x']);
  const dead = g.op1('Mul', [y, g.f32([2], [])]); // read by nothing
  g.op1('Exp', [dead]); // reads only the dead value
  g.output('y', y, DataType.FLOAT, [4]);
  expect(g.pruneUnused()).toBe(2);
  expect(g.nodeInfo.map((n) => n.op)).toEqual(['Neg', 'Identity']);
  expect(g.initializers).toHaveLength(0);
  // Node names stay unique after a prune (ORT's profile names nodes by them).
  g.op1('Neg', ['x']);
  expect(new Set(g.nodeInfo.map((n) => n.name)).size).toBe(g.nodeInfo.length);

  for (const checkpoint of [false, true]) {
    const t = buildTrainGraph({ config: cfg, weights, bases: new DenseBases(), mode: lora, batch: 2, seqLen: 16, checkpoint }).tape.g;
    const read = new Set([...t.nodeInfo.flatMap((n) => n.inputs), ...t.outputs.map((o) => o.name)]);
    expect(t.nodeInfo.filter((n) => !n.outputs.some((o) => read.has(o)))).toEqual([]);
  }
});

test('Reshape / Identity outputs are views of their input (ORT aliases them): no bytes of their own, freed with the last name', () => {
  const g = new GraphBuilder('t');
  g.input('x', DataType.FLOAT, [10, 4]); // 160 B
  const y = g.op1('Neg', ['x']); // 160 B
  const r = g.op1('Reshape', [y, g.i64([10, 4])]); // a view of y (+ the i64 constant, 16 B)
  const a = g.op1('Add', [y, r]); // 160 B
  const s = g.op1('ReduceSum', [a, g.i64([0])], { keepdims: A.int(0) }); // (+ 8 B constant)
  g.output('s', s, DataType.FLOAT, [4]);
  expect(graphMemory(g).peakBytes).toBe(160 + 24 + 160 + 160); // x, constants, y (= r), a
  expect(graphMemory(g, { views: false }).peakBytes).toBe(160 + 24 + 160 + 160 + 160); // r a copy
});
