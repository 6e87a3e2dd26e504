/**
 * The ONNX Runtime backend of bench/train: the trainers LoRA-Train and Align use on ORT (src/loram/ort-train:
 * OrtLoraRun / OrtFullRun on the shared loop, host AdamW), step times from the loop's per-step progress, on the
 * provider `auto` picks (CUDA → WebGPU → CPU; LORAM_ORT_PROVIDER pins one) with `threads` intra-op threads.
 * Forward: the same graph with nothing trainable (forward and loss only).
 */
import { makeConfig, expectedShapes, type LlamaConfig } from '../../src/loram/model/config';
import { DenseBases } from '../../src/loram/ort-train/base-linears';
import { OrtFullRun, OrtLoraRun } from '../../src/loram/ort-train/trainer';
import { OrtTrainSession } from '../../src/loram/ort-train/session';
import type { OrtTrainSessionOptions } from '../../src/loram/ort-train/session';
import type { StepInfo } from '../../src/loram/train/trainer';
import { describeSession } from '../../src/loram/onnx/runtime';
import { benchBatch } from './batch';
import { uniformBenchWeights } from '../../src/loram/util/random-weights';
import { attempt, BENCH_LORA, BENCH_OPTIM, medianAfter, peakRssBytes } from './types';
import type { MeasureOpts, Row, TrainShape } from './types';

function ortConfig(s: TrainShape): LlamaConfig {
  return makeConfig({ vocabSize: s.vocab, hiddenSize: s.hidden, numLayers: s.layers, numHeads: s.heads, numKvHeads: s.kvHeads, intermediateSize: s.intermediate, tieWordEmbeddings: s.tied });
}

function stepRecorder(): { onStep: (i: StepInfo) => void; times: number[] } {
  const times: number[] = [];
  let last = 0;
  return { times, onStep: (i) => void (times.push(i.elapsedMs - last), (last = i.elapsedMs)) };
}

const TRAIN = { steps: 0, lr: BENCH_OPTIM.lr, warmupSteps: 0, schedule: 'constant', maxGradNorm: BENCH_OPTIM.maxGradNorm, gradAccum: 1, adamw: { weightDecay: BENCH_OPTIM.weightDecay }, seed: 1 } as const;

export async function measureOrt(shape: TrainShape, threads: number, o: MeasureOpts): Promise<Row> {
  const cfg = ortConfig(shape);
  const weights = uniformBenchWeights(expectedShapes(cfg), o.seed);
  const batch = benchBatch(shape, o.seed);
  const dims = { batch: shape.batch, seqLen: shape.seq };
  const ort: OrtTrainSessionOptions = { threads, ...(process.env.LORAM_ORT_PROVIDER ? { provider: process.env.LORAM_ORT_PROVIDER as OrtTrainSessionOptions['provider'] } : {}) };
  const base = { config: cfg, weights, bases: new DenseBases() };
  const notes: string[] = [];
  const n = o.warmup + o.steps;
  let provider = 'cpu';

  const forwardMs = await attempt('forward', notes, async () => {
    const s = await OrtTrainSession.create({ ...base, mode: { kind: 'lora', lora: { ...BENCH_LORA, targets: [] } }, ...dims }, ort);
    try {
      provider = s.provider;
      notes.push(describeSession(s.info));
      const t: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await s.step(batch, [], null);
        t.push(performance.now() - t0);
      }
      return medianAfter(t, o.warmup);
    } finally {
      await s.release();
    }
  });
  const timed = async (run: OrtLoraRun | OrtFullRun) => {
    try {
      const rec = stepRecorder();
      await run.train({ batches: [batch], config: { ...TRAIN, steps: n }, onStep: rec.onStep });
      return medianAfter(rec.times, o.warmup);
    } finally {
      await run.release();
    }
  };
  const lora = { r: BENCH_LORA.r, alpha: BENCH_LORA.alpha, dropout: BENCH_LORA.dropout, targetModules: [...BENCH_LORA.targets], seed: 42 };
  const loraStepMs = await attempt('LoRA step', notes, async () => timed(await OrtLoraRun.start(base, lora, dims, ort)));
  const fullStepMs = await attempt('full-weight step', notes, async () => timed(await OrtFullRun.start(base, dims, ort)));
  return { shape: shape.name, backend: 'ort', provider, threads, loraStepMs, fullStepMs, forwardMs, tokens: shape.batch * shape.seq, peakRssBytes: peakRssBytes(), steps: o.steps, warmup: o.warmup, ...(notes.length ? { notes } : {}) };
}
