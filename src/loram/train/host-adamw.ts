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
    this.params.forEach((p, i) => {
      const g = grads[i]!;
      const m = this.m[i]!;
      const v = this.v[i]!;
      const decay = weightDecay > 0 && this.decays[i] ? lr * weightDecay : 0;
      for (let k = 0; k < p.length; k++) {
        const gk = g[k]! * gradScale;
        const mk = (m[k] = m[k]! * beta1 + gk * (1 - beta1));
        const vk = (v[k] = v[k]! * beta2 + gk * gk * (1 - beta2));
        const old = p[k]!;
        p[k] = old - lr * (mk / bc1 / (Math.sqrt(vk / bc2) + eps)) - decay * old;
      }
    });
  }

  get stepCount(): number {
    return this.t;
  }
}

/** √Σ (g·scale)² over all gradients. */
export function hostGradNorm(grads: readonly Float32Array[], scale: number): number {
  let sq = 0;
  for (const g of grads) for (let k = 0; k < g.length; k++) sq += (g[k]! * scale) ** 2;
  return Math.sqrt(sq);
}
