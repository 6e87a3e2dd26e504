/**
 * Our SIMD batched-matMul kernel (kernels/bmm.c → bmm.wasm) registered in place of tfjs-backend-wasm's
 * BatchMatMul for batched, untransposed products — the attention products and their gradients. Everything else
 * (unbatched products, which XNNPACK serves at ~30 GFLOPS, and transposed ones) goes to the original kernel.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tf } from './tf';

interface BmmModule {
  memory: WebAssembly.Memory;
  bmm: (a: number, b: number, c: number, batchA: number, batchB: number, m: number, k: number, n: number) => void;
  heapBase: number;
}

let mod: BmmModule | undefined;

function load(): BmmModule {
  if (mod) return mod;
  const bytes = fs.readFileSync(fileURLToPath(new URL('./kernels/bmm.wasm', import.meta.url)));
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  const e = inst.exports as unknown as { memory: WebAssembly.Memory; bmm: BmmModule['bmm']; heap_base: () => number };
  mod = { memory: e.memory, bmm: e.bmm, heapBase: (e.heap_base() + 15) & ~15 };
  return mod;
}

/** C = A·B per batch; batchA or batchB may be 1. Returns a new Float32Array of batch·M·N. */
export function bmmHost(a: ArrayLike<number>, b: ArrayLike<number>, batchA: number, batchB: number, m: number, k: number, n: number, out?: Float32Array): Float32Array {
  const w = load();
  const batch = Math.max(batchA, batchB);
  const aBytes = batchA * m * k * 4;
  const bBytes = batchB * k * n * 4;
  const cBytes = batch * m * n * 4;
  const aPtr = w.heapBase;
  const bPtr = align16(aPtr + aBytes);
  const cPtr = align16(bPtr + bBytes);
  const need = cPtr + cBytes;
  if (need > w.memory.buffer.byteLength) w.memory.grow(Math.ceil((need - w.memory.buffer.byteLength) / 65536));
  const f32 = new Float32Array(w.memory.buffer);
  f32.set(a as Float32Array, aPtr >> 2);
  f32.set(b as Float32Array, bPtr >> 2);
  w.bmm(aPtr, bPtr, cPtr, batchA, batchB, m, k, n);
  const result = out ?? new Float32Array(batch * m * n);
  result.set(new Float32Array(w.memory.buffer, cPtr, batch * m * n));
  return result;
}

function align16(x: number): number {
  return (x + 15) & ~15;
}

interface WasmBackendLike {
  readSync(dataId: unknown): Float32Array;
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

const prod = (s: number[]) => s.reduce((p, q) => p * q, 1);

let installed = false;

/** Must run after the wasm backend is initialised (the original kernel's setup has run by then). */
export function installBatchedMatMulKernel(): void {
  if (installed) return;
  const original = tf.getKernel(tf.BatchMatMul, 'wasm');
  if (!original) throw new Error('tfjs-backend-wasm has no BatchMatMul kernel to wrap');
  const fallback = original.kernelFunc;
  tf.unregisterKernel(tf.BatchMatMul, 'wasm');
  tf.registerKernel({
    kernelName: tf.BatchMatMul,
    backendName: 'wasm',
    kernelFunc: ((args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const aBatch = a.shape.slice(0, -2);
      const bBatch = b.shape.slice(0, -2);
      const batchA = prod(aBatch);
      const batchB = prod(bBatch);
      const simpleBroadcast = batchA === batchB ? aBatch.length === bBatch.length : batchA === 1 || batchB === 1;
      if (transposeA || transposeB || Math.max(batchA, batchB) === 1 || !simpleBroadcast || a.dtype !== 'float32') {
        return fallback(args as never);
      }
      const m = a.shape[a.shape.length - 2]!;
      const k = a.shape[a.shape.length - 1]!;
      const n = b.shape[b.shape.length - 1]!;
      const backend = args.backend as WasmBackendLike;
      const outShape = [...(batchA >= batchB ? aBatch : bBatch), m, n];
      const out = backend.makeOutput(outShape, 'float32');
      const av = backend.readSync(a.dataId);
      const bv = backend.readSync(b.dataId);
      // The heap view must be taken after makeOutput: allocation can grow (and detach) the wasm memory.
      bmmHost(av, bv, batchA, batchB, m, k, n, backend.typedArrayFromHeap(out));
      return out;
    }) as unknown as tf.KernelFunc,
  });
  installed = true;
}
