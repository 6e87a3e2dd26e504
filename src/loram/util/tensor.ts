/**
 * Host-side tensors: plain Float32Arrays in Hugging Face layout (linear weights are [out, in]).
 * This is the lingua franca between file formats, pruning, quantization, recovery and ONNX export;
 * the TensorFlow.js model converts to its own layout when it is built.
 */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/** Weights keyed by Hugging Face tensor name, e.g. `model.layers.0.self_attn.q_proj.weight`. */
export type WeightMap = Map<string, HostTensor>;

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function cloneHost(t: HostTensor): HostTensor {
  return { shape: [...t.shape], data: new Float32Array(t.data) };
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Rows `rows` (in order) of a 2-D tensor. */
export function selectRows(t: HostTensor, rows: readonly number[]): HostTensor {
  const [, cols] = t.shape as [number, number];
  const out = new Float32Array(rows.length * cols);
  rows.forEach((r, i) => out.set(t.data.subarray(r * cols, (r + 1) * cols), i * cols));
  return { shape: [rows.length, cols], data: out };
}

/** Columns `cols` (in order) of a 2-D tensor. */
export function selectCols(t: HostTensor, cols: readonly number[]): HostTensor {
  const [rows, n] = t.shape as [number, number];
  const out = new Float32Array(rows * cols.length);
  for (let r = 0; r < rows; r++) {
    const src = r * n;
    const dst = r * cols.length;
    for (let j = 0; j < cols.length; j++) out[dst + j] = t.data[src + cols[j]!]!;
  }
  return { shape: [rows, cols.length], data: out };
}

/** Elements of a 1-D tensor at `idx`. */
export function select1d(t: HostTensor, idx: readonly number[]): HostTensor {
  const out = new Float32Array(idx.length);
  idx.forEach((k, i) => (out[i] = t.data[k]!));
  return { shape: [idx.length], data: out };
}

/** 2-D transpose. */
export function transpose2d(t: HostTensor): HostTensor {
  const [r, c] = t.shape as [number, number];
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j]!;
  return { shape: [c, r], data: out };
}

/** C = A·B for 2-D host tensors (reference math for tests and small merges). */
export function matmulHost(a: HostTensor, b: HostTensor): HostTensor {
  const [m, k] = a.shape as [number, number];
  const [k2, n] = b.shape as [number, number];
  if (k !== k2) throw new Error(`matmul: inner dimensions differ, ${shapeStr(a.shape)} · ${shapeStr(b.shape)}`);
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const av = a.data[i * k + p]!;
      if (av === 0) continue;
      const bo = p * n;
      const co = i * n;
      for (let j = 0; j < n; j++) out[co + j]! += av * b.data[bo + j]!;
    }
  }
  return { shape: [m, n], data: out };
}
