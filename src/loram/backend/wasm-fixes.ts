/**
 * Fixes that make tfjs-backend-wasm 4.22 fast and complete for training (measured, see bench/model):
 * - XNNPACK only serves plain, untransposed matMul; tfjs's stock BatchMatMul gradient asks for transposed
 *   products, which fall to a ~15× slower loop. We re-register the gradient with explicit transposes.
 * - `UnsortedSegmentSum` (the gradient of gather, i.e. of embeddings) has no wasm kernel; we add one.
 * The gradient override is global (all backends); it is mathematically identical to the stock one.
 */
import { tf } from './tf';

type GradConfig = NonNullable<ReturnType<typeof tf.getGradient>>;
let stockMatMulGrad: GradConfig | undefined;
let installed = false;

/** Swap the last two axes. */
function t(x: tf.Tensor): tf.Tensor {
  const r = x.rank;
  if (r === 2) return tf.transpose(x);
  const perm = [...Array(r).keys()];
  perm[r - 1] = r - 2;
  perm[r - 2] = r - 1;
  return tf.transpose(x, perm);
}

/** Sum `g` down to `shape` over broadcast batch axes (batched matMul broadcasts leading axes). */
function reduceTo(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (g.rank === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank - 2; i++) {
    const si = i - lead;
    if (si < 0 || shape[si] === 1) axes.push(i);
  }
  const summed = axes.length ? tf.sum(g, axes, true) : g;
  return tf.reshape(summed, shape);
}

const fastMatMulGrad: GradConfig = {
  kernelName: tf.BatchMatMul,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved as [tf.Tensor, tf.Tensor];
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const d = dy as tf.Tensor;
    const mm = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y);
    let da: () => tf.Tensor;
    let db: () => tf.Tensor;
    if (!transposeA && !transposeB) {
      da = () => mm(d, t(b));
      db = () => mm(t(a), d);
    } else if (!transposeA && transposeB) {
      da = () => mm(d, b);
      db = () => mm(t(d), a);
    } else if (transposeA && !transposeB) {
      da = () => mm(b, t(d));
      db = () => mm(a, d);
    } else {
      da = () => mm(t(b), t(d));
      db = () => mm(t(d), t(a));
    }
    return { a: () => reduceTo(da(), a.shape), b: () => reduceTo(db(), b.shape) };
  },
};

interface WasmBackendLike {
  readSync(dataId: unknown): ArrayLike<number>;
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array;
}

/** Σ of x's rows into numSegments buckets by segment id (ids out of range are dropped, as TF does). */
function unsortedSegmentSumWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }): tf.TensorInfo {
  const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = args.attrs as unknown as { numSegments: number };
  const backend = args.backend as WasmBackendLike;
  const idsShape = segmentIds.shape;
  const nIds = idsShape.reduce((p, q) => p * q, 1);
  const inner = x.shape.slice(idsShape.length).reduce((p, q) => p * q, 1);
  const out = backend.makeOutput([numSegments, ...x.shape.slice(idsShape.length)], x.dtype);
  const xv = backend.readSync(x.dataId);
  const ids = backend.readSync(segmentIds.dataId);
  const ov = backend.typedArrayFromHeap(out); // a view into wasm memory: fetch it after every allocation
  ov.fill(0);
  for (let i = 0; i < nIds; i++) {
    const s = ids[i]!;
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) ov[dst + j]! += xv[src + j]!;
  }
  return out;
}

export function installWasmFixes(): void {
  if (installed) return;
  stockMatMulGrad = tf.getGradient(tf.BatchMatMul);
  silenceOverrideWarning(() => tf.registerGradient(fastMatMulGrad));
  if (!tf.getKernel(tf.UnsortedSegmentSum, 'wasm')) {
    tf.registerKernel({ kernelName: tf.UnsortedSegmentSum, backendName: 'wasm', kernelFunc: unsortedSegmentSumWasm as unknown as tf.KernelFunc });
  }
  installed = true;
}

/** Restore tfjs's own matMul gradient (tests compare against it). */
export function uninstallMatMulGradFix(): void {
  if (!installed || !stockMatMulGrad) return;
  silenceOverrideWarning(() => tf.registerGradient(stockMatMulGrad!));
  installed = false;
}

function silenceOverrideWarning(f: () => void): void {
  const warn = console.warn;
  console.warn = (...a: unknown[]) => {
    if (typeof a[0] === 'string' && a[0].includes('Overriding the gradient')) return;
    warn(...a);
  };
  try {
    f();
  } finally {
    console.warn = warn;
  }
}
