/**
 * ONNX Runtime (onnxruntime-node) execution of exported LLaMA graphs: session creation (CUDA execution
 * provider when it starts, else WebGPU, else CPU — the choice and the reason are reported), configurable intra-op
 * threads, batched scoring with padding, and greedy / temperature / top-p generation over the KV cache
 * (each new token costs one position, not the whole prefix).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { LlamaConfig } from '../model/config';
import type { WeightMap } from '../util/tensor';
import type { CausalLM, GenerateOptions, GenerationOutput, TokenBatch } from '../eval/lm';
import { checkPrompts, leftPad, makeSampler } from '../eval/lm';
import { exportOnnxCached, type OnnxArtifact, type OnnxExportOptions } from './export';
import { threadsPerNode } from '../backend/cores';
import { DataType, GraphBuilder, modelProto } from './graph';

/** In the order `auto` tries them: CUDA where its build is installed, WebGPU where an adapter exists, else CPU. */
export const EXECUTION_PROVIDERS = ['cuda', 'webgpu', 'cpu'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

export interface OrtOptions {
  /** 'auto' (default): CUDA if its provider starts, else WebGPU if an adapter exists, else CPU. A named provider fails if it cannot start. */
  provider?: 'auto' | ExecutionProvider;
  /** Intra-op threads (default: this node's share of the cores, backend/cores.ts). */
  threads?: number;
  /**
   * Let idle intra-op threads spin-wait for work (ORT's default, true). Spinning is fastest on an idle machine
   * but wastes the cores other processes need on a busy one; false makes idle workers sleep.
   */
  spinning?: boolean;
  /** ORT log level (0 verbose … 4 fatal). Default 3 (errors only). */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /** Extra session config entries (e.g. `optimization.disable_specified_optimizers`). */
  sessionConfig?: Record<string, string>;
  /**
   * ORT's memory pattern (default on): from the second run on, one block sized by the first run's allocations is
   * reserved for all intermediates. The first run's arena chunks stay too, so a training graph's intermediates
   * are held about twice (bench/loram-memory: SmolLM2-135M LoRA peak 1818 MiB with it, 1218 MiB without, over 2
   * steps). Training sessions turn it off.
   */
  memPattern?: boolean;
  /**
   * ORT's CPU arena (default on). Off, every tensor is its own malloc and goes back to the allocator when freed.
   * Training sessions turn it off: the arena grows in doubling regions and keeps freed chunks, which a training
   * step's interleaved lifetimes (checkpointed recomputation, NF4 dequantization) fragment — bench/loram-memory,
   * SmolLM2-135M batch 1 × 256: QLoRAM-Stru p 0.85 checkpointed 526 MiB with it, 447 without; LoRA 1226 / 1188
   * MiB. The price is the allocator's: with the bench's MALLOC_MMAP_THRESHOLD_ every large tensor is a fresh
   * mapping, about 0.5 s more system time per checkpointed SmolLM2-135M step on 2 threads; without that setting
   * (glibc's own threshold) SmolLM2-135M LoRA steps at one thread take 1298 vs 1180 ms, checkpointed 1772 vs 1673
   * (.scratch A/B, 1 × 128 tokens). LORAM_ORT_ARENA=on (nodes/train-backend.ts) buys the speed back.
   */
  cpuArena?: boolean;
  /** Write ORT's profile (each node's start, in the order it ran) to a file with this prefix. */
  profilePrefix?: string;
}

/** A model for a session: a file, bytes, or bytes built for the provider being tried (ops differ per provider). */
export type SessionModel = string | Uint8Array | ((provider: ExecutionProvider) => Promise<string | Uint8Array>);

export interface OrtSessionInfo {
  provider: ExecutionProvider;
  threads: number;
  spinning: boolean;
  /** Why the providers before the one used did not start (when provider was 'auto'). */
  fallbackReason?: string;
  ortVersion: string;
}

export interface OrtSession {
  session: ort.InferenceSession;
  info: OrtSessionInfo;
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 300);
}

/**
 * Why the CUDA provider cannot work here, or null if its library is installed. Checked before trying, because
 * a failed attempt makes ORT print a library-loading error to stderr that no log level silences.
 */
export function cudaUnavailableReason(): string | null {
  let pkgDir: string;
  try {
    pkgDir = path.dirname(path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node')));
  } catch (e) {
    return `onnxruntime-node not found (${firstLine(e)})`;
  }
  const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  const binRoot = path.join(pkgDir, 'bin');
  let found = false;
  try {
    for (const napi of fs.readdirSync(binRoot)) {
      if (fs.existsSync(path.join(binRoot, napi, process.platform, process.arch, lib))) found = true;
    }
  } catch {
    // no bin folder: treated as not installed
  }
  return found ? null : `${lib} is not installed with onnxruntime-node (install its CUDA build to use a GPU)`;
}

const PROVIDER_NAMES: Record<ExecutionProvider, string> = { cuda: 'CUDAExecutionProvider', webgpu: 'WebGpuExecutionProvider', cpu: 'CPUExecutionProvider' };

/** One plain line for logs and metrics: runtime, provider and threads (why others were passed over is in `fallbackReason`). */
export function describeSession(i: OrtSessionInfo): string {
  const threads = i.provider === 'cpu' ? `, ${i.threads} intra-op thread${i.threads === 1 ? '' : 's'}${i.spinning ? '' : ', no spinning'}` : '';
  return `onnxruntime-node ${i.ortVersion} (${PROVIDER_NAMES[i.provider]}${threads})`;
}

/** Session config entries: spinning off when asked, plus the caller's own (ORT reads them as dotted keys). */
function sessionExtra(opts: OrtOptions): Record<string, unknown> {
  const extra: Record<string, unknown> = { ...(opts.sessionConfig ?? {}) };
  if (opts.spinning === false) Object.assign(extra, { 'session.intra_op.allow_spinning': '0', 'session.inter_op.allow_spinning': '0' });
  return extra;
}

/** ORT's adapter error is a page of source locations; what it means fits in three words. */
function shortReason(provider: ExecutionProvider, e: unknown): string {
  const msg = firstLine(e);
  if (provider === 'webgpu' && /WebGPU adapter/i.test(msg)) return 'no WebGPU adapter';
  return msg;
}

/** Why a provider cannot be tried at all (checked first: a failed CUDA load prints to stderr whatever the log level). */
async function unavailableReason(p: ExecutionProvider): Promise<string | null> {
  if (p === 'cuda') return cudaUnavailableReason();
  if (p === 'webgpu') return webgpuUnavailableReason();
  return null;
}

let webgpuProbe: Promise<string | null> | null = null;

/** Whether the dynamic loader can find libvulkan.so.1 (LD_LIBRARY_PATH, then the usual system folders). */
function vulkanLoaderPresent(): boolean {
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu', '/usr/local/lib'];
  return dirs.some((d) => fs.existsSync(path.join(d, 'libvulkan.so.1')));
}

/**
 * Whether a WebGPU adapter exists, asked once per process with a one-node model, so a large graph is never built
 * for a provider that cannot start.
 */
export function webgpuUnavailableReason(): Promise<string | null> {
  return (webgpuProbe ??= (async () => {
    // Dawn prints a warning to stderr when it cannot load the Vulkan loader; look for it first.
    if (process.platform === 'linux' && !vulkanLoaderPresent()) return 'no Vulkan loader (libvulkan.so.1)';
    const g = new GraphBuilder('probe');
    g.input('x', DataType.FLOAT, [1]);
    g.output('y', g.op1('Neg', ['x']), DataType.FLOAT, [1]);
    const bytes = await modelProto(g.toGraphProto().graph, { irVersion: 8, opset: 17, producerName: 'loram-studio', producerVersion: 'probe' }).toBytes();
    try {
      const s = await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'], logSeverityLevel: 3 });
      await s.release();
      return null;
    } catch (e) {
      return shortReason('webgpu', e);
    }
  })());
}

/**
 * Create a session for a model file or in-memory model, on the first provider of CUDA → WebGPU → CPU that
 * starts (or on the one asked for). The choice and why the others were passed over are in `info`.
 */
export async function createSession(model: SessionModel, opts: OrtOptions = {}): Promise<OrtSession> {
  const threads = opts.threads ?? threadsPerNode();
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads must be a positive integer, got ${threads}`);
  const want = opts.provider ?? 'auto';
  const base: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: opts.logSeverityLevel ?? 3,
    extra: sessionExtra(opts),
    ...(opts.memPattern === false ? { enableMemPattern: false } : {}),
    ...(opts.cpuArena === false ? { enableCpuMemArena: false } : {}),
    ...(opts.profilePrefix ? { enableProfiling: true, profileFilePrefix: opts.profilePrefix } : {}),
  };
  const ortVersion = ort.env.versions?.node ?? 'unknown';
  const skipped: string[] = [];
  for (const provider of want === 'auto' ? EXECUTION_PROVIDERS : [want]) {
    const missing = await unavailableReason(provider);
    if (missing && want !== 'auto') throw new Error(`the ${provider} execution provider could not start: ${missing}`);
    if (missing) {
      skipped.push(`${provider}: ${missing}`);
      continue;
    }
    try {
      const o = { ...base, executionProviders: [provider] };
      const m = typeof model === 'function' ? await model(provider) : model;
      const session = typeof m === 'string' ? await ort.InferenceSession.create(m, o) : await ort.InferenceSession.create(m, o);
      const info: OrtSessionInfo = { provider, threads, spinning: opts.spinning ?? true, ortVersion };
      if (skipped.length) info.fallbackReason = skipped.join('; ');
      return { session, info };
    } catch (e) {
      if (want !== 'auto' || provider === 'cpu') throw new Error(`the ${provider} execution provider could not start: ${firstLine(e)}`);
      skipped.push(`${provider}: ${shortReason(provider, e)}`);
    }
  }
  throw new Error(`no execution provider could start (${skipped.join('; ')})`);
}

function toInt64(a: ArrayLike<number>): BigInt64Array {
  const out = new BigInt64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = BigInt(a[i]!);
  return out;
}

export interface OrtCausalLMOptions extends OrtOptions {
  /** Token id used for padding (default: the model's pad id, else EOS, else 0). Its value never matters. */
  padTokenId?: number;
}

export interface OrtFromWeightsOptions extends OrtCausalLMOptions, Omit<OnnxExportOptions, 'kind'> {
  /** Where exports are cached by content hash. */
  cacheDir: string;
  /** Which graphs to export (default both; scoring uses `logits`, generation `kv`). */
  kinds?: ('logits' | 'kv')[];
}

/**
 * A causal LM on ONNX Runtime. Holds a `logits` session for scoring and/or a `kv` session for generation
 * (scoring falls back to the `kv` graph with an empty cache when only that one exists). Sessions are created
 * on first use.
 */
export class OrtCausalLM implements CausalLM {
  readonly runtime = 'onnxruntime' as const;
  readonly vocabSize: number;
  readonly maxLength: number;
  private scoring?: Promise<OrtSession>;
  private generation?: Promise<OrtSession>;
  private lastInfo?: OrtSessionInfo;
  private disposed = false;
  private readonly pad: number;

  private constructor(readonly artifacts: { logits?: OnnxArtifact; kv?: OnnxArtifact }, private readonly opts: OrtCausalLMOptions) {
    const a = artifacts.logits ?? artifacts.kv;
    if (!a) throw new Error('OrtCausalLM needs a logits or kv export');
    if (artifacts.logits && artifacts.logits.kind !== 'logits') throw new Error(`${artifacts.logits.modelPath} is a ${artifacts.logits.kind} export, not logits`);
    if (artifacts.kv && artifacts.kv.kind !== 'kv') throw new Error(`${artifacts.kv.modelPath} is a ${artifacts.kv.kind} export, not kv`);
    this.vocabSize = a.vocabSize;
    this.maxLength = a.maxPositions;
    this.pad = opts.padTokenId ?? a.padTokenId ?? a.eosTokenId ?? 0;
  }

  /** Open existing exports. */
  static async open(artifacts: { logits?: OnnxArtifact; kv?: OnnxArtifact }, opts: OrtCausalLMOptions = {}): Promise<OrtCausalLM> {
    return new OrtCausalLM(artifacts, opts);
  }

  /** Export (or reuse cached exports of) a config + merged weights, then open them. */
  static async fromWeights(cfg: LlamaConfig, weights: WeightMap, opts: OrtFromWeightsOptions): Promise<OrtCausalLM> {
    const kinds = opts.kinds ?? ['logits', 'kv'];
    const { cacheDir, kinds: _k, provider, threads, spinning, logSeverityLevel, padTokenId, ...exportOpts } = opts;
    const arts: { logits?: OnnxArtifact; kv?: OnnxArtifact } = {};
    for (const kind of kinds) arts[kind] = await exportOnnxCached(cfg, weights, cacheDir, { ...exportOpts, kind });
    return new OrtCausalLM(arts, { provider, threads, spinning, logSeverityLevel, padTokenId });
  }

  /** Session info of the most recently created session (provider, threads, fallback reason). */
  async sessionInfo(): Promise<OrtSessionInfo> {
    if (this.lastInfo) return this.lastInfo;
    return (await this.scoringSession()).info;
  }

  get backend(): string {
    return this.lastInfo?.provider ?? 'cpu';
  }

  get backendDetail(): string {
    const i = this.lastInfo;
    if (!i) return 'onnxruntime-node (no session yet)';
    return describeSession(i);
  }

  private open(a: OnnxArtifact): Promise<OrtSession> {
    if (this.disposed) throw new Error('OrtCausalLM was disposed');
    return createSession(a.modelPath, this.opts).then((s) => {
      this.lastInfo = s.info;
      return s;
    });
  }

  private scoringSession(): Promise<OrtSession> {
    if (this.artifacts.logits) return (this.scoring ??= this.open(this.artifacts.logits));
    return this.generationSession();
  }

  private generationSession(): Promise<OrtSession> {
    const kv = this.artifacts.kv;
    if (!kv) throw new Error('generation needs the kv export (export with kind "kv")');
    return (this.generation ??= this.open(kv));
  }

  private emptyPast(a: OnnxArtifact, B: number): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const l of a.kvLayers) {
      for (const part of ['key', 'value']) feeds[`past_key_values.${l.layer}.${part}`] = new ort.Tensor('float32', new Float32Array(0), [B, l.kvHeads, 0, a.headDim]);
    }
    return feeds;
  }

  /** Position ids as the graph would derive them: max(cumsum(mask) − 1, 0), last `T` columns. */
  private positions(mask: Int32Array, B: number, S: number, T: number): BigInt64Array {
    const out = new BigInt64Array(B * T);
    for (let b = 0; b < B; b++) {
      let c = 0;
      for (let s = 0; s < S; s++) {
        c += mask[b * S + s]!;
        if (s >= S - T) out[b * T + s - (S - T)] = BigInt(Math.max(c - 1, 0));
      }
    }
    return out;
  }

  async logits(b: TokenBatch): Promise<Float32Array> {
    const { batch: B, seqLen: T } = b;
    if (T > this.maxLength) throw new Error(`sequence length ${T} exceeds the export's ${this.maxLength} positions (re-export with a larger maxPositions)`);
    if (b.ids.length !== B * T) throw new Error(`batch ids have ${b.ids.length} entries for [${B}, ${T}]`);
    const s = await this.scoringSession();
    const art = this.artifacts.logits ?? this.artifacts.kv!;
    const mask = b.mask ?? new Int32Array(B * T).fill(1);
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', toInt64(b.ids), [B, T]),
      attention_mask: new ort.Tensor('int64', toInt64(mask), [B, T]),
    };
    if (art.positionIdsInput) feeds.position_ids = new ort.Tensor('int64', this.positions(mask, B, T, T), [B, T]);
    if (art.kind === 'kv') Object.assign(feeds, this.emptyPast(art, B));
    const out = await s.session.run(feeds, ['logits']);
    const logits = out.logits!;
    const data = logits.data as Float32Array;
    for (const v of Object.values(out)) if (v !== logits) v.dispose();
    return data;
  }

  /**
   * Batched generation over the KV cache. Prompts are left-padded (positions start at 0 on every row);
   * the first step runs the whole prompt, every later step one token per row.
   */
  async generate(prompts: readonly (readonly number[])[], opts: GenerateOptions): Promise<GenerationOutput[]> {
    checkPrompts(prompts, opts.maxNewTokens, this.maxLength, this.vocabSize);
    if (prompts.length === 0) return [];
    const s = await this.generationSession();
    const art = this.artifacts.kv!;
    const V = this.vocabSize;
    const B = prompts.length;
    const sample = makeSampler(opts);
    const stop = new Set(opts.stopTokens ?? []);
    const first = leftPad(prompts, this.pad);
    const results: GenerationOutput[] = prompts.map(() => ({ tokens: [], stopReason: 'length' }));
    const done = new Array<boolean>(B).fill(false);
    let mask = first.mask!;
    let S = first.seqLen;
    let ids = first.ids;
    let T = first.seqLen;
    let past = this.emptyPast(art, B);
    try {
      for (let step = 0; step < opts.maxNewTokens; step++) {
        const feeds: Record<string, ort.Tensor> = {
          input_ids: new ort.Tensor('int64', toInt64(ids), [B, T]),
          attention_mask: new ort.Tensor('int64', toInt64(mask), [B, S]),
          ...past,
        };
        if (art.positionIdsInput) feeds.position_ids = new ort.Tensor('int64', this.positions(mask, B, S, T), [B, T]);
        const out = await s.session.run(feeds);
        for (const t of Object.values(past)) t.dispose();
        const logits = out.logits!.data as Float32Array;
        past = {};
        for (const l of art.kvLayers) {
          past[`past_key_values.${l.layer}.key`] = out[`present.${l.layer}.key`]!;
          past[`past_key_values.${l.layer}.value`] = out[`present.${l.layer}.value`]!;
        }
        out.logits!.dispose();
        const next = new Int32Array(B);
        for (let b = 0; b < B; b++) {
          if (done[b]) {
            next[b] = this.pad;
            continue;
          }
          const t = sample(logits, (b * T + T - 1) * V, V);
          next[b] = t;
          if (stop.has(t)) {
            done[b] = true;
            results[b]!.stopReason = 'stop';
          } else results[b]!.tokens.push(t);
        }
        if (done.every(Boolean) || step === opts.maxNewTokens - 1) break;
        // Finished rows keep feeding pad tokens (unmasked, so every row stays one step ahead; ignored).
        const grown = new Int32Array(B * (S + 1));
        for (let b = 0; b < B; b++) {
          grown.set(mask.subarray(b * S, (b + 1) * S), b * (S + 1));
          grown[b * (S + 1) + S] = 1;
        }
        mask = grown;
        S += 1;
        ids = next;
        T = 1;
      }
    } finally {
      for (const t of Object.values(past)) t.dispose();
    }
    return results;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of [this.scoring, this.generation]) {
      if (!p) continue;
      try {
        await (await p).session.release();
      } catch {
        // a session that failed to open has nothing to release
      }
    }
  }
}
