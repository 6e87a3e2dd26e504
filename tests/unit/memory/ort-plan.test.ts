/**
 * The ORT planner builds the trainer's own graph on placeholder weights: its weights, feeds and peak must equal the
 * live-bytes accounting of the session the trainer builds on real weights (same config, every mode).
 */
import { expectedShapes, LORA_TARGETS, makeConfig } from '../../../src/loram/model/config';
import { keptLayerSizes } from '../../../src/loram/memory/planner';
import { HOST_BYTES_PER_TRAINABLE, HOST_RECEIVE_BYTES_PER_TRAINABLE, ORT_RUNTIME_BYTES_PER_NODE, ORT_RUNTIME_FIXED_BYTES, ortRuntimeBytes, planOrtTraining } from '../../../src/loram/memory/ort-plan';
import { DenseBases, Nf4Bases } from '../../../src/loram/ort-train/base-linears';
import { buildTrainGraph, hostOwnedValues } from '../../../src/loram/ort-train/llama-graph';
import { graphMemory } from '../../../src/loram/ort-train/live-bytes';
import { nf4StorageBytesFor } from '../../../src/loram/quant/nf4';
import type { WeightMap } from '../../../src/loram/util/tensor';

const base = makeConfig({ vocabSize: 96, hiddenSize: 64, numLayers: 6, numHeads: 4, numKvHeads: 2, intermediateSize: 160, tieWordEmbeddings: false, maxPositionEmbeddings: 64 });

function realWeights(cfg: typeof base): WeightMap {
  let s = 1;
  return new Map([...expectedShapes(cfg)].map(([n, shape]) => [n, { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => ((s = (s * 16807) % 2147483647) / 2147483647 - 0.5) * 0.1) }]));
}

describe('planOrtTraining', () => {
  test.each([
    ['none', 0, 'none', false],
    ['none', 0, 'none', true],
    ['stru', 0.5, 'none', false],
    ['stru', 0.5, 'none', true],
    ['stru', 0.85, 'nf4', false],
    ['stru', 0.85, 'nf4', true],
    ['stru', 0.5, 'nf4-plain', false],
  ] as const)('%s p=%s quant %s checkpointing %s: the real graph\'s live bytes', (strategy, ratio, quantName, checkpointing) => {
    const lora = { rank: 4, alpha: 8, dropout: 0.1, targets: LORA_TARGETS };
    const quant = quantName === 'none' ? 'none' : 'nf4';
    const nf4 = { blockSize: quantName === 'nf4-plain' ? 128 : 64, doubleQuant: quantName === 'nf4' };
    const plan = planOrtTraining({ model: base, strategy, ratio, quant, nf4, lora, batch: 2, seqLen: 16, checkpointing });
    const cfg = { ...base, layers: strategy === 'none' ? base.layers : keptLayerSizes(base, ratio) };
    expect(plan.config.layers).toEqual(cfg.layers);
    const bases = quant === 'nf4' ? new Nf4Bases(nf4) : new DenseBases();
    const g = buildTrainGraph({ config: cfg, weights: realWeights(cfg), bases, mode: { kind: 'lora', lora: { r: 4, alpha: 8, dropout: 0.1, targets: LORA_TARGETS } }, batch: 2, seqLen: 16, checkpoint: checkpointing });
    // The trainables and their gradients live in the host optimizer's arrays (fed in place, written in place).
    const real = graphMemory(g.tape.g, { external: hostOwnedValues(g) });
    const n = [...g.trainables, ...g.offPathTrainables].reduce((a, f) => a + f.shape.reduce((x, y) => x * y, 1), 0);
    const onPath = g.trainables.reduce((a, f) => a + f.shape.reduce((x, y) => x * y, 1), 0);
    expect(real.externalBytes).toBe(2 * 4 * onPath);
    expect(plan.bytes.weights).toBe(real.initializerBytes);
    expect(plan.bytes.fed).toBe(real.inputBytes);
    expect(plan.bytes.weights + plan.bytes.fed + plan.bytes.activations).toBe(real.peakBytes);
    expect(plan.trainableParams).toBe(n);
    expect(plan.bytes.optimizer).toBe(n * HOST_BYTES_PER_TRAINABLE);
    expect(plan.graphNodes).toBe(g.tape.g.nodes.length);
    expect(plan.bytes.runtime).toBe(ortRuntimeBytes(g.tape.g.nodes.length));
    expect(plan.bytes.total).toBe(real.peakBytes + n * HOST_BYTES_PER_TRAINABLE + plan.bytes.runtime);
  });

  test('runtime term: a fixed part and a part per graph node (checkpointing and NF4 add nodes, so runtime)', () => {
    expect(ortRuntimeBytes(0)).toBe(ORT_RUNTIME_FIXED_BYTES);
    expect(ortRuntimeBytes(1000) - ortRuntimeBytes(0)).toBe(1000 * ORT_RUNTIME_BYTES_PER_NODE);
    const plain = planOrtTraining({ model: base, strategy: 'none', batch: 1, seqLen: 16 });
    const ckpt = planOrtTraining({ model: base, strategy: 'none', batch: 1, seqLen: 16, checkpointing: true });
    expect(ckpt.graphNodes).toBeGreaterThan(plain.graphNodes);
    expect(ckpt.bytes.runtime - plain.bytes.runtime).toBe((ckpt.graphNodes - plain.graphNodes) * ORT_RUNTIME_BYTES_PER_NODE);
  });

  test('host term: working copy, m, v, gradient accumulator and the run\'s arrays (20 B); a receive buffer with accumulation (24 B)', () => {
    const one = planOrtTraining({ model: base, strategy: 'none', batch: 1, seqLen: 16 });
    const acc = planOrtTraining({ model: base, strategy: 'none', batch: 1, seqLen: 16, gradAccum: 4 });
    expect(HOST_BYTES_PER_TRAINABLE).toBe(20);
    expect(one.bytes.optimizer).toBe(20 * one.trainableParams);
    expect(acc.bytes.optimizer).toBe((HOST_BYTES_PER_TRAINABLE + HOST_RECEIVE_BYTES_PER_TRAINABLE) * one.trainableParams);
    expect(acc.bytes.total - one.bytes.total).toBe(4 * one.trainableParams);
  });

  test('NF4 stores decoder linears at 4.127 bits (+ f16 embedding and lm_head); checkpointing lowers the peak', () => {
    const dense = planOrtTraining({ model: base, strategy: 'stru', ratio: 0.5, batch: 2, seqLen: 32 });
    const q = planOrtTraining({ model: base, strategy: 'stru', ratio: 0.5, quant: 'nf4', batch: 2, seqLen: 32 });
    let linear = 0;
    for (const [name, shape] of expectedShapes(q.config)) if (/_proj\.weight$/.test(name)) linear += nf4StorageBytesFor(shape[0]! * shape[1]!, { blockSize: 64, doubleQuant: true });
    const halfs = 2 * base.vocabSize * base.hiddenSize * 2;
    const norms = (2 * base.numLayers + 1) * base.hiddenSize * 4;
    // + the shared 256-entry maps (absmax dynamic map and the NF4 pair table) and the small rope / mask constants.
    expect(q.bytes.weights - (linear + halfs + norms)).toBeGreaterThan(0);
    expect(q.bytes.weights - (linear + halfs + norms)).toBeLessThan(64 * 1024);
    expect(q.bytes.weights).toBeLessThan(dense.bytes.weights / 2);
    const big = { model: 'tinyllama-1.1b' as const, strategy: 'none' as const, batch: 1, seqLen: 256 };
    expect(planOrtTraining({ ...big, checkpointing: true }).bytes.activations).toBeLessThan(planOrtTraining(big).bytes.activations / 2);
  });

  test('a 70B plan costs no weight memory (placeholders) and answers in seconds', () => {
    const before = process.memoryUsage().rss;
    const p = planOrtTraining({ model: 'llama-3.1-70b', strategy: 'stru', ratio: 0.85, quant: 'nf4', batch: 1, seqLen: 512, checkpointing: true });
    expect(p.bytes.weights / 2 ** 30).toBeGreaterThan(11);
    expect(p.bytes.weights / 2 ** 30).toBeLessThan(12);
    expect(process.memoryUsage().rss - before).toBeLessThan(2 * 2 ** 30);
  });
});
