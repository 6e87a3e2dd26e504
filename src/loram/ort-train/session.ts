/**
 * One training step in ONNX Runtime: the compiled training graph in a session on the best execution provider,
 * fed a token batch, the trainable tensors and the dropout keep-masks; returns the summed loss, the counted
 * tokens and the gradients. Frozen weights stay inside the session between steps.
 */
import type * as ortTypes from 'onnxruntime-node';
import { modelProto } from '../onnx/graph';
import { IR_VERSION, OPSET } from '../onnx/export';
import type { LmBatch } from '../model/loss';
import { IGNORE_INDEX } from '../model/loss';
import { createSession, type ExecutionProvider, type OrtOptions, type OrtSessionInfo } from '../onnx/runtime';
import { buildTrainGraph, FEEDS, gradOutput, LOSS_OUTPUT, type FedTensor, type TrainGraph, type TrainGraphSpec } from './llama-graph';
import { dropoutKeepMask } from '../lora/dropout';

export interface OrtTrainSessionOptions extends OrtOptions {}

export interface StepResult {
  /** Σ token losses over counted tokens (the objective's numerator). */
  lossSum: number;
  /** Counted tokens (labels not ignored). */
  count: number;
  /** Gradients of `lossSum`, aligned with `trainables` (zeros for those off the loss path). */
  grads: Float32Array[];
}

export class OrtTrainSession {
  private constructor(
    private readonly ort: typeof ortTypes,
    private readonly session: ortTypes.InferenceSession,
    readonly info: OrtSessionInfo,
    private readonly graph: TrainGraph,
    private readonly spec: Pick<TrainGraphSpec, 'batch' | 'seqLen'>,
    private readonly extraFeeds: Record<string, ortTypes.Tensor>,
  ) {}

  /** Every trainable tensor in step order: the fed ones, then those off the loss path (zero gradient). */
  get trainables(): FedTensor[] {
    return [...this.graph.trainables, ...this.graph.offPathTrainables];
  }

  get provider(): ExecutionProvider {
    return this.info.provider;
  }

  static async create(spec: TrainGraphSpec, opts: OrtTrainSessionOptions = {}): Promise<OrtTrainSession> {
    const ort = await import('onnxruntime-node');
    const graph = buildTrainGraph(spec);
    const { graph: proto } = graph.tape.g.toGraphProto();
    const bytes = await modelProto(proto, {
      irVersion: IR_VERSION,
      opset: OPSET,
      producerName: 'loram-studio',
      producerVersion: 'loram-train-1',
      domains: spec.bases.domains,
    }).toBytes();
    const { session, info } = await createSession(bytes, opts);
    const extra: Record<string, ortTypes.Tensor> = {};
    for (const [name, f] of spec.bases.feeds) extra[name] = new ort.Tensor(f.type, f.data, f.dims);
    return new OrtTrainSession(ort, session, info, graph, { batch: spec.batch, seqLen: spec.seqLen }, extra);
  }

  /** Loss and gradients of one micro-batch; `params` aligned with `trainables`; `seed` draws the dropout masks. */
  async step(batch: LmBatch, params: readonly Float32Array[], seed: number): Promise<StepResult> {
    const { batch: B, seqLen: T } = this.spec;
    if (batch.batch !== B || batch.seqLen !== T) throw new Error(`this training session is built for batches of ${B} × ${T} tokens, got ${batch.batch} × ${batch.seqLen}`);
    const feeds: Record<string, ortTypes.Tensor> = { ...this.extraFeeds, ...this.batchFeeds(batch) };
    this.graph.trainables.forEach((f, i) => {
      const p = params[i]!;
      if (p.length !== f.shape.reduce((a, b) => a * b, 1)) throw new Error(`trainable ${f.name} has ${p.length} values, expected shape [${f.shape.join(', ')}]`);
      feeds[f.name] = new this.ort.Tensor('float32', p, f.shape);
    });
    for (const m of this.graph.dropoutMasks) feeds[m.name] = new this.ort.Tensor('bool', dropoutKeepMask(seed, m.key, m.shape[0]! * m.shape[1]!, m.rate), m.shape);
    const out = await this.session.run(feeds);
    const count = countTokens(batch.labels);
    const lossSum = (out[LOSS_OUTPUT]!.data as Float32Array)[0]!;
    const grads = this.graph.trainables.map((f) => out[gradOutput(f.name)]!.data as Float32Array);
    for (const f of this.graph.offPathTrainables) grads.push(new Float32Array(f.shape.reduce((a, b) => a * b, 1)));
    return { lossSum, count, grads };
  }

  private batchFeeds(b: LmBatch): Record<string, ortTypes.Tensor> {
    const n = b.batch * b.seqLen;
    const ids = new BigInt64Array(n);
    const labels = new BigInt64Array(n);
    const weights = new Float32Array(n);
    const mask = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      ids[i] = BigInt(b.inputIds[i]!);
      const l = b.labels[i]!;
      if (l !== IGNORE_INDEX) {
        labels[i] = BigInt(l);
        weights[i] = 1;
      }
      mask[i] = b.attentionMask ? b.attentionMask[i]! : 1;
    }
    return {
      [FEEDS.ids]: new this.ort.Tensor('int64', ids, [b.batch, b.seqLen]),
      [FEEDS.mask]: new this.ort.Tensor('float32', mask, [b.batch, b.seqLen]),
      [FEEDS.labels]: new this.ort.Tensor('int64', labels, [n, 1]),
      [FEEDS.weights]: new this.ort.Tensor('float32', weights, [n, 1]),
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function countTokens(labels: Int32Array): number {
  let c = 0;
  for (const l of labels) if (l !== IGNORE_INDEX) c++;
  return c;
}
