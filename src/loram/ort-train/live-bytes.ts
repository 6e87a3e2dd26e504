/**
 * The memory a training graph needs: every value's size from the graph's static shapes (shape inference over the
 * ops our graphs use), and the peak of live bytes when the nodes run in order, each intermediate freed after its
 * last reader — the same accounting tfjs's tensor counter gives (weights, fed tensors, activations kept for the
 * backward pass, gradients), exact for that order. ONNX Runtime's arena rounds allocations up on top of it.
 */
import { DataType, type Attr, type DataTypeCode, type GraphBuilder } from '../onnx/graph';
import { numel } from '../util/tensor';

interface Info {
  shape: number[];
  bytes: number;
}

export interface GraphMemory {
  /** Initializers (the frozen weights as stored: f32, f16 or NF4 codes) and constants. */
  initializerBytes: number;
  /** Fed inputs: token batch, trainable tensors, dropout masks. */
  inputBytes: number;
  /** Peak of everything alive at once while the graph runs, initializers and inputs included. */
  peakBytes: number;
  /** Bytes of the `external` values (inputs and outputs in the caller's own arrays), left out of the figures above. */
  externalBytes: number;
  /** With `trace`: the intermediates alive at the peak (value, bytes, index of the node that made it). */
  liveAtPeak?: { value: string; bytes: number; node: number }[];
}

export interface GraphMemoryOptions {
  /** Node indices in the order they run (default: the order they were built in). */
  order?: readonly number[];
  /**
   * Inputs fed from, and outputs written into, arrays the caller owns (a trainer's optimizer slabs: the trainable
   * tensors and their gradients): not allocated by the runtime, so not counted here.
   */
  external?: ReadonlySet<string>;
  /** Report what is alive at the peak (liveAtPeak). */
  trace?: boolean;
  /**
   * Count Reshape / Squeeze / Unsqueeze / Flatten / Identity outputs as views of their input, as ONNX Runtime runs
   * them (the output shares the input's buffer), rather than as copies. Default true.
   */
  views?: boolean;
}

/** Ops whose output ONNX Runtime's CPU kernels alias to their first input. */
const VIEW_OPS = new Set(['Reshape', 'Squeeze', 'Unsqueeze', 'Flatten', 'Identity']);

const BYTES: Record<number, number> = { [DataType.FLOAT]: 4, [DataType.UINT8]: 1, [DataType.INT32]: 4, [DataType.INT64]: 8, [DataType.BOOL]: 1, [DataType.FLOAT16]: 2 };
const intAttr = (a: Attr | undefined, d: number) => (a && a.type === 'int' ? a.value : d);
const intsAttr = (a: Attr | undefined) => (a && a.type === 'ints' ? a.value : null);

function broadcast(shapes: number[][]): number[] {
  const n = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: n }, (_, i) => Math.max(...shapes.map((s) => s[s.length - n + i] ?? 1)));
}

function normAxis(a: number, rank: number): number {
  return a < 0 ? a + rank : a;
}

/** Output shapes of one node, from its input shapes and int64 constants. */
function inferShapes(op: string, ins: number[][], attrs: Record<string, Attr>, konst: (i: number) => number[] | undefined): number[][] {
  const x = ins[0] ?? [];
  switch (op) {
    case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Sum': case 'Pow': case 'Max':
      return [broadcast(ins)];
    case 'Where':
      return [broadcast(ins)];
    case 'Gemm': {
      const [a, b] = ins as [number[], number[]];
      const m = intAttr(attrs.transA, 0) ? a[1]! : a[0]!;
      const n = intAttr(attrs.transB, 0) ? b[0]! : b[1]!;
      return [[m, n]];
    }
    case 'MatMul': case 'FusedMatMul': {
      const [a, b] = ins as [number[], number[]];
      return [[...broadcast([a.slice(0, -2), b.slice(0, -2)]), a[a.length - 2]!, b[b.length - 1]!]];
    }
    case 'MatMulBnb4':
      return [[...x.slice(0, -1), intAttr(attrs.N, 0)]];
    case 'Transpose':
      return [(intsAttr(attrs.perm) ?? x.map((_, i) => x.length - 1 - i)).map((p) => x[p]!)];
    case 'Reshape': {
      const t = konst(1)!;
      const out = t.map((d, i) => (d === 0 ? x[i]! : d));
      const k = out.indexOf(-1);
      if (k >= 0) out[k] = numel(x) / -numel(out);
      return [out];
    }
    case 'ReduceSum': case 'ReduceMean': {
      const axes = (op === 'ReduceSum' ? konst(1) : intsAttr(attrs.axes)) ?? x.map((_, i) => i);
      const keep = intAttr(attrs.keepdims, 1) === 1;
      const set = new Set(axes.map((a) => normAxis(a, x.length)));
      return [keep ? x.map((d, i) => (set.has(i) ? 1 : d)) : x.filter((_, i) => !set.has(i))];
    }
    case 'Gather':
      return [[...ins[1]!, ...x.slice(1)]];
    case 'GatherElements':
      return [ins[1]!];
    case 'Split': {
      const axis = normAxis(intAttr(attrs.axis, 0), x.length);
      return konst(1)!.map((n) => x.map((d, i) => (i === axis ? n : d)));
    }
    case 'Concat': {
      const axis = normAxis(intAttr(attrs.axis, 0), x.length);
      return [x.map((d, i) => (i === axis ? ins.reduce((a, s) => a + s[i]!, 0) : d))];
    }
    case 'Slice': {
      const [starts, ends] = [konst(1)!, konst(2)!];
      const axes = konst(3) ?? starts.map((_, i) => i);
      const out = [...x];
      axes.forEach((a, k) => {
        const ax = normAxis(a, x.length);
        const clamp = (v: number) => Math.max(0, Math.min(x[ax]!, v < 0 ? v + x[ax]! : v));
        out[ax] = Math.max(0, clamp(ends[k]!) - clamp(starts[k]!));
      });
      return [out];
    }
    case 'Unsqueeze': {
      const out = [...x];
      for (const a of [...konst(1)!].sort((p, q) => p - q)) out.splice(normAxis(a, out.length + 1), 0, 1);
      return [out];
    }
    case 'Expand':
      return [broadcast([x, konst(1)!])];
    case 'ConstantOfShape':
      return [konst(0)!];
    case 'Pad':
      return [x.map((d, i) => d + konst(1)![i]! + konst(1)![i + x.length]!)];
    case 'Shape':
      return [[x.length]];
    default:
      // Shape-preserving ops: Neg, Exp, Sqrt, Reciprocal, Sigmoid, Softmax, LogSoftmax, Cast, IsNaN, Identity,
      // ScatterElements, ScatterND (data shape).
      return [x];
  }
}

function outputType(op: string, attrs: Record<string, Attr>, inType: number, whereType?: number): number {
  if (op === 'Cast') return intAttr(attrs.to, DataType.FLOAT);
  if (op === 'IsNaN') return DataType.BOOL;
  if (op === 'Shape') return DataType.INT64;
  if (op === 'Gather' || op === 'GatherElements') return inType;
  return op === 'Where' ? (whereType ?? DataType.FLOAT) : inType;
}

/** Sizes of every value and the peak of live bytes over the node order. */
export function graphMemory(g: GraphBuilder, opts: GraphMemoryOptions = {}): GraphMemory {
  const { order, external = new Set<string>(), views = true } = opts;
  let externalBytes = 0;
  const info = new Map<string, Info & { type: DataTypeCode | number }>();
  let initializerBytes = 0;
  for (const t of g.initializers) {
    info.set(t.name, { shape: t.dims, bytes: t.data.length, type: t.dataType });
    initializerBytes += t.data.length;
  }
  let inputBytes = 0;
  for (const i of g.inputs) {
    const shape = i.dims.map((d) => (typeof d === 'number' ? d : 1));
    const bytes = numel(shape) * (BYTES[i.elemType] ?? 4);
    info.set(i.name, { shape, bytes, type: i.elemType });
    if (external.has(i.name)) externalBytes += bytes;
    else inputBytes += bytes;
  }
  const persistent = new Set([...g.initializers.map((t) => t.name), ...g.inputs.map((i) => i.name)]);
  const seq = order ?? g.nodeInfo.map((_, k) => k);
  const lastUse = new Map<string, number>();
  seq.forEach((i, k) => g.nodeInfo[i]!.inputs.forEach((v) => v && lastUse.set(v, k)));
  const outputs = new Set(g.outputs.map((o) => o.name));
  let live = initializerBytes + inputBytes;
  let peak = live;
  const alive = opts.trace ? new Map<string, number>() : null;
  // A view's buffer is its root's; a root is freed once the last of the names on it is past its last reader.
  const root = new Map<string, string>();
  const holders = new Map<string, number>();
  let liveAtPeak: GraphMemory['liveAtPeak'];
  seq.forEach((i, k) => {
    const n = g.nodeInfo[i]!;
    const ins = n.inputs.map((v) => info.get(v)?.shape ?? []);
    const inType = info.get(n.inputs[0] ?? '')?.type ?? DataType.FLOAT;
    const shapes = inferShapes(n.op, ins, n.attrs, (i) => g.i64Values.get(n.inputs[i] ?? ''));
    const type = outputType(n.op, n.attrs, inType, info.get(n.inputs[1] ?? '')?.type);
    n.outputs.forEach((o, j) => {
      const shape = shapes[j] ?? shapes[0]!;
      const bytes = numel(shape) * (BYTES[type] ?? 4);
      info.set(o, { shape, bytes, type });
      const src = n.inputs[0] ?? '';
      if (external.has(o)) externalBytes += bytes;
      else if (views && j === 0 && VIEW_OPS.has(n.op) && !outputs.has(o) && info.has(src) && !external.has(src)) {
        const r = root.get(src) ?? src;
        root.set(o, r);
        if (!persistent.has(r) && !outputs.has(r)) holders.set(r, (holders.get(r) ?? 0) + 1);
      } else {
        live += bytes;
        holders.set(o, 1);
        alive?.set(o, i);
      }
    });
    if (live > peak) {
      peak = live;
      if (alive) liveAtPeak = [...alive].map(([value, node]) => ({ value, bytes: info.get(value)!.bytes, node }));
    }
    // Free each intermediate after its last reader (one never read, right away); weights, inputs and graph outputs stay.
    for (const v of new Set([...n.inputs, ...n.outputs])) {
      if (persistent.has(v) || outputs.has(v) || external.has(v)) continue;
      if ((lastUse.get(v) ?? -1) > k) continue;
      const r = root.get(v) ?? v;
      if (persistent.has(r) || outputs.has(r)) continue;
      const h = (holders.get(r) ?? 1) - 1;
      holders.set(r, h);
      if (h === 0) {
        live -= info.get(r)?.bytes ?? 0;
        alive?.delete(r);
      }
    }
  });
  return { initializerBytes, inputBytes, peakBytes: peak, externalBytes, ...(opts.trace ? { liveAtPeak: liveAtPeak ?? [] } : {}) };
}

