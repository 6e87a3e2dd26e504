/**
 * Differentiable ONNX ops on the tape: each function emits its forward node(s) and records the rule that emits
 * its backward. Shapes are static (a training session is built for one batch × sequence shape), so every
 * broadcast and reshape is known when the graph is built. Each rule is tested on its own against finite
 * differences (tests/unit/ort-train/ops.test.ts).
 */
import { A } from '../onnx/graph';
import { numel } from '../util/tensor';
import type { Tape, Val } from './tape';

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

function fail(op: string, msg: string): never {
  throw new Error(`ort-train ${op}: ${msg}`);
}

/** Sum `grad` (shaped like a broadcast result `from`) down to `to` (numpy broadcasting rules). */
function sumTo(t: Tape, grad: string, from: readonly number[], to: readonly number[]): string {
  if (same(from, to)) return grad;
  const lead = from.length - to.length;
  const axes: number[] = [];
  for (let i = 0; i < from.length; i++) {
    const d = i < lead ? 1 : to[i - lead]!;
    if (i < lead || (d === 1 && from[i] !== 1)) axes.push(i);
  }
  const reduced = axes.length ? t.g.op1('ReduceSum', [grad, t.g.i64(axes)], { keepdims: A.int(1) }) : grad;
  return t.g.op1('Reshape', [reduced, t.g.i64([...to])]);
}

function broadcastShape(op: string, a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) fail(op, `cannot broadcast [${a.join(', ')}] with [${b.join(', ')}]`);
    out.push(Math.max(da, db));
  }
  return out;
}

export function add(t: Tape, a: Val, b: Val): Val {
  const shape = broadcastShape('add', a.shape, b.shape);
  const y = t.g.op1('Add', [a.name, b.name]);
  return t.record(y, shape, [a, b], (dy) => [sumTo(t, dy, shape, a.shape), sumTo(t, dy, shape, b.shape)]);
}

export function mul(t: Tape, a: Val, b: Val): Val {
  const shape = broadcastShape('mul', a.shape, b.shape);
  const y = t.g.op1('Mul', [a.name, b.name]);
  return t.record(y, shape, [a, b], (dy) => [
    a.needsGrad ? sumTo(t, t.g.op1('Mul', [dy, b.name]), shape, a.shape) : null,
    b.needsGrad ? sumTo(t, t.g.op1('Mul', [dy, a.name]), shape, b.shape) : null,
  ]);
}

/** Σ x over every element: a scalar whose gradient is dy broadcast back to x's shape. */
export function sum(t: Tape, x: Val): Val {
  const y = t.g.op1('ReduceSum', [x.name], { keepdims: A.int(0) });
  return t.record(y, [], [x], (dy) => [t.g.op1('Expand', [dy, t.g.i64([...x.shape])])]);
}

/** x · c for a constant scalar c. */
export function scale(t: Tape, x: Val, c: number): Val {
  const k = t.g.f32([c], []);
  const y = t.g.op1('Mul', [x.name, k]);
  return t.record(y, x.shape, [x], (dy) => [t.g.op1('Mul', [dy, k])]);
}

export function reshape(t: Tape, x: Val, shape: readonly number[]): Val {
  if (numel(shape) !== numel(x.shape)) fail('reshape', `[${x.shape.join(', ')}] cannot become [${shape.join(', ')}]`);
  if (same(shape, x.shape)) return x;
  const y = t.g.op1('Reshape', [x.name, t.g.i64([...shape])]);
  return t.record(y, shape, [x], (dy) => [t.g.op1('Reshape', [dy, t.g.i64([...x.shape])])]);
}

export function transpose(t: Tape, x: Val, perm: readonly number[]): Val {
  const shape = perm.map((p) => x.shape[p]!);
  const inverse = perm.map((_, i) => perm.indexOf(i));
  const y = t.g.op1('Transpose', [x.name], { perm: A.ints([...perm]) });
  return t.record(y, shape, [x], (dy) => [t.g.op1('Transpose', [dy], { perm: A.ints(inverse) })]);
}

function swapLast(rank: number): number[] {
  const p = Array.from({ length: rank }, (_, i) => i);
  [p[rank - 2], p[rank - 1]] = [p[rank - 1]!, p[rank - 2]!];
  return p;
}

/** op(a)·op(b) (op = transpose of the last two axes where asked), times alpha; no graph value, no record. */
function emitMatMul(t: Tape, a: string, aRank: number, b: string, ta: boolean, tb: boolean, alpha: number): string {
  if (aRank === 2) {
    return t.g.op1('Gemm', [a, b], { transA: A.int(ta ? 1 : 0), transB: A.int(tb ? 1 : 0), ...(alpha !== 1 ? { alpha: A.float(alpha) } : {}) });
  }
  const at = ta ? t.g.op1('Transpose', [a], { perm: A.ints(swapLast(aRank)) }) : a;
  const bt = tb ? t.g.op1('Transpose', [b], { perm: A.ints(swapLast(aRank)) }) : b;
  const y = t.g.op1('MatMul', [at, bt]);
  return alpha === 1 ? y : t.g.op1('Mul', [y, t.g.f32([alpha], [])]);
}

/**
 * alpha · op(a) · op(b) over the last two axes; both operands have the same rank and the same leading (batch)
 * axes. Rank 2 becomes one Gemm (MLAS reads transposed operands in place).
 */
export function matmul(t: Tape, a: Val, b: Val, opts: { ta?: boolean; tb?: boolean; alpha?: number } = {}): Val {
  const ta = opts.ta ?? false;
  const tb = opts.tb ?? false;
  const alpha = opts.alpha ?? 1;
  const r = a.shape.length;
  if (r < 2 || b.shape.length !== r) fail('matmul', `operands must have the same rank ≥ 2, got [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
  if (!same(a.shape.slice(0, -2), b.shape.slice(0, -2))) fail('matmul', `batch axes differ: [${a.shape.join(', ')}] vs [${b.shape.join(', ')}]`);
  const [m, ka] = ta ? [a.shape[r - 1]!, a.shape[r - 2]!] : [a.shape[r - 2]!, a.shape[r - 1]!];
  const [kb, n] = tb ? [b.shape[r - 1]!, b.shape[r - 2]!] : [b.shape[r - 2]!, b.shape[r - 1]!];
  if (ka !== kb) fail('matmul', `inner dimensions differ: [${a.shape.join(', ')}]${ta ? 'ᵀ' : ''} · [${b.shape.join(', ')}]${tb ? 'ᵀ' : ''}`);
  const shape = [...a.shape.slice(0, -2), m, n];
  const y = emitMatMul(t, a.name, r, b.name, ta, tb, alpha);
  return t.record(y, shape, [a, b], (dy) => {
    // y = op(a)·op(b): d op(a) = dy·op(b)ᵀ, d op(b) = op(a)ᵀ·dy, then undo the op.
    let da: string | null = null;
    let db: string | null = null;
    if (a.needsGrad) da = ta ? emitMatMul(t, b.name, r, dy, tb, true, alpha) : emitMatMul(t, dy, r, b.name, false, !tb, alpha);
    if (b.needsGrad) db = tb ? emitMatMul(t, dy, r, a.name, true, ta, alpha) : emitMatMul(t, a.name, r, dy, !ta, false, alpha);
    return [da, db];
  });
}

/** y = x·Wᵀ + b for x [N, in], W [out, in] (Hugging Face layout, read in place), b [out]. */
export function linear(t: Tape, x: Val, w: Val, bias: Val | null = null): Val {
  if (x.shape.length !== 2 || w.shape.length !== 2 || x.shape[1] !== w.shape[1]) fail('linear', `x [${x.shape.join(', ')}] does not fit W [${w.shape.join(', ')}]`);
  const [n] = x.shape as [number, number];
  const out = w.shape[0]!;
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== out)) fail('linear', `bias [${bias.shape.join(', ')}] does not fit W [${w.shape.join(', ')}]`);
  const y = t.g.op1('Gemm', bias ? [x.name, w.name, bias.name] : [x.name, w.name], { transB: A.int(1) });
  const ins = bias ? [x, w, bias] : [x, w];
  return t.record(y, [n, out], ins, (dy) => [
    x.needsGrad ? t.g.op1('Gemm', [dy, w.name]) : null,
    w.needsGrad ? t.g.op1('Gemm', [dy, x.name], { transA: A.int(1) }) : null,
    bias?.needsGrad ? t.g.op1('ReduceSum', [dy, t.g.i64([0])], { keepdims: A.int(0) }) : null,
  ]);
}

/** Softmax over the last axis. */
export function softmax(t: Tape, x: Val): Val {
  const y = t.g.op1('Softmax', [x.name], { axis: A.int(-1) });
  return t.record(y, x.shape, [x], (dy) => {
    const dot = t.g.op1('ReduceSum', [t.g.op1('Mul', [dy, y]), t.g.i64([-1])], { keepdims: A.int(1) });
    return [t.g.op1('Mul', [y, t.g.op1('Sub', [dy, dot])])];
  });
}

/** RMSNorm over the last axis of x [N, H] with weight w [H]: x·rsqrt(mean(x²) + eps)·w. */
export function rmsNorm(t: Tape, x: Val, w: Val, eps: number): Val {
  const g = t.g;
  const ms = g.op1('ReduceMean', [g.op1('Mul', [x.name, x.name])], { axes: A.ints([-1]), keepdims: A.int(1) });
  const r = g.op1('Reciprocal', [g.op1('Sqrt', [g.op1('Add', [ms, g.f32([eps], [])])])]);
  const xhat = g.op1('Mul', [x.name, r]);
  const y = g.op1('Mul', [xhat, w.name]);
  return t.record(y, x.shape, [x, w], (dy) => {
    let dx: string | null = null;
    if (x.needsGrad) {
      const dxhat = g.op1('Mul', [dy, w.name]);
      const proj = g.op1('ReduceMean', [g.op1('Mul', [dxhat, xhat])], { axes: A.ints([-1]), keepdims: A.int(1) });
      dx = g.op1('Mul', [r, g.op1('Sub', [dxhat, g.op1('Mul', [xhat, proj])])]);
    }
    const dw = w.needsGrad ? g.op1('ReduceSum', [g.op1('Mul', [dy, xhat]), g.i64([0])], { keepdims: A.int(0) }) : null;
    return [dx, dw];
  });
}

/** Swap the two halves of the last axis (size hd). */
function swapHalves(t: Tape, x: string, hd: number): string {
  const [x1, x2] = t.g.op('Split', [x, t.g.i64([hd / 2, hd / 2])], { axis: A.int(-1) }, 2) as [string, string];
  return t.g.op1('Concat', [x2, x1], { axis: A.int(-1) });
}

/**
 * Rotary embedding x·cos + rotate_half(x)·sin for x [B, T, heads, hd], with `cos` [T, 1, hd] and `sinSigned`
 * (sin with its first half negated, so rotate_half is a swap of halves) as constants.
 */
export function rope(t: Tape, x: Val, cos: string, sinSigned: string): Val {
  const hd = x.shape[x.shape.length - 1]!;
  const y = t.g.op1('Add', [t.g.op1('Mul', [x.name, cos]), t.g.op1('Mul', [swapHalves(t, x.name, hd), sinSigned])]);
  // The rotation's transpose is its negation, which the signed sin table turns back into a plain swap.
  return t.record(y, x.shape, [x], (dy) => [t.g.op1('Add', [t.g.op1('Mul', [dy, cos]), swapHalves(t, t.g.op1('Mul', [dy, sinSigned]), hd)])]);
}

/** SwiGLU: silu(gate) · up. */
export function swiglu(t: Tape, gate: Val, up: Val): Val {
  const g = t.g;
  const s = g.op1('Sigmoid', [gate.name]);
  const act = g.op1('Mul', [gate.name, s]);
  const y = g.op1('Mul', [act, up.name]);
  return t.record(y, gate.shape, [gate, up], (dy) => {
    let dg: string | null = null;
    if (gate.needsGrad) {
      // silu'(g) = s·(1 + g·(1 − s))
      const one = g.f32([1], []);
      const dsilu = g.op1('Mul', [s, g.op1('Add', [one, g.op1('Mul', [gate.name, g.op1('Sub', [one, s])])])]);
      dg = g.op1('Mul', [g.op1('Mul', [dy, up.name]), dsilu]);
    }
    return [dg, up.needsGrad ? g.op1('Mul', [dy, act]) : null];
  });
}

/** Inverted dropout with a fed boolean keep-mask and a fed scalar scale 1/(1 − p): where(keep, x·scale, 0). */
export function dropout(t: Tape, x: Val, keep: string, k: string): Val {
  const zero = t.g.f32([0], []);
  const y = t.g.op1('Where', [keep, t.g.op1('Mul', [x.name, k]), zero]);
  return t.record(y, x.shape, [x], (dy) => [t.g.op1('Where', [keep, t.g.op1('Mul', [dy, k]), zero])]);
}

/** Rows of `table` [V, H] at int64 `ids` [N] → [N, H]; the gradient scatters back (adding repeated ids). */
export function gatherRows(t: Tape, table: Val, ids: string, n: number): Val {
  const [v, h] = table.shape as [number, number];
  const y = t.g.op1('Gather', [table.name, ids], { axis: A.int(0) });
  return t.record(y, [n, h], [table], (dy) => {
    const zeros = t.g.op1('ConstantOfShape', [t.g.i64([v, h])]);
    const idx = t.g.op1('Unsqueeze', [ids, t.g.i64([1])]);
    return [t.g.op1('ScatterND', [zeros, idx, dy], { reduction: A.string('add') })];
  });
}

/**
 * Σᵢ wᵢ·(logsumexp(logitsᵢ) − logitsᵢ[labelᵢ]) for logits [N, V], int64 labels [N, 1] (any valid id where wᵢ = 0)
 * and float weights [N, 1] (1 counted, 0 ignored). A scalar; its gradient is (softmax − onehot)·w.
 */
export function crossEntropySum(t: Tape, logits: Val, labels: string, weights: string): Val {
  const g = t.g;
  const ls = g.op1('LogSoftmax', [logits.name], { axis: A.int(-1) });
  const picked = g.op1('GatherElements', [ls, labels], { axis: A.int(1) });
  const y = g.op1('Neg', [g.op1('ReduceSum', [g.op1('Mul', [picked, weights])], { keepdims: A.int(0) })]);
  return t.record(y, [], [logits], (dy) => {
    const p = g.op1('Exp', [ls]);
    const pAtLabel = g.op1('GatherElements', [p, labels], { axis: A.int(1) });
    const minusOne = g.op1('ScatterElements', [p, labels, g.op1('Sub', [pAtLabel, g.f32([1], [])])], { axis: A.int(1) });
    return [g.op1('Mul', [minusOne, g.op1('Mul', [weights, dy])])];
  });
}

