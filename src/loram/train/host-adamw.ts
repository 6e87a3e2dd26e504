/**
 * AdamW on host Float32Arrays, for backends whose gradients arrive on the host (ONNX Runtime). The same update as
 * adamw.ts performs on tfjs tensors: p ← p − lr·(m̂/(√v̂+ε)) − lr·λ·p, with the gradient scaled by `gradScale`
 * (1/tokens × the clipping factor) on the way in.
 *
 * The optimizer owns the working copy of every trainable tensor, its moments and its gradient accumulator (and,
 * with accumulation, a receive buffer): the backend feeds `params` to the session and has it write gradients into
 * `grads` (or `incoming`) in place. Tensors live in WebAssembly slabs (wasm-slab.ts, SIMD kernels); a tensor too
 * large for a slab, or every tensor when the `js` kernel is asked for, lives in plain arrays with the scalar loops
 * below, which are also the reference the SIMD kernels are tested against.
 */
import type { AdamWConfig } from './adamw';
import type { OptimizerState } from './train-state';
import { createSlab, SLAB_LIMIT_BYTES, slabBytesFor, type SlabTensor } from './wasm-slab';

export type HostKernel = 'wasm' | 'js';

export interface HostAdamWOptions {
  /** Which parameters get weight decay (aligned with the parameters; default all). */
  decays?: readonly boolean[];
  /** Keep a receive buffer per tensor, for micro-batches after the first (gradient accumulation). */
  receive?: boolean;
  /** `wasm` (default) or the scalar `js` reference. */
  kernel?: HostKernel;
  /** Bytes per slab (tests use small ones to exercise packing and the fallback). */
  slabBytes?: number;
}

export class HostAdamW {
  private readonly homes: SlabTensor[];
  private readonly decays: readonly boolean[];
  private t = 0;

  /** Copies `initial` into the optimizer's own arrays; read the trained values back from `params`. */
  constructor(
    initial: readonly Float32Array[],
    private readonly cfg: AdamWConfig,
    opts: HostAdamWOptions = {},
  ) {
    this.decays = opts.decays ?? initial.map(() => true);
    const receive = opts.receive ?? false;
    this.homes = opts.kernel === 'js' ? initial.map((p) => jsTensor(p.length, receive)) : packIntoSlabs(initial.map((p) => p.length), receive, opts.slabBytes ?? SLAB_LIMIT_BYTES);
    this.homes.forEach((h, i) => h.p.set(initial[i]!));
  }

  /** The working weights, updated in place by `step`. */
  get params(): Float32Array[] {
    return this.homes.map((h) => h.p);
  }

  /** The gradient accumulator (the first micro-batch is written here). */
  get grads(): Float32Array[] {
    return this.homes.map((h) => h.g);
  }

  /** Receive buffers for further micro-batches; fold them in with `addIncoming`. */
  get incoming(): Float32Array[] {
    return this.homes.map((h) => {
      if (!h.incoming) throw new Error('this optimizer was built without receive buffers (gradient accumulation)');
      return h.incoming;
    });
  }

  addIncoming(): void {
    for (const h of this.homes) h.addIncoming();
  }

  /** √Σ (g·scale)² over the accumulated gradients. */
  gradNorm(scale: number): number {
    let sq = 0;
    for (const h of this.homes) sq += h.sumsq();
    return Math.sqrt(sq) * Math.abs(scale);
  }

  /** One update from the accumulated gradients (scaled by `gradScale`); the next micro-batch overwrites them. */
  step(lr: number, gradScale: number): void {
    this.t++;
    const { beta1, beta2, eps, weightDecay } = this.cfg;
    const stepSize = lr / (1 - Math.pow(beta1, this.t));
    const invBc2 = 1 / (1 - Math.pow(beta2, this.t));
    this.homes.forEach((h, i) => h.adamw(gradScale, beta1, beta2, stepSize, invBc2, eps, weightDecay > 0 && this.decays[i] ? lr * weightDecay : 0));
  }

  get stepCount(): number {
    return this.t;
  }

  /** Copies of weights, moments and step, for a checkpoint. */
  saveState(): OptimizerState {
    return { step: this.t, params: this.homes.map((h) => h.p.slice()), m: this.homes.map((h) => h.m.slice()), v: this.homes.map((h) => h.v.slice()) };
  }

  loadState(s: OptimizerState): void {
    this.t = s.step;
    this.homes.forEach((h, i) => {
      h.p.set(s.params[i]!);
      h.m.set(s.m[i]!);
      h.v.set(s.v[i]!);
    });
  }

  /** How many tensors run on each kernel (the JS loops serve tensors too large for a slab). */
  get kernels(): Record<HostKernel, number> {
    const wasm = this.homes.filter((h) => !(h as JsTensor).js).length;
    return { wasm, js: this.homes.length - wasm };
  }
}

/** Tensors in order, packed greedily into slabs of at most `limit` bytes; one that cannot fit any slab gets JS. */
function packIntoSlabs(sizes: readonly number[], receive: boolean, limit: number): SlabTensor[] {
  const homes: SlabTensor[] = new Array(sizes.length);
  let group: number[] = [];
  let bytes = 0;
  const flush = () => {
    if (!group.length) return;
    const made = createSlab(group.map((i) => sizes[i]!), receive);
    group.forEach((i, k) => (homes[i] = made[k]!));
    group = [];
    bytes = 0;
  };
  sizes.forEach((n, i) => {
    const b = slabBytesFor(n, receive);
    if (b > limit) return void (homes[i] = jsTensor(n, receive));
    if (bytes + b > limit) flush();
    group.push(i);
    bytes += b;
  });
  flush();
  return homes;
}

interface JsTensor extends SlabTensor {
  readonly js: true;
}

/** A tensor's state in plain arrays, updated by the scalar loops. */
function jsTensor(n: number, receive: boolean): JsTensor {
  const [p, m, v, g] = [new Float32Array(n), new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  const incoming = receive ? new Float32Array(n) : null;
  return {
    js: true,
    p,
    m,
    v,
    g,
    incoming,
    adamw: (gradScale, beta1, beta2, stepSize, invBc2, eps, decay) => adamwKernel(p, g, m, v, { beta1, beta2, eps, gradScale, stepSize, invBc2, decay }),
    sumsq: () => sumOfSquares(g),
    addIncoming: () => {
      if (!incoming) throw new Error('this optimizer was built without receive buffers (gradient accumulation)');
      for (let k = 0; k < n; k++) g[k]! += incoming[k]!;
    },
  };
}

function sumOfSquares(g: Float32Array): number {
  // Four accumulators: independent chains the CPU can overlap.
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  const n = g.length;
  let k = 0;
  for (; k + 3 < n; k += 4) {
    const x = g[k]!;
    const y = g[k + 1]!;
    const z = g[k + 2]!;
    const w = g[k + 3]!;
    a += x * x;
    b += y * y;
    c += z * z;
    d += w * w;
  }
  for (; k < n; k++) a += g[k]! * g[k]!;
  return a + b + c + d;
}

interface KernelConstants {
  beta1: number;
  beta2: number;
  eps: number;
  gradScale: number;
  /** lr / (1 − β₁ᵗ) */
  stepSize: number;
  /** 1 / (1 − β₂ᵗ) */
  invBc2: number;
  /** lr · λ for a decayed tensor, else 0 */
  decay: number;
}

/** One tensor's update: a flat, monomorphic loop (constants hoisted) that V8 compiles tightly. */
function adamwKernel(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, c: KernelConstants): void {
  const { beta1, beta2, eps, gradScale, stepSize, invBc2, decay } = c;
  const a1 = 1 - beta1;
  const a2 = 1 - beta2;
  const n = p.length;
  for (let k = 0; k < n; k++) {
    const gk = g[k]! * gradScale;
    const mk = m[k]! * beta1 + gk * a1;
    const vk = v[k]! * beta2 + gk * gk * a2;
    m[k] = mk;
    v[k] = vk;
    const old = p[k]!;
    p[k] = old - (stepSize * mk) / (Math.sqrt(vk * invBc2) + eps) - decay * old;
  }
}
