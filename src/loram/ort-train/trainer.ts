/**
 * LoRA fine-tuning and full-weight alignment on ONNX Runtime, driven by the shared training loop
 * (train/trainer.ts: schedule, accumulation, clipping, progress, cancel): the session computes each micro-batch's
 * loss and gradients, the host accumulates them and applies AdamW to the trainable arrays.
 */
import type { LlamaConfig } from '../model/config';
import type { LmBatch } from '../model/loss';
import { IGNORE_INDEX } from '../model/loss';
import type { LoraAdapter } from '../lora/adapter';
import type { LoraSpec } from '../lora/attach';
import { freshLoraWeights, loraModuleSlots, type LoraModuleSlot } from '../lora/modules';
import { DEFAULT_ADAMW } from '../train/adamw';
import { HostAdamW } from '../train/host-adamw';
import type { OptimizerState } from '../train/train-state';
import { batchAt, type BatchSource } from '../train/lm-objective';
import { runTraining, type ResumeOptions, type StepBackend, type TrainConfig, type TrainOptions, type TrainResult } from '../train/trainer';
import type { WeightMap } from '../util/tensor';
import type { BaseLinears } from './base-linears';
import { loraAName, loraBName, type TrainMode } from './llama-graph';
import { OrtTrainSession, type OrtTrainSessionOptions } from './session';
import { describeSession } from '../onnx/runtime';

/** The frozen model a session is built on. */
export interface OrtBaseModel {
  config: LlamaConfig;
  weights: WeightMap;
  bases: BaseLinears;
}

/** The batch shape a session is built for, and whether it recomputes layers in the backward pass. */
export interface TrainShape {
  batch: number;
  seqLen: number;
  checkpoint?: boolean;
  /** Packed batches: attention within each row's examples (LmBatch.segments). */
  segments?: boolean;
}

/**
 * The session writes each micro-batch's gradients straight into the optimizer's arrays (the first into the
 * accumulator, later ones into receive buffers folded in by a SIMD add); AdamW runs on the host over the same
 * arrays. The optimizer trains its own copy of the weights, copied back into the run's arrays at the end.
 */
class OrtStepBackend implements StepBackend {
  private readonly opt: HostAdamW;

  constructor(
    private readonly session: OrtTrainSession,
    private readonly params: Float32Array[],
    private readonly batches: BatchSource,
    private readonly config: TrainConfig,
    decays: boolean[],
  ) {
    this.opt = new HostAdamW(params, { ...DEFAULT_ADAMW, ...config.adamw }, { decays, receive: config.gradAccum > 1 });
  }

  async accumulate(step: number, micro: number, seed: number) {
    const b = batchAt(this.batches, step, micro, this.config.gradAccum);
    const r = await this.session.step(b, this.opt.params, seed, micro === 0 ? this.opt.grads : this.opt.incoming);
    if (micro > 0) this.opt.addIncoming();
    return { lossSum: r.lossSum, count: r.count, positions: b.batch * b.seqLen };
  }

  /** The weights being trained (the optimizer's copy). */
  get weights(): readonly Float32Array[] {
    return this.opt.params;
  }

  gradNorm(denom: number): number {
    return this.opt.gradNorm(1 / denom);
  }

  update(lr: number, gradScale: number): void {
    this.opt.step(lr, gradScale);
  }

  get sizes(): number[] {
    return this.params.map((p) => p.length);
  }

  saveState(): OptimizerState {
    return this.opt.saveState();
  }

  loadState(s: OptimizerState): void {
    this.opt.loadState(s);
  }

  /** The trained weights back into the run's arrays (also after a cancel: the steps taken are kept). */
  dispose(): void {
    this.opt.params.forEach((p, i) => this.params[i]!.set(p));
  }
}

export interface OrtRunOptions extends ResumeOptions {
  batches: BatchSource;
  config: TrainConfig;
  onStep?: TrainOptions['onStep'];
  signal?: AbortSignal;
}

/** A training session and the trainable arrays it updates; `evalLoss` scores held-out batches with them. */
export class OrtTrainingRun {
  protected constructor(
    readonly session: OrtTrainSession,
    readonly params: Float32Array[],
    private readonly decays: boolean[],
  ) {}

  protected static async open(base: OrtBaseModel, mode: TrainMode, shape: TrainShape, ort: OrtTrainSessionOptions): Promise<OrtTrainSession> {
    return OrtTrainSession.create({ ...base, mode, ...shape }, ort);
  }

  /** The runtime, provider and threads this run trains on, in one line for logs and metrics. */
  get engine(): string {
    return describeSession(this.session.info);
  }

  /** The weights as they stand: the optimizer's working copy while training, else the run's arrays. */
  private live: readonly Float32Array[] | null = null;

  async train(o: OrtRunOptions): Promise<TrainResult> {
    const backend = new OrtStepBackend(this.session, this.params, o.batches, o.config, this.decays);
    this.live = backend.weights;
    try {
      return await runTraining(backend, o.config, o);
    } finally {
      this.live = null;
      backend.dispose();
    }
  }

  /** Token-weighted mean loss (no dropout) over `batches`, each padded to the session's batch with ignored rows. */
  async evalLoss(batches: readonly LmBatch[]): Promise<number> {
    let sum = 0;
    let count = 0;
    const { batch: B, seqLen: T } = this.session.batchShape;
    for (const b of batches) {
      for (let row = 0; row < b.batch; row += B) {
        const r = await this.session.step(rowsOf(b, row, B, T), this.live ?? this.params, null);
        sum += r.lossSum;
        count += r.count;
      }
    }
    return count ? sum / count : NaN;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Rows [row, row + B) of a batch of sequence length T, filled up to B rows with ignored padding. */
function rowsOf(b: LmBatch, row: number, B: number, T: number): LmBatch {
  if (b.seqLen !== T) throw new Error(`evaluation batch has sequence length ${b.seqLen}; the session is built for ${T}`);
  if (row === 0 && b.batch === B) return b;
  const n = Math.min(B, b.batch - row);
  const inputIds = new Int32Array(B * T);
  const labels = new Int32Array(B * T).fill(IGNORE_INDEX);
  const attentionMask = new Int32Array(B * T);
  inputIds.set(b.inputIds.subarray(row * T, (row + n) * T));
  labels.set(b.labels.subarray(row * T, (row + n) * T));
  if (b.attentionMask) attentionMask.set(b.attentionMask.subarray(row * T, (row + n) * T));
  else attentionMask.fill(1, 0, n * T);
  const segments = b.segments ? new Int32Array(B * T) : undefined;
  segments?.set(b.segments!.subarray(row * T, (row + n) * T));
  return { inputIds, labels, attentionMask, ...(segments ? { segments } : {}), batch: B, seqLen: T };
}

/** LoRA on a frozen (pruned, aligned or NF4) base: A and B train, PEFT initialisation shared with the tfjs path. */
export class OrtLoraRun extends OrtTrainingRun {
  private constructor(
    session: OrtTrainSession,
    params: Float32Array[],
    private readonly spec: LoraSpec,
    private readonly slots: LoraModuleSlot[],
  ) {
    super(session, params, params.map(() => true));
  }

  static async start(base: OrtBaseModel, spec: LoraSpec, shape: TrainShape, ort: OrtTrainSessionOptions = {}): Promise<OrtLoraRun> {
    const mode: TrainMode = { kind: 'lora', lora: { r: spec.r, alpha: spec.alpha, dropout: spec.dropout, targets: spec.targetModules, layers: spec.layers ?? null } };
    const session = await OrtTrainingRun.open(base, mode, shape, ort);
    const slots = loraModuleSlots(base.config, spec);
    const init = freshLoraWeights(slots, spec.r, spec.seed ?? 42);
    const byName = new Map<string, Float32Array>();
    for (const [key, w] of init) {
      byName.set(loraAName(key), w.A.data);
      byName.set(loraBName(key), w.B.data);
    }
    const params = session.trainables.map((f) => byName.get(f.name)!);
    return new OrtLoraRun(session, params, spec, slots);
  }

  numParams(): number {
    return this.params.reduce((n, p) => n + p.length, 0);
  }

  /** The trained adapter in PEFT layout (copies of the arrays), modules in model order. */
  adapter(baseModel = ''): LoraAdapter {
    const byName = new Map(this.session.trainables.map((f, i) => [f.name, { shape: [...f.shape], data: new Float32Array(this.params[i]!) }]));
    const modules = new Map(this.slots.map((slot) => [slot.key, { A: byName.get(loraAName(slot.key))!, B: byName.get(loraBName(slot.key))! }] as const));
    const s = this.spec;
    return { config: { r: s.r, alpha: s.alpha, dropout: s.dropout, targetModules: [...s.targetModules], layers: s.layers ? [...s.layers] : null, baseModel }, modules };
  }
}

/**
 * Full-weight training (alignment): every weight but lm_head (and so, when tied, the embedding) trains, in place
 * in `base.weights`; every trained tensor takes weight decay when it is set, as in the tfjs path.
 */
export class OrtFullRun extends OrtTrainingRun {
  static async start(base: OrtBaseModel, shape: TrainShape, ort: OrtTrainSessionOptions = {}): Promise<OrtFullRun> {
    const frozen = new Set([base.config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight']);
    const session = await OrtTrainingRun.open(base, { kind: 'full', frozen }, shape, ort);
    const params = session.trainables.map((f) => base.weights.get(f.name)!.data);
    return new OrtFullRun(session, params, session.trainables.map(() => true));
  }

  numParams(): number {
    return this.params.reduce((n, p) => n + p.length, 0);
  }
}
