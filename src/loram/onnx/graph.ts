/**
 * ONNX graph construction on top of the protobuf encoder: nodes, initializers (inline or external data),
 * typed inputs/outputs with symbolic (dynamic) dimensions, and the ModelProto around them.
 */
import { Message, type LazyBytes } from './proto';

/** TensorProto.DataType values we use. */
export const DataType = { FLOAT: 1, UINT8: 2, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values. */
const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

export type Attr =
  | { type: 'int'; value: number }
  | { type: 'float'; value: number }
  | { type: 'ints'; value: number[] }
  | { type: 'floats'; value: number[] }
  | { type: 'string'; value: string };

export const A = {
  int: (value: number): Attr => ({ type: 'int', value }),
  float: (value: number): Attr => ({ type: 'float', value }),
  ints: (value: number[]): Attr => ({ type: 'ints', value }),
  floats: (value: number[]): Attr => ({ type: 'floats', value }),
  string: (value: string): Attr => ({ type: 'string', value }),
};

/** A dimension: a fixed size or a symbolic name (dynamic axis). */
export type Dim = number | string;

export interface Initializer {
  name: string;
  dataType: DataTypeCode;
  dims: number[];
  data: Uint8Array | LazyBytes;
}

export interface ValueInfo {
  name: string;
  elemType: DataTypeCode;
  dims: Dim[];
}

/** Where large initializers go when the external-data layout is used. */
export interface ExternalLayout {
  /** File name relative to the .onnx file. */
  location: string;
  /** Tensors at least this big (bytes) go external; smaller ones stay inline. */
  minBytes: number;
  /** Offsets are multiples of this (4096 lets ORT memory-map the file). */
  alignment: number;
}

export interface ExternalPlanEntry {
  name: string;
  offset: number;
  data: Uint8Array | LazyBytes;
}

const BYTES_PER: Record<DataTypeCode, number> = { 1: 4, 2: 1, 6: 4, 7: 8, 9: 1, 10: 2 };

function attrProto(name: string, a: Attr): Message {
  const m = new Message().string(1, name);
  switch (a.type) {
    case 'int':
      m.varint(20, AttrType.INT).varint(3, a.value);
      break;
    case 'float':
      m.varint(20, AttrType.FLOAT).float(2, a.value);
      break;
    case 'ints':
      m.varint(20, AttrType.INTS).packedVarints(8, a.value);
      break;
    case 'floats':
      m.varint(20, AttrType.FLOATS).packedFloats(7, a.value);
      break;
    case 'string':
      m.varint(20, AttrType.STRING).bytes(4, new TextEncoder().encode(a.value));
      break;
  }
  return m;
}

function valueInfoProto(v: ValueInfo): Message {
  const shape = new Message();
  for (const d of v.dims) {
    const dim = new Message();
    if (typeof d === 'number') dim.varint(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new Message().varint(1, v.elemType).message(2, shape);
  const type = new Message().message(1, tensorType);
  return new Message().string(1, v.name).message(2, type);
}

function f32Bytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export class GraphBuilder {
  readonly nodes: Message[] = [];
  /** Each node's op, inputs, outputs and attributes, in order (what the encoded `nodes` hold, readable). */
  readonly nodeInfo: { name: string; op: string; inputs: readonly string[]; outputs: readonly string[]; attrs: Record<string, Attr> }[] = [];
  /** Values of the int64 constants made by `i64`, by name (reshape targets, axes, slice bounds). */
  readonly i64Values = new Map<string, number[]>();
  readonly initializers: Initializer[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  private readonly names = new Set<string>();
  private readonly constCache = new Map<string, string>();
  private counter = 0;
  /** Nodes ever made (node names stay unique after `pruneUnused`). */
  private nodeCount = 0;

  constructor(readonly name: string) {}

  /** A value name with the given prefix not used so far (claimed by whoever uses it). */
  fresh(prefix: string): string {
    let n: string;
    do n = `${prefix}_${this.counter++}`;
    while (this.names.has(n));
    return n;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`ONNX graph: value name "${name}" is used twice`);
    this.names.add(name);
    return name;
  }

  input(name: string, elemType: DataTypeCode, dims: Dim[]): string {
    this.inputs.push({ name: this.claim(name), elemType, dims });
    return name;
  }

  /** Declare `value` (already produced by a node) as a graph output under `name` (an Identity renames it). */
  output(name: string, value: string, elemType: DataTypeCode, dims: Dim[]): void {
    if (value !== name) this.op('Identity', [value], {}, [name]);
    this.outputs.push({ name, elemType, dims });
  }

  initializer(name: string, dataType: DataTypeCode, dims: number[], data: Uint8Array | LazyBytes): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (data.length !== n * BYTES_PER[dataType]) throw new Error(`initializer ${name}: ${data.length} bytes for dims [${dims.join(', ')}]`);
    this.initializers.push({ name: this.claim(name), dataType, dims: [...dims], data });
    return name;
  }

  floatInitializer(name: string, dims: number[], data: Float32Array | LazyBytes): string {
    return this.initializer(name, DataType.FLOAT, dims, data instanceof Float32Array ? f32Bytes(data) : data);
  }

  /** An int64 constant (deduplicated). `dims` defaults to 1-D; pass [] for a scalar. */
  i64(values: readonly number[], dims: number[] = [values.length]): string {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    let n = this.constCache.get(key);
    if (!n) {
      const data = new BigInt64Array(values.map((v) => BigInt(v)));
      n = this.initializer(this.fresh('const_i64'), DataType.INT64, dims, new Uint8Array(data.buffer));
      this.constCache.set(key, n);
      this.i64Values.set(n, [...values]);
    }
    return n;
  }

  /** A float constant (deduplicated). */
  f32(values: readonly number[], dims: number[] = [values.length]): string {
    const key = `f32:${dims.join('x')}:${values.join(',')}`;
    let n = this.constCache.get(key);
    if (!n) {
      n = this.floatInitializer(this.fresh('const_f32'), dims, Float32Array.from(values));
      this.constCache.set(key, n);
    }
    return n;
  }

  /**
   * Add a node; returns its output names. `outputs` is a count (fresh names) or explicit names.
   * An empty input name ('') marks an omitted optional input.
   */
  op(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, outputs: number | readonly string[] = 1, domain = ''): string[] {
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.claim(this.fresh(opType.toLowerCase()))) : outputs.map((o) => this.claim(o));
    const m = new Message();
    for (const i of inputs) m.string(1, i);
    for (const o of outs) m.string(2, o);
    const nodeName = `${opType}_${this.nodeCount++}`;
    m.string(3, nodeName);
    m.string(4, opType);
    for (const [k, v] of Object.entries(attrs)) m.message(5, attrProto(k, v));
    if (domain) m.string(7, domain);
    this.nodes.push(m);
    this.nodeInfo.push({ name: nodeName, op: opType, inputs: [...inputs], outputs: outs, attrs });
    return outs;
  }

  /** Single-output convenience. */
  op1(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, output?: string): string {
    return this.op(opType, inputs, attrs, output ? [output] : 1)[0]!;
  }

  /**
   * Drop every node none of whose outputs is read by a kept node or is a graph output, and the initializers no
   * kept node reads (a gradient rule's result for an input that needs none, say). ONNX Runtime would run such
   * nodes, and late: its order visits them last, keeping their inputs alive to the end. Returns how many went.
   */
  pruneUnused(): number {
    const read = new Set(this.outputs.map((o) => o.name));
    const keep = new Array<boolean>(this.nodeInfo.length).fill(false);
    for (let i = this.nodeInfo.length - 1; i >= 0; i--) {
      const n = this.nodeInfo[i]!;
      if (!n.outputs.some((o) => read.has(o))) continue;
      keep[i] = true;
      for (const v of n.inputs) if (v) read.add(v);
    }
    const dropped = keep.filter((k) => !k).length;
    if (dropped) {
      const kept = <T>(a: T[]) => a.filter((_, i) => keep[i]);
      const [nodes, info] = [kept(this.nodes), kept(this.nodeInfo)];
      this.nodes.splice(0, this.nodes.length, ...nodes);
      this.nodeInfo.splice(0, this.nodeInfo.length, ...info);
    }
    const inits = this.initializers.filter((t) => read.has(t.name));
    this.initializers.splice(0, this.initializers.length, ...inits);
    return dropped;
  }

  /** Total bytes of all initializer data. */
  initializerBytes(): number {
    return this.initializers.reduce((a, t) => a + t.data.length, 0);
  }

  /**
   * The GraphProto. With `external`, initializers of at least `minBytes` are described by external_data
   * entries (location/offset/length) and returned in `plan`, in file order, for the caller to write.
   */
  toGraphProto(external?: ExternalLayout): { graph: Message; plan: ExternalPlanEntry[]; externalBytes: number } {
    const g = new Message();
    for (const n of this.nodes) g.message(1, n);
    g.string(2, this.name);
    const plan: ExternalPlanEntry[] = [];
    let offset = 0;
    for (const t of this.initializers) {
      const tp = new Message();
      tp.packedVarints(1, t.dims);
      tp.varint(2, t.dataType);
      tp.string(8, t.name);
      if (external && t.data.length >= external.minBytes) {
        offset = Math.ceil(offset / external.alignment) * external.alignment;
        plan.push({ name: t.name, offset, data: t.data });
        const entry = (k: string, v: string) => new Message().string(1, k).string(2, v);
        tp.message(13, entry('location', external.location));
        tp.message(13, entry('offset', String(offset)));
        tp.message(13, entry('length', String(t.data.length)));
        tp.varint(14, 1); // DataLocation.EXTERNAL
        offset += t.data.length;
      } else {
        tp.bytes(9, t.data);
      }
      g.message(5, tp);
    }
    for (const i of this.inputs) g.message(11, valueInfoProto(i));
    for (const o of this.outputs) g.message(12, valueInfoProto(o));
    return { graph: g, plan, externalBytes: offset };
  }
}

export interface ModelMeta {
  irVersion: number;
  opset: number;
  producerName: string;
  producerVersion: string;
  docString?: string;
  metadata?: Record<string, string>;
  /** Extra operator sets, e.g. { 'com.microsoft': 1 } for ONNX Runtime's contrib ops. */
  domains?: Record<string, number>;
}

/** ModelProto around a GraphProto. */
export function modelProto(graph: Message, meta: ModelMeta): Message {
  const m = new Message();
  m.varint(1, meta.irVersion);
  m.string(2, meta.producerName);
  m.string(3, meta.producerVersion);
  if (meta.docString) m.string(6, meta.docString);
  m.message(7, graph);
  m.message(8, new Message().string(1, '').varint(2, meta.opset));
  for (const [domain, version] of Object.entries(meta.domains ?? {})) m.message(8, new Message().string(1, domain).varint(2, version));
  for (const [k, v] of Object.entries(meta.metadata ?? {})) m.message(14, new Message().string(1, k).string(2, v));
  return m;
}
