/**
 * Host optimizer state in WebAssembly memory, so AdamW, the gradient norm and accumulation run as SIMD loops
 * (kernels/adamw.c) instead of scalar JavaScript (~5× faster at one thread). A slab is one memory with the kernel
 * module instantiated over it; each tensor gets its arrays (weights, first and second moment, gradient, and
 * optionally a receive buffer) carved from it once. Memories never grow, so the Float32Array views stay valid for
 * the slab's life; ONNX Runtime reads and writes them in place (feeds, and pre-allocated gradient outputs).
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

interface AdamwExports {
  adamw(p: number, g: number, m: number, v: number, n: number, gradScale: number, beta1: number, beta2: number, stepSize: number, invBc2: number, eps: number, decay: number): void;
  sumsq(g: number, n: number): number;
  add_into(a: number, b: number, n: number): void;
  heap_base(): number;
}

const PAGE = 65536;
/** Bytes one slab may hold: wasm32 addresses 4 GiB; a margin keeps V8's reservation comfortable. */
export const SLAB_LIMIT_BYTES = 3 * 1024 ** 3;
/** The module's own data and stack sit below this (linked with --stack-first, 64 KiB stack). */
const RESERVED_BYTES = 2 * PAGE;

let compiled: WebAssembly.Module | undefined;
function kernelModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(fs.readFileSync(fileURLToPath(new URL('./kernels/adamw.wasm', import.meta.url))));
  return compiled;
}

/** The arrays of one tensor inside a slab, and the kernels over them. */
export interface SlabTensor {
  readonly p: Float32Array;
  readonly m: Float32Array;
  readonly v: Float32Array;
  readonly g: Float32Array;
  readonly incoming: Float32Array | null;
  adamw(gradScale: number, beta1: number, beta2: number, stepSize: number, invBc2: number, eps: number, decay: number): void;
  sumsq(): number;
  addIncoming(): void;
}

/** Bytes a tensor of `n` values takes in a slab (each array 16-byte aligned for the SIMD loads). */
export function slabBytesFor(n: number, receive: boolean): number {
  return (receive ? 5 : 4) * align16(n * 4);
}

/**
 * One memory holding the tensors of `sizes` (values each). The caller packs tensors so the total stays under
 * SLAB_LIMIT_BYTES; every array starts zeroed.
 */
export function createSlab(sizes: readonly number[], receive: boolean): SlabTensor[] {
  const need = RESERVED_BYTES + sizes.reduce((s, n) => s + slabBytesFor(n, receive), 0);
  if (need > SLAB_LIMIT_BYTES + RESERVED_BYTES) throw new Error(`optimizer slab of ${need} bytes exceeds the ${SLAB_LIMIT_BYTES}-byte limit`);
  const pages = Math.ceil(need / PAGE);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const k = new WebAssembly.Instance(kernelModule(), { env: { memory } }).exports as unknown as AdamwExports;
  let next = align16(Math.max(k.heap_base(), RESERVED_BYTES));
  const carve = (n: number): number => {
    const at = next;
    next += align16(n * 4);
    return at;
  };
  return sizes.map((n) => {
    const [p, m, v, g] = [carve(n), carve(n), carve(n), carve(n)];
    const inc = receive ? carve(n) : -1;
    const view = (at: number) => new Float32Array(memory.buffer, at, n);
    return {
      p: view(p),
      m: view(m),
      v: view(v),
      g: view(g),
      incoming: receive ? view(inc) : null,
      adamw: (gs, b1, b2, ss, ib, eps, decay) => k.adamw(p, g, m, v, n, gs, b1, b2, ss, ib, eps, decay),
      sumsq: () => k.sumsq(g, n),
      addIncoming: () => {
        if (inc < 0) throw new Error('this optimizer slab has no receive buffers (built without gradient accumulation)');
        k.add_into(g, inc, n);
      },
    };
  });
}

function align16(x: number): number {
  return Math.ceil(x / 16) * 16;
}
