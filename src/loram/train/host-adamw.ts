/**
 * AdamW on host Float32Arrays, for backends whose gradients arrive on the host (ONNX Runtime). The same update as
 * adamw.ts performs on tfjs tensors: p ← p − lr·(m̂/(√v̂+ε)) − lr·λ·p, with the gradient scaled by `gradScale`
 * (1/tokens × the clipping factor) on the way in.
 */
import type { AdamWConfig } from './adamw';

export class HostAdamW {
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private t = 0;

  constructor(
    private readonly params: readonly Float32Array[],
    private readonly cfg: AdamWConfig,
    /** Which parameters get weight decay (aligned with `params`). */
    private readonly decays: readonly boolean[] = params.map(() => true),
  ) {
    this.m = params.map((p) => new Float32Array(p.length));
    this.v = params.map((p) => new Float32Array(p.length));
  }

  step(grads: readonly Float32Array[], lr: number, gradScale: number): void {
    this.t++;
    const { beta1, beta2, eps, weightDecay } = this.cfg;
    const bc1 = 1 - Math.pow(beta1, this.t);
    const bc2 = 1 - Math.pow(beta2, this.t);
    const c: KernelConstants = { beta1, beta2, eps, gradScale, stepSize: lr / bc1, invBc2: 1 / bc2, decay: 0 };
    for (let i = 0; i < this.params.length; i++) {
      c.decay = weightDecay > 0 && this.decays[i] ? lr * weightDecay : 0;
      adamwKernel(this.params[i]!, grads[i]!, this.m[i]!, this.v[i]!, c);
    }
  }

  get stepCount(): number {
    return this.t;
  }
}

/** √Σ (g·scale)² over all gradients. */
export function hostGradNorm(grads: readonly Float32Array[], scale: number): number {
  let sq = 0;
  for (const g of grads) sq += sumOfSquares(g);
  return Math.sqrt(sq) * Math.abs(scale);
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
