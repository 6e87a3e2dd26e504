/**
 * Per-matrix non-structured pruning kernels on host float64 math (loram-method.md §2.1, §2.3):
 * - SparseGPT (Frantar & Alistarh 2023, IST-DASLab/sparsegpt `fasterprune`): Hessian H = 2XᵀX/N of the layer
 *   input, dampening λ = 1% of mean(diag H), upper Cholesky factor U of H⁻¹, columns processed left to right in
 *   blocks (128, or the whole width when smaller), adaptive mask per block (unstructured: the block's smallest
 *   w²/U_jj²) or per group of M columns (N:M), and the OBS update that spreads each pruned weight's error over
 *   the not-yet-processed columns. Unlike the reference's `tmp <= thresh`, exactly round(s·n) weights of a block
 *   are pruned (ties broken by index), so the sparsity is exact.
 * - Wanda (Sun et al. 2023): score |W_ij|·‖X_j‖₂ compared within each output row (or within each group of M
 *   input columns of a row for N:M); no weight update.
 * - Magnitude: |W_ij| over the whole matrix (unstructured) or within each N:M group; the classic baseline.
 * Weights are HF layout [out, in]; N:M groups run along the input dimension, as on NVIDIA sparse tensor cores.
 */
import type { HostTensor } from '../util/tensor';
import { shapeStr } from '../util/tensor';
import type { PackedMask } from './mask';
import { packMask } from './mask';

/** unstructured with a sparsity (fraction of zeros), or N:M = N weights kept in every M consecutive inputs. */
export type MatrixPattern = { kind: 'unstructured'; sparsity: number } | { kind: 'nm'; n: number; m: number };

export interface PrunedMatrix {
  weight: HostTensor;
  mask: PackedMask;
}

export const SPARSEGPT_BLOCK_SIZE = 128;
export const SPARSEGPT_DAMPENING = 0.01;

function checkPattern(p: MatrixPattern, cols: number, what: string): void {
  if (p.kind === 'unstructured') {
    if (!(Number.isFinite(p.sparsity) && p.sparsity >= 0 && p.sparsity <= 1)) throw new Error(`${what}: sparsity must be in [0, 1], got ${p.sparsity}`);
  } else {
    if (!(Number.isInteger(p.n) && Number.isInteger(p.m) && p.m >= 1 && p.n >= 0 && p.n < p.m)) throw new Error(`${what}: invalid N:M pattern ${p.n}:${p.m}`);
    if (cols % p.m !== 0) throw new Error(`${what}: ${p.n}:${p.m} sparsity needs the input dimension to be a multiple of ${p.m}, got ${cols}`);
  }
}

/** Indices of the k smallest values of vals[0..len) (ties: lower index first). */
function smallestK(vals: Float64Array, k: number): Int32Array {
  const idx = Array.from({ length: vals.length }, (_, i) => i);
  idx.sort((a, b) => vals[a]! - vals[b]! || a - b);
  return Int32Array.from(idx.slice(0, k));
}

/** Lower Cholesky factor of a symmetric positive-definite n×n matrix (row-major); null if not PD. */
export function cholesky(a: Float64Array, n: number): Float64Array | null {
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j]!;
    const Lj = j * n;
    for (let k = 0; k < j; k++) d -= L[Lj + k]! * L[Lj + k]!;
    if (!(d > 0) || !Number.isFinite(d)) return null;
    const ljj = Math.sqrt(d);
    L[Lj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const Li = i * n;
      let s = a[Li + j]!;
      for (let k = 0; k < j; k++) s -= L[Li + k]! * L[Lj + k]!;
      L[Li + j] = s / ljj;
    }
  }
  return L;
}

/** Inverse of a lower-triangular matrix (row-major). */
function invertLower(L: Float64Array, n: number): Float64Array {
  const X = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    X[j * n + j] = 1 / L[j * n + j]!;
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s += L[i * n + k]! * X[k * n + j]!;
      X[i * n + j] = -s / L[i * n + i]!;
    }
  }
  return X;
}

/** Upper Cholesky factor U of H⁻¹ (H⁻¹ = UᵀU), as `torch.linalg.cholesky(cholesky_inverse(cholesky(H)), upper=True)`. */
export function inverseCholeskyUpper(H: Float64Array, n: number): Float64Array | null {
  const L = cholesky(H, n);
  if (!L) return null;
  const Li = invertLower(L, n);
  // H⁻¹ = Liᵀ·Li
  const Hinv = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const rowK = k * n;
    for (let i = 0; i <= k; i++) {
      const a = Li[rowK + i]!;
      if (a === 0) continue;
      for (let j = 0; j <= k; j++) Hinv[i * n + j]! += a * Li[rowK + j]!;
    }
  }
  const L2 = cholesky(Hinv, n);
  if (!L2) return null;
  const U = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) U[j * n + i] = L2[i * n + j]!;
  return U;
}

/** The Hessian side of SparseGPT, shared by every linear that reads the same input (q/k/v, gate/up). */
export interface SparseGptFactor {
  cols: number;
  /** Upper Cholesky factor of (H + λI)⁻¹ with dead inputs' H_jj set to 1. */
  U: Float64Array;
  /** Inputs that were never active (H_jj = 0): their weights are zeroed. */
  dead: Uint8Array;
}

/** Dampen and factor a Hessian [in, in] (row-major, e.g. 2XᵀX/N) once for all linears reading that input. */
export function prepareSparseGpt(hessian: Float64Array, cols: number, dampening = SPARSEGPT_DAMPENING, what = 'SparseGPT'): SparseGptFactor {
  if (hessian.length !== cols * cols) throw new Error(`${what}: Hessian has ${hessian.length} entries, expected ${cols}×${cols}`);
  const H = Float64Array.from(hessian);
  const dead = new Uint8Array(cols);
  for (let j = 0; j < cols; j++) {
    if (H[j * cols + j] === 0) {
      H[j * cols + j] = 1;
      dead[j] = 1;
    }
  }
  let meanDiag = 0;
  for (let j = 0; j < cols; j++) meanDiag += H[j * cols + j]!;
  meanDiag /= Math.max(1, cols);
  let damp = dampening * meanDiag;
  let U: Float64Array | null = null;
  for (let attempt = 0; attempt < 6 && !U; attempt++) {
    const Hd = Float64Array.from(H);
    for (let j = 0; j < cols; j++) Hd[j * cols + j]! += damp;
    U = inverseCholeskyUpper(Hd, cols);
    damp = damp > 0 ? damp * 10 : 1e-8 * Math.max(1, meanDiag); // only reached when H is numerically singular
  }
  if (!U) throw new Error(`${what}: the Hessian is not positive definite even after dampening (non-finite activations?)`);
  return { cols, U, dead };
}

/** The weight being pruned, as SparseGPT walks its columns block by block. */
interface ObsState {
  rows: number;
  cols: number;
  /** Block size: columns whose errors are propagated together. */
  bs: number;
  /** Upper Cholesky factor of the dampened inverse Hessian. */
  U: Float64Array;
  /** The weight, row-major [rows, cols], updated in place. */
  w: Float64Array;
  keep: Uint8Array;
  /** Err1 of the current block, row-major [rows, bs]. */
  err: Float64Array;
}

/** A block size no larger than the weight, and a whole number of N:M groups. */
function blockSizeFor(requested: number | undefined, cols: number, pattern: MatrixPattern): number {
  let bs = Math.min(requested ?? SPARSEGPT_BLOCK_SIZE, cols);
  if (pattern.kind === 'nm' && bs % pattern.m !== 0) bs = Math.max(pattern.m, bs - (bs % pattern.m));
  return bs;
}

/** Adaptive mask for the block from the weights as they are now (after earlier blocks' updates). */
function maskUnstructuredBlock({ rows, cols, U, w, keep }: ObsState, i1: number, count: number, sparsity: number): void {
  const k = Math.round(sparsity * rows * count);
  if (k <= 0) return;
  const tmp = new Float64Array(rows * count);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < count; c++) {
      const d = U[(i1 + c) * cols + (i1 + c)]!;
      const v = w[r * cols + i1 + c]!;
      tmp[r * count + c] = (v * v) / (d * d);
    }
  }
  for (const f of smallestK(tmp, k)) keep[Math.floor(f / count) * cols + i1 + (f % count)] = 0;
}

/** The N:M group starting at column `col`: per row, prune the M − N weights of least saliency. */
function maskNmGroup({ rows, cols, U, w, keep }: ObsState, col: number, pattern: { n: number; m: number }, tmpGroup: Float64Array): void {
  const m = pattern.m;
  const prune = m - pattern.n;
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < m; t++) {
      const d = U[(col + t) * cols + (col + t)]!;
      const v = w[r * cols + col + t]!;
      tmpGroup[t] = (v * v) / (d * d);
    }
    for (const t of smallestK(tmpGroup, prune)) keep[r * cols + col + t] = 0;
  }
}

/** Quantize column `col` (the c-th of its block) to its mask and spread the error over the block's later columns. */
function pruneColumn({ rows, cols, bs, U, w, keep, err }: ObsState, col: number, c: number, i2: number): void {
  const d = U[col * cols + col]!;
  const Urow = col * cols;
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const wv = w[base + col]!;
    const q = keep[base + col] ? wv : 0;
    const e = (wv - q) / d;
    err[r * bs + c] = e;
    w[base + col] = q;
    if (e !== 0) for (let j = col + 1; j < i2; j++) w[base + j]! -= e * U[Urow + j]!;
  }
}

/** Lazy batch update of the columns after the block: W[:, i2:] −= Err1 · U[i1:i2, i2:]. */
function propagateBlockError({ rows, cols, bs, U, w, err }: ObsState, i1: number, i2: number): void {
  const count = i2 - i1;
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < count; c++) {
      const e = err[r * bs + c]!;
      if (e === 0) continue;
      const Urow = (i1 + c) * cols;
      for (let j = i2; j < cols; j++) w[base + j]! -= e * U[Urow + j]!;
    }
  }
}

function pruneBlock(state: ObsState, i1: number, pattern: MatrixPattern, tmpGroup: Float64Array): void {
  const i2 = Math.min(i1 + state.bs, state.cols);
  const count = i2 - i1;
  if (pattern.kind === 'unstructured') maskUnstructuredBlock(state, i1, count, pattern.sparsity);
  for (let c = 0; c < count; c++) {
    const col = i1 + c;
    if (pattern.kind === 'nm' && (col - i1) % pattern.m === 0) maskNmGroup(state, col, pattern, tmpGroup);
    pruneColumn(state, col, c, i2);
  }
  if (i2 < state.cols) propagateBlockError(state, i1, i2);
}

/**
 * SparseGPT on one weight W [out, in] with the Hessian H [in, in] (row-major, e.g. 2XᵀX/N) or its prepared
 * factor. Returns the pruned and OBS-updated weight and its mask.
 */
export function sparseGptPrune(
  W: HostTensor,
  hessian: Float64Array | SparseGptFactor,
  pattern: MatrixPattern,
  opts: { blockSize?: number; dampening?: number; name?: string } = {},
): PrunedMatrix {
  const what = opts.name ?? 'SparseGPT';
  if (W.shape.length !== 2) throw new Error(`${what}: expected a 2-D weight, got ${shapeStr(W.shape)}`);
  const [rows, cols] = W.shape as [number, number];
  checkPattern(pattern, cols, what);
  const bs = blockSizeFor(opts.blockSize, cols, pattern);
  if (rows === 0 || cols === 0) return { weight: { shape: [rows, cols], data: new Float32Array(0) }, mask: packMask([], [rows, cols]) };
  const f = hessian instanceof Float64Array ? prepareSparseGpt(hessian, cols, opts.dampening, what) : hessian;
  if (f.cols !== cols) throw new Error(`${what}: the Hessian is for ${f.cols} inputs, the weight has ${cols}`);
  const w = Float64Array.from(W.data);
  // Dead inputs (never active): the weight is irrelevant; SparseGPT zeroes it.
  for (let j = 0; j < cols; j++) if (f.dead[j]) for (let r = 0; r < rows; r++) w[r * cols + j] = 0;
  const state: ObsState = { rows, cols, bs, U: f.U, w, keep: new Uint8Array(rows * cols).fill(1), err: new Float64Array(rows * bs) };
  const tmpGroup = new Float64Array(pattern.kind === 'nm' ? pattern.m : 0);
  for (let i1 = 0; i1 < cols; i1 += bs) pruneBlock(state, i1, pattern, tmpGroup);
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < out.length; i++) out[i] = state.keep[i] ? w[i]! : 0;
  return { weight: { shape: [rows, cols], data: out }, mask: packMask(state.keep, [rows, cols]) };
}

/** Prune by a per-weight score: per row (unstructured) or per N:M group; optionally matrix-wide. */
function pruneByScore(W: HostTensor, score: (r: number, c: number) => number, pattern: MatrixPattern, perRow: boolean, what: string): PrunedMatrix {
  if (W.shape.length !== 2) throw new Error(`${what}: expected a 2-D weight, got ${shapeStr(W.shape)}`);
  const [rows, cols] = W.shape as [number, number];
  checkPattern(pattern, cols, what);
  const keep = new Uint8Array(rows * cols).fill(1);
  if (pattern.kind === 'nm') {
    const prune = pattern.m - pattern.n;
    const tmp = new Float64Array(pattern.m);
    for (let r = 0; r < rows; r++) {
      for (let g = 0; g < cols; g += pattern.m) {
        for (let t = 0; t < pattern.m; t++) tmp[t] = score(r, g + t);
        for (const t of smallestK(tmp, prune)) keep[r * cols + g + t] = 0;
      }
    }
  } else if (perRow) {
    const k = Math.round(pattern.sparsity * cols);
    const tmp = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) tmp[c] = score(r, c);
      for (const c of smallestK(tmp, k)) keep[r * cols + c] = 0;
    }
  } else {
    const k = Math.round(pattern.sparsity * rows * cols);
    const tmp = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) tmp[r * cols + c] = score(r, c);
    for (const f of smallestK(tmp, k)) keep[f] = 0;
  }
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < out.length; i++) out[i] = keep[i] ? W.data[i]! : 0;
  return { weight: { shape: [rows, cols], data: out }, mask: packMask(keep, [rows, cols]) };
}

/** Wanda: |W_ij|·‖X_j‖₂ with `colSqNorm[j]` = Σ_n x_nj² of the layer input; compared within each output row. */
export function wandaPrune(W: HostTensor, colSqNorm: Float64Array, pattern: MatrixPattern, name = 'Wanda'): PrunedMatrix {
  const cols = W.shape[1]!;
  if (colSqNorm.length !== cols) throw new Error(`${name}: ${colSqNorm.length} input norms for ${cols} input columns`);
  const norm = colSqNorm.map(Math.sqrt);
  return pruneByScore(W, (r, c) => Math.abs(W.data[r * cols + c]!) * norm[c]!, pattern, true, name);
}

/** Magnitude pruning: |W_ij|, matrix-wide for unstructured, within each group for N:M. */
export function magnitudePrune(W: HostTensor, pattern: MatrixPattern, name = 'magnitude pruning'): PrunedMatrix {
  const cols = W.shape[1]!;
  return pruneByScore(W, (r, c) => Math.abs(W.data[r * cols + c]!), pattern, false, name);
}
