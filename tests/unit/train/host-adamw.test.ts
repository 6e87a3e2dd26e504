/**
 * The host optimizer's SIMD kernels (WebAssembly slabs) against its scalar JavaScript reference, and both against
 * a direct transcription of AdamW: several steps with decay on some tensors, gradient accumulation through the
 * receive buffers, the global norm, slab packing and the fallback for a tensor too large for any slab.
 */
import { HostAdamW } from '../../../src/loram/train/host-adamw';

const CFG = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 };

function rand(seed: number, n: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 2 * scale;
  });
}

/** AdamW written out once more, in doubles, for one tensor over a sequence of gradients. */
function referenceAdamW(p0: Float32Array, grads: Float32Array[][], lr: number, scale: number, decay: boolean): Float64Array {
  const p = Float64Array.from(p0);
  const m = new Float64Array(p.length);
  const v = new Float64Array(p.length);
  grads.forEach((micro, t) => {
    const bc1 = 1 - CFG.beta1 ** (t + 1);
    const bc2 = 1 - CFG.beta2 ** (t + 1);
    for (let k = 0; k < p.length; k++) {
      const g = micro.reduce((s, gr) => s + gr[k]!, 0) * scale;
      m[k] = CFG.beta1 * m[k]! + (1 - CFG.beta1) * g;
      v[k] = CFG.beta2 * v[k]! + (1 - CFG.beta2) * g * g;
      p[k] = p[k]! - (lr * (m[k]! / bc1)) / (Math.sqrt(v[k]! / bc2) + CFG.eps) - (decay ? lr * CFG.weightDecay * p[k]! : 0);
    }
  });
  return p;
}

function maxAbsErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!));
  return e;
}

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!) / Math.max(1e-3, Math.abs(b[i]!)));
  return e;
}

// Odd sizes exercise the kernels' scalar tails.
const SIZES = [1, 7, 64, 1003, 4096];
const DECAYS = [true, false, true, true, false];
const STEPS = 4;
const ACCUM = 3;
const grad = (step: number, micro: number, i: number) => rand(1000 * step + 10 * micro + i, SIZES[i]!, 0.5);

function trainWith(opts: ConstructorParameters<typeof HostAdamW>[2]): { params: Float32Array[]; norms: number[]; opt: HostAdamW } {
  const initial = SIZES.map((n, i) => rand(i + 1, n));
  const opt = new HostAdamW(initial, CFG, { decays: DECAYS, receive: true, ...opts });
  const norms: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    for (let micro = 0; micro < ACCUM; micro++) {
      const into = micro === 0 ? opt.grads : opt.incoming;
      into.forEach((a, i) => a.set(grad(step, micro, i)));
      if (micro > 0) opt.addIncoming();
    }
    norms.push(opt.gradNorm(0.25));
    opt.step(1e-2, 0.25);
  }
  return { params: opt.params, norms, opt };
}

describe('HostAdamW', () => {
  const initial = SIZES.map((n, i) => rand(i + 1, n));
  const ref = SIZES.map((_, i) =>
    referenceAdamW(initial[i]!, Array.from({ length: STEPS }, (_, s) => Array.from({ length: ACCUM }, (_, m) => grad(s, m, i))), 1e-2, 0.25, DECAYS[i]!),
  );
  const refNorms = Array.from({ length: STEPS }, (_, s) => {
    let sq = 0;
    SIZES.forEach((n, i) => {
      const g = Array.from({ length: ACCUM }, (_, m) => grad(s, m, i));
      for (let k = 0; k < n; k++) sq += (g.reduce((t, gr) => t + gr[k]!, 0) * 0.25) ** 2;
    });
    return Math.sqrt(sq);
  });

  it.each([
    ['wasm (one slab)', { kernel: 'wasm' as const }, { wasm: 5, js: 0 }],
    ['wasm (packed into several slabs, the largest tensor on the JS fallback)', { kernel: 'wasm' as const, slabBytes: 5 * 1100 * 4 }, { wasm: 4, js: 1 }],
    ['js', { kernel: 'js' as const }, { wasm: 0, js: 5 }],
  ])('%s matches AdamW written out, with accumulation, decay and the norm', (_name, opts, kernels) => {
    const r = trainWith(opts);
    expect(r.opt.kernels).toEqual(kernels);
    // float32 moments and weights against doubles: a few ulps of each value, far below one step's movement (~1e-2).
    r.params.forEach((p, i) => expect(maxAbsErr(p, ref[i]!)).toBeLessThan(1e-6));
    r.norms.forEach((n, s) => expect(Math.abs(n - refNorms[s]!) / refNorms[s]!).toBeLessThan(1e-6));
    // The update moved every tensor (a kernel that did nothing would match nothing above, but say it plainly).
    r.params.forEach((p, i) => expect(maxRelErr(p, initial[i]!)).toBeGreaterThan(1e-4));
  });

  it('keeps its own copy: the arrays it was given are untouched until the caller copies back', () => {
    const p = rand(5, 33);
    const before = Float32Array.from(p);
    const opt = new HostAdamW([p], CFG);
    opt.grads[0]!.fill(1);
    opt.step(0.1, 1);
    expect(Array.from(p)).toEqual(Array.from(before));
    expect(maxRelErr(opt.params[0]!, before)).toBeGreaterThan(1e-3);
  });

  it('refuses receive buffers it was not built with, naming why', () => {
    const opt = new HostAdamW([rand(1, 8)], CFG);
    expect(() => opt.incoming).toThrow(/without receive buffers/);
    expect(() => opt.addIncoming()).toThrow(/receive buffers/);
  });
});
