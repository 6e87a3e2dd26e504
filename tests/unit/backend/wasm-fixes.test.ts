import { tf } from '../../../src/loram/backend/tf';
import { initBackend } from '../../../src/loram/backend/backend';
import { installWasmFixes, uninstallMatMulGradFix } from '../../../src/loram/backend/wasm-fixes';
import { Rng } from '../../../src/loram/util/rng';

function randn(rng: Rng, shape: number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** Gradients of sum(matMul(a, b, tA, tB) * w) w.r.t. a and b. */
function grads(a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], w: Float32Array, tA: boolean, tB: boolean) {
  return tf.tidy(() => {
    const A = tf.tensor(a, aShape);
    const B = tf.tensor(b, bShape);
    const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, tA, tB), tf.tensor(w, outShape(aShape, bShape, tA, tB)))));
    const [ga, gb] = g([A, B]);
    return [ga!.dataSync().slice() as Float32Array, gb!.dataSync().slice() as Float32Array];
  });
}

function outShape(a: number[], b: number[], tA: boolean, tB: boolean): number[] {
  const m = tA ? a[a.length - 1]! : a[a.length - 2]!;
  const n = tB ? b[b.length - 2]! : b[b.length - 1]!;
  const batch = a.length > b.length ? a.slice(0, -2) : b.slice(0, -2);
  return [...batch, m, n];
}

function maxRelErr(x: Float32Array, y: Float32Array): number {
  let scale = 1e-6;
  for (const v of y) scale = Math.max(scale, Math.abs(v));
  let e = 0;
  for (let i = 0; i < x.length; i++) e = Math.max(e, Math.abs(x[i]! - y[i]!));
  return e / scale;
}

const CASES: { aShape: number[]; bShape: number[] }[] = [
  { aShape: [5, 7], bShape: [7, 3] },
  { aShape: [2, 4, 6], bShape: [2, 6, 5] },
  { aShape: [2, 3, 4, 6], bShape: [2, 3, 6, 5] },
];

describe('wasm backend fixes', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });

  test.each(CASES)('matMul gradient with explicit transposes equals the stock gradient on cpu: $aShape x $bShape', async ({ aShape, bShape }) => {
    const rng = new Rng(7);
    for (const [tA, tB] of [[false, false], [false, true], [true, false], [true, true]] as const) {
      const as = tA ? [...aShape.slice(0, -2), aShape.at(-1)!, aShape.at(-2)!] : aShape;
      const bs = tB ? [...bShape.slice(0, -2), bShape.at(-1)!, bShape.at(-2)!] : bShape;
      const a = randn(rng, as);
      const b = randn(rng, bs);
      const w = randn(rng, outShape(as, bs, tA, tB));
      uninstallMatMulGradFix();
      await tf.setBackend('cpu');
      const [refA, refB] = grads(a, as, b, bs, w, tA, tB);
      installWasmFixes();
      for (const backend of ['cpu', 'wasm']) {
        await tf.setBackend(backend);
        const [ga, gb] = grads(a, as, b, bs, w, tA, tB);
        expect(maxRelErr(ga!, refA!)).toBeLessThan(1e-5);
        expect(maxRelErr(gb!, refB!)).toBeLessThan(1e-5);
      }
    }
    await tf.setBackend('wasm');
  });

  test('batched matMul with a broadcast operand: our gradient reduces over the broadcast axis (stock tfjs throws)', async () => {
    const rng = new Rng(11);
    const a = randn(rng, [3, 4, 6]);
    const b = randn(rng, [6, 5]);
    const w = randn(rng, [3, 4, 5]);
    const gb = grads(a, [3, 4, 6], b, [6, 5], w, false, false)[1]!;
    // Reference: the same product with b tiled explicitly, its gradient summed over the copies.
    const ref = tf.tidy(() => {
      const g = tf.grad((y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(tf.tensor(a, [3, 4, 6]), tf.stack([y, y, y])), tf.tensor(w, [3, 4, 5]))));
      return g(tf.tensor(b, [6, 5])).dataSync().slice() as Float32Array;
    });
    expect(maxRelErr(gb, ref)).toBeLessThan(1e-5);
  });

  test.each([
    [[3, 5, 7], [3, 7, 9]],
    [[2, 2, 8, 16], [2, 2, 16, 8]],
    [[4, 13, 6], [6, 11]], // broadcast b
    [[1, 4, 5], [3, 5, 2]], // broadcast a
  ])('our SIMD batched matMul kernel equals the cpu backend: %j x %j', async (aShape, bShape) => {
    const rng = new Rng(5);
    const a = randn(rng, aShape);
    const b = randn(rng, bShape);
    await tf.setBackend('cpu');
    const ref = tf.tidy(() => tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape)).dataSync().slice());
    await tf.setBackend('wasm');
    const got = tf.tidy(() => tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape)).dataSync().slice());
    expect(got.length).toBe(ref.length);
    expect(maxRelErr(got as Float32Array, ref as Float32Array)).toBeLessThan(1e-5);
  });

  test('gather trains on wasm: UnsortedSegmentSum matches cpu, including repeated and out-of-range ids', async () => {
    const rng = new Rng(3);
    const table = randn(rng, [11, 4]);
    const ids = Int32Array.from([3, 3, 0, 10, 7, 3, 1]);
    const up = randn(rng, [7, 4]);
    const run = () =>
      tf.tidy(() => {
        const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, tf.tensor1d(ids, 'int32')), tf.tensor(up, [7, 4]))));
        return g(tf.tensor(table, [11, 4])).dataSync().slice() as Float32Array;
      });
    await tf.setBackend('cpu');
    const ref = run();
    await tf.setBackend('wasm');
    const got = run();
    expect(maxRelErr(got, ref)).toBeLessThan(1e-6);
    const direct = tf.tidy(() => tf.unsortedSegmentSum(tf.tensor(up, [7, 4]), tf.tensor1d([1, -1, 5, 2, 99, 1, 0], 'int32'), 6).dataSync().slice() as Float32Array);
    await tf.setBackend('cpu');
    const directRef = tf.tidy(() => tf.unsortedSegmentSum(tf.tensor(up, [7, 4]), tf.tensor1d([1, -1, 5, 2, 99, 1, 0], 'int32'), 6).dataSync().slice() as Float32Array);
    await tf.setBackend('wasm');
    expect(maxRelErr(direct, directRef)).toBeLessThan(1e-6);
  });
});
