/**
 * The tfjs backend of bench/train: the trainer LoRA-Train and Align use (src/loram/train/trainer.ts through
 * trainLora / alignModel), step times from the trainer's per-step progress (elapsedMs), on the best tfjs backend
 * (LORAM_BACKEND forces one). tfjs-wasm is single-threaded in Node, so `threads` only reaches tfjs-node.
 */
import { alignModel } from '../../src/loram/align/index';
import { initBackend } from '../../src/loram/backend/backend';
import { tf } from '../../src/loram/backend/tf';
import { attachLora, trainLora } from '../../src/loram/lora/index';
import { makeConfig } from '../../src/loram/model/config';
import type { LlamaConfig } from '../../src/loram/model/config';
import { LlamaModel } from '../../src/loram/model/llama';
import { lmLoss } from '../../src/loram/model/loss';
import type { LmBatch } from '../../src/loram/model/loss';
import type { StepInfo } from '../../src/loram/train/trainer';
import { benchBatch } from './batch';
import { attempt, BENCH_LORA, BENCH_OPTIM, medianAfter, peakRssBytes } from './types';
import type { MeasureOpts, Row, TrainShape } from './types';

export function tfjsConfig(s: TrainShape): LlamaConfig {
  return makeConfig({ vocabSize: s.vocab, hiddenSize: s.hidden, numLayers: s.layers, numHeads: s.heads, numKvHeads: s.kvHeads, intermediateSize: s.intermediate, tieWordEmbeddings: s.tied });
}

/** Per-step wall times from the trainer's cumulative elapsedMs. */
function stepRecorder(): { onStep: (i: StepInfo) => void; times: number[] } {
  const times: number[] = [];
  let last = 0;
  return {
    times,
    onStep: (i) => {
      times.push(i.elapsedMs - last);
      last = i.elapsedMs;
    },
  };
}

const TRAIN = { lr: BENCH_OPTIM.lr, warmupSteps: 0, schedule: 'constant', weightDecay: BENCH_OPTIM.weightDecay, maxGradNorm: BENCH_OPTIM.maxGradNorm } as const;

/** Forward + loss without gradients on the frozen base, then LoRA steps on it. */
async function loraAndForward(cfg: LlamaConfig, batch: LmBatch, o: MeasureOpts): Promise<{ forwardMs: number; loraStepMs: number }> {
  const model = LlamaModel.random(cfg, o.seed, 0.02, { trainable: false });
  try {
    const fwd: number[] = [];
    for (let i = 0; i < o.warmup + o.steps; i++) {
      const t0 = performance.now();
      tf.tidy(() => void lmLoss(model, batch).loss.dataSync());
      fwd.push(performance.now() - t0);
    }
    const lora = attachLora(model, { r: BENCH_LORA.r, alpha: BENCH_LORA.alpha, dropout: BENCH_LORA.dropout, targetModules: [...BENCH_LORA.targets], layers: null, seed: 42 });
    const rec = stepRecorder();
    await trainLora(model, lora, { ...TRAIN, batches: [batch], steps: o.warmup + o.steps, onStep: rec.onStep });
    lora.detach();
    return { forwardMs: medianAfter(fwd, o.warmup), loraStepMs: medianAfter(rec.times, o.warmup) };
  } finally {
    model.dispose();
  }
}

/** Align's full-weight training: every weight but the embedding and lm_head. */
async function fullSteps(cfg: LlamaConfig, batch: LmBatch, o: MeasureOpts): Promise<number> {
  const model = LlamaModel.random(cfg, o.seed, 0.02, { trainable: true });
  try {
    const rec = stepRecorder();
    await alignModel(model, { ...TRAIN, batches: [batch], steps: o.warmup + o.steps, onStep: rec.onStep });
    return medianAfter(rec.times, o.warmup);
  } finally {
    model.dispose();
  }
}

export async function measureTfjs(shape: TrainShape, threads: number, o: MeasureOpts): Promise<Row> {
  const info = await initBackend({ threads });
  const cfg = tfjsConfig(shape);
  const batch = benchBatch(shape, o.seed);
  const notes: string[] = [];
  if (info.threads !== threads) notes.push(`tfjs ${info.name} runs on ${info.threads} thread(s) whatever --threads says`);
  const lf = await attempt('forward / LoRA step', notes, () => loraAndForward(cfg, batch, o));
  // Last: tfjs-wasm can run out of its heap here (SmolLM2 shape), which leaves the wasm module unusable.
  const fullStepMs = await attempt('full-weight step', notes, () => fullSteps(cfg, batch, o));
  return {
    shape: shape.name,
    backend: 'tfjs',
    provider: info.name,
    threads,
    loraStepMs: lf?.loraStepMs ?? null,
    fullStepMs,
    forwardMs: lf?.forwardMs ?? null,
    tokens: shape.batch * shape.seq,
    peakRssBytes: peakRssBytes(),
    steps: o.steps,
    warmup: o.warmup,
    ...(notes.length ? { notes } : {}),
  };
}
