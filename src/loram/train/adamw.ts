/**
 * AdamW with decoupled weight decay (Loshchilov & Hutter): p ← p − lr·(m̂/(√v̂+ε) + λ·p). tfjs's own Adam
 * folds decay into the gradient (L2), which is a different optimiser, so we keep our own state.
 */
import { tf } from '../backend/tf';
import type { OptimizerState } from './train-state';

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const DEFAULT_ADAMW: AdamWConfig = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.0 };

export class AdamW {
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private t = 0;

  constructor(
    private readonly params: tf.Variable[],
    private readonly cfg: AdamWConfig,
    /** Which parameters get weight decay (norm weights and biases usually do not). */
    private readonly decays: (v: tf.Variable, index: number) => boolean = () => true,
  ) {
    // Inside tidy: tf.variable keeps its own handle, the zeros tensor it was built from must go.
    this.m = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    this.v = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
  }

  /** One update with gradients aligned to `params`. */
  step(grads: tf.Tensor[], lr: number): void {
    this.t++;
    const { beta1, beta2, eps, weightDecay } = this.cfg;
    const bc1 = 1 - Math.pow(beta1, this.t);
    const bc2 = 1 - Math.pow(beta2, this.t);
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        const g = grads[i]!;
        const m = tf.add(tf.mul(this.m[i]!, beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(this.v[i]!, beta2), tf.mul(tf.square(g), 1 - beta2));
        this.m[i]!.assign(m);
        this.v[i]!.assign(v);
        const update = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), eps));
        let next = tf.sub(p, tf.mul(update, lr));
        if (weightDecay > 0 && this.decays(p, i)) next = tf.sub(next, tf.mul(p, lr * weightDecay));
        p.assign(next);
      });
    });
  }

  get stepCount(): number {
    return this.t;
  }

  /** Copies of weights, moments and step, for a checkpoint. */
  saveState(): OptimizerState {
    const read = (vs: tf.Variable[]) => vs.map((x) => Float32Array.from(x.dataSync() as Float32Array));
    return { step: this.t, params: read(this.params), m: read(this.m), v: read(this.v) };
  }

  loadState(s: OptimizerState): void {
    this.t = s.step;
    const write = (vs: tf.Variable[], data: Float32Array[]) => vs.forEach((x, i) => tf.tidy(() => x.assign(tf.tensor(data[i]!, x.shape, 'float32'))));
    write(this.params, s.params);
    write(this.m, s.m);
    write(this.v, s.v);
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}
