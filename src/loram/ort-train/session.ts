/**
 * One training step in ONNX Runtime: the compiled training graph in a session on the best execution provider,
 * fed a token batch, the trainable tensors and the dropout keep-masks; returns the summed loss, the counted
 * tokens and the gradients. Frozen weights stay inside the session between steps; the host copies the graph was
 * built from are not referenced once the session exists.
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as ortTypes from 'onnxruntime-node';
import { modelProto } from '../onnx/graph';
import { externalLayout, writeModelFiles } from '../onnx/write';
import { IR_VERSION, OPSET } from '../onnx/export';
import type { LmBatch } from '../model/loss';
import { IGNORE_INDEX } from '../model/loss';
import { createSession, type ExecutionProvider, type OrtOptions, type OrtSessionInfo } from '../onnx/runtime';
import { dropoutKeepMask } from '../lora/dropout';
import { numel } from '../util/tensor';
import { graphMemory, type GraphMemory } from './live-bytes';
import { buildTrainGraph, FEEDS, gradOutput, hostOwnedValues, LOSS_OUTPUT, type DropoutFeed, type FedTensor, type TrainGraphSpec } from './llama-graph';

export type OrtTrainSessionOptions = OrtOptions;

export interface StepResult {
  /** Σ token losses over counted tokens (the objective's numerator). */
  lossSum: number;
  /** Counted tokens (labels not ignored). */
  count: number;
  /** Gradients of `lossSum`, aligned with `trainables` (zeros for those off the loss path). */
  grads: Float32Array[];
}

/** What a step needs to know about its graph once the graph itself is gone. */
interface StepLayout {
  fed: FedTensor[];
  offPath: FedTensor[];
  dropoutMasks: DropoutFeed[];
  batch: number;
  seqLen: number;
  vocabSize: number;
  /** Whether the mask feed takes packed rows' segment ids (else 1/0). */
  segments: boolean;
  /** What the graph holds at its peak (live-bytes.ts). */
  memory: GraphMemory;
}


export class OrtTrainSession {
  private constructor(
    private readonly ort: typeof ortTypes,
    private readonly session: ortTypes.InferenceSession,
    readonly info: OrtSessionInfo,
    private readonly layout: StepLayout,
  ) {}

  /** Every trainable tensor in step order: the fed ones, then those off the loss path (zero gradient). */
  get trainables(): FedTensor[] {
    return [...this.layout.fed, ...this.layout.offPath];
  }

  get provider(): ExecutionProvider {
    return this.info.provider;
  }

  /**
   * Bytes of the training graph: stored weights, fed tensors, and the peak of everything alive during a step —
   * without the trainables and their gradients, which live in the host optimizer's arrays (`externalBytes`).
   */
  get memory(): GraphMemory {
    return this.layout.memory;
  }

  get batchShape(): { batch: number; seqLen: number } {
    return { batch: this.layout.batch, seqLen: this.layout.seqLen };
  }

  static async create(spec: TrainGraphSpec, opts: OrtTrainSessionOptions = {}): Promise<OrtTrainSession> {
    const ort = await import('onnxruntime-node');
    // One compiled model per variant of the storage (NF4 builds differently for providers without MatMulBnb4).
    const compiled = new Map<string, Compiled>();
    const forProvider = async (p: ExecutionProvider) => {
      const bases = spec.bases.forProvider?.(p) ?? spec.bases;
      const key = JSON.stringify(bases.domains);
      let c = compiled.get(key);
      if (!c) compiled.set(key, (c = await compile({ ...spec, bases })));
      return c;
    };
    let layout: StepLayout | null = null;
    try {
      const { session, info } = await createSession(
        async (p) => {
          const c = await forProvider(p);
          layout = c.layout;
          return c.model;
        },
        // No memory pattern: it would hold a training step's intermediates twice; no CPU arena: its chunks, kept
        // and split across a step's interleaved allocations, hold more than the step needs (onnx/runtime.ts).
        { memPattern: false, cpuArena: false, ...opts, sessionConfig: { ...spec.bases.sessionConfig, ...opts.sessionConfig } },
      );
      return new OrtTrainSession(ort, session, info, layout!);
    } finally {
      for (const c of compiled.values()) if (c.tmpDir) await fsp.rm(c.tmpDir, { recursive: true, force: true });
    }
  }

  /**
   * Loss and gradients of one micro-batch; `params` aligned with `trainables`; `seed` draws the dropout masks, and
   * a null seed evaluates (no dropout). `gradsInto` (aligned with `trainables`) receives the gradients in place —
   * the session writes them straight into those arrays, no copy — and is what `grads` then returns.
   */
  async step(batch: LmBatch, params: readonly Float32Array[], seed: number | null, gradsInto?: readonly Float32Array[]): Promise<StepResult> {
    const L = this.layout;
    if (batch.batch !== L.batch || batch.seqLen !== L.seqLen) throw new Error(`this training session is built for batches of ${L.batch} × ${L.seqLen} tokens, got ${batch.batch} × ${batch.seqLen}`);
    const feeds: Record<string, ortTypes.Tensor> = this.batchFeeds(batch);
    L.fed.forEach((f, i) => {
      const p = params[i];
      if (!p || p.length !== numel(f.shape)) throw new Error(`trainable ${f.name} has ${p?.length ?? 0} values, expected shape [${f.shape.join(', ')}]`);
      feeds[f.name] = new this.ort.Tensor('float32', p, f.shape);
    });
    for (const m of L.dropoutMasks) feeds[m.name] = new this.ort.Tensor('bool', this.keepMask(m, seed), m.shape);
    if (L.dropoutMasks.length) feeds[FEEDS.dropoutScale] = new this.ort.Tensor('float32', Float32Array.of(seed === null ? 1 : 1 / (1 - L.dropoutMasks[0]!.rate)), []);
    if (!gradsInto) {
      const out = await this.session.run(feeds);
      const grads = [...L.fed.map((f) => out[gradOutput(f.name)]!.data as Float32Array), ...L.offPath.map((f) => new Float32Array(numel(f.shape)))];
      return { lossSum: (out[LOSS_OUTPUT]!.data as Float32Array)[0]!, count: countTokens(batch.labels), grads };
    }
    const out = await this.session.run(feeds, this.fetchesInto(gradsInto));
    return { lossSum: (out[LOSS_OUTPUT]!.data as Float32Array)[0]!, count: countTokens(batch.labels), grads: [...gradsInto] };
  }

  /** One buffer per mask, redrawn in place each step (steps run one at a time); all ones when evaluating. */
  private readonly masks = new Map<string, { drawn: Uint8Array; ones: Uint8Array | null }>();

  private keepMask(m: DropoutFeed, seed: number | null): Uint8Array {
    const n = numel(m.shape);
    let b = this.masks.get(m.name);
    if (!b) this.masks.set(m.name, (b = { drawn: new Uint8Array(n), ones: null }));
    if (seed === null) return (b.ones ??= new Uint8Array(n).fill(1));
    return dropoutKeepMask(seed, m.key, n, m.rate, b.drawn);
  }

  /** Pre-allocated outputs: each fed tensor's gradient written into the caller's array; off-path ones zeroed. */
  private fetchesInto(into: readonly Float32Array[]): Record<string, ortTypes.Tensor | null> {
    const L = this.layout;
    if (into.length !== L.fed.length + L.offPath.length) throw new Error(`gradsInto has ${into.length} arrays for ${L.fed.length + L.offPath.length} trainables`);
    const fetches: Record<string, ortTypes.Tensor | null> = { [LOSS_OUTPUT]: null };
    L.fed.forEach((f, i) => {
      if (into[i]!.length !== numel(f.shape)) throw new Error(`gradient array for ${f.name} has ${into[i]!.length} values, expected shape [${f.shape.join(', ')}]`);
      fetches[gradOutput(f.name)] = new this.ort.Tensor('float32', into[i]!, f.shape);
    });
    for (let i = L.fed.length; i < into.length; i++) into[i]!.fill(0);
    return fetches;
  }

  private batchFeeds(b: LmBatch): Record<string, ortTypes.Tensor> {
    const n = b.batch * b.seqLen;
    const V = this.layout.vocabSize;
    const ids = new BigInt64Array(n);
    const labels = new BigInt64Array(n);
    const weights = new Float32Array(n);
    const mask = new Float32Array(n);
    // A graph built for 1/0 masks would read segment ids 2, 3, … as "attend more": refuse rather than mis-train.
    if (b.segments && !this.layout.segments) throw new Error('a packed batch (segment ids) for a session built without segments; start the run with segments: true');
    for (let i = 0; i < n; i++) {
      const id = b.inputIds[i]!;
      if (id < 0 || id >= V) throw new Error(`token id ${id} at position ${i} is outside the vocabulary (size ${V})`);
      ids[i] = BigInt(id);
      const l = b.labels[i]!;
      if (l !== IGNORE_INDEX) {
        if (l < 0 || l >= V) throw new Error(`label ${l} at position ${i} is outside the vocabulary (size ${V})`);
        labels[i] = BigInt(l);
        weights[i] = 1;
      }
      mask[i] = b.segments ? b.segments[i]! : b.attentionMask ? b.attentionMask[i]! : 1;
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

/** Initializer bytes above which the graph goes to a temporary .onnx + external data file instead of memory. */
const IN_MEMORY_LIMIT = 1_800_000_000;

/**
 * The model (in memory, or a temporary file with external data past protobuf's 2 GiB ceiling) and its step
 * layout; the graph, which references the host weights, is dropped here.
 */
interface Compiled {
  model: Uint8Array | string;
  tmpDir: string | null;
  layout: StepLayout;
}

async function compile(spec: TrainGraphSpec): Promise<Compiled> {
  const graph = buildTrainGraph(spec);
  const layout: StepLayout = {
    fed: graph.trainables,
    offPath: graph.offPathTrainables,
    dropoutMasks: graph.dropoutMasks,
    batch: spec.batch,
    seqLen: spec.seqLen,
    vocabSize: spec.config.vocabSize,
    segments: spec.segments ?? false,
    // The trainables and their gradients are the host optimizer's arrays (fed and written in place).
    memory: graphMemory(graph.tape.g, { external: hostOwnedValues(graph) }),
  };
  const meta = { irVersion: IR_VERSION, opset: OPSET, producerName: 'loram-studio', producerVersion: 'loram-train-1', domains: spec.bases.domains };
  const g = graph.tape.g;
  if (g.initializerBytes() < IN_MEMORY_LIMIT) return { model: await modelProto(g.toGraphProto().graph, meta).toBytes(), tmpDir: null, layout };
  const tmpDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'loram-train-'));
  const file = path.join(tmpDir, 'train.onnx');
  const ext = externalLayout(file);
  const { graph: proto, plan } = g.toGraphProto(ext);
  await writeModelFiles(modelProto(proto, meta), file, plan, path.join(tmpDir, ext.location));
  return { model: file, tmpDir, layout };
}

function countTokens(labels: Int32Array): number {
  let c = 0;
  for (const l of labels) if (l !== IGNORE_INDEX) c++;
  return c;
}
