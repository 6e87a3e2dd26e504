/**
 * How the frozen tensors of a training graph are stored in the session: dense f32 initializers read in place by
 * Gemm, or (QLoRAM) the decoder linears as 4-bit NF4 codes with their double-quantized absmax — multiplied by
 * `com.microsoft.MatMulBnb4` in the forward pass where the provider has it, and dequantized inside the graph
 * (a Gather from the code table times the block absmax) for the backward pass and for providers without it —
 * with the embedding and lm_head at 16 bits.
 */
import { A, DataType, type GraphBuilder } from '../onnx/graph';
import type { ExecutionProvider } from '../onnx/runtime';
import { dynamicMap, NF4_CODE, nf4StorageBytes, quantizeNf4, type Nf4Options, type Nf4Quantized } from '../quant/nf4';
import { numel, type HostTensor } from '../util/tensor';
import * as op from './ops';
import { gateOn, type Tape, type Val } from './tape';

export interface BaseLinears {
  /** A frozen tensor as a float value in the graph (its initializer added on first use). */
  frozen(g: GraphBuilder, name: string, w: HostTensor): string;
  /** Rows `ids` (int64 [n]) of a frozen table as float [n, cols]. */
  lookup(g: GraphBuilder, name: string, w: HostTensor, ids: string): string;
  /** y = x·Wᵀ for the frozen decoder linear `name` ([N, in] → [N, out]); the gradient flows to x only. */
  apply(t: Tape, name: string, x: Val, w: HostTensor): Val;
  /** Operator sets the graph needs beyond the default one. */
  readonly domains: Readonly<Record<string, number>>;
  /** The same storage as built for another provider (which kernels exist differs), when that matters. */
  forProvider?(provider: ExecutionProvider): BaseLinears;
  /** Session config entries this storage needs. */
  readonly sessionConfig: Readonly<Record<string, string>>;
  /** One line for the log (e.g. bits per weight), or null. */
  readonly summary: string | null;
  /** Bytes of the quantized linears as stored (codes + absmax state); 0 for a dense base. */
  readonly storedBytes: number;
}

function f32Bytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function has(g: GraphBuilder, name: string): boolean {
  return g.initializers.some((i) => i.name === name);
}

/**
 * Every frozen tensor as a float32 initializer (what LoRA on a dense or pruned model uses). Pre-packing is off:
 * MLAS would keep a packed copy of each weight per Gemm that reads it (forward and backward), 2.3× the base's
 * memory for about 6% of step time (bench/qloram-base --quant none; .scratch measurements in the issue note).
 */
export class DenseBases implements BaseLinears {
  readonly domains = {};
  readonly sessionConfig = { 'session.disable_prepacking': '1' };
  readonly summary = null;
  readonly storedBytes = 0;

  frozen(g: GraphBuilder, name: string, w: HostTensor): string {
    // Sized from the shape, read only when the model is serialized: a planner can build the graph on placeholders.
    if (!has(g, name)) g.floatInitializer(name, w.shape, { length: numel(w.shape) * 4, produce: () => f32Bytes(w.data) });
    return name;
  }

  lookup(g: GraphBuilder, name: string, w: HostTensor, ids: string): string {
    return g.op1('Gather', [this.frozen(g, name, w), ids], { axis: A.int(0) });
  }

  apply(t: Tape, name: string, x: Val, w: HostTensor): Val {
    return op.linear(t, x, t.constant(this.frozen(t.g, name, w), w.shape));
  }
}

/** float32 → IEEE half (round to nearest even), for the 16-bit embedding and lm_head. */
export function toHalf(a: Float32Array): Uint16Array {
  const out = new Uint16Array(a.length);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < a.length; i++) {
    f[0] = a[i]!;
    const x = u[0]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
    else if (exp > 142) out[i] = sign | 0x7c00;
    else if (exp < 113) {
      if (exp < 102) out[i] = sign;
      else {
        mant |= 0x800000;
        const shift = 126 - exp;
        const half = mant >>> shift;
        const rem = mant & ((1 << shift) - 1);
        const mid = 1 << (shift - 1);
        out[i] = sign | (half + (rem > mid || (rem === mid && (half & 1)) ? 1 : 0));
      }
    } else {
      const h = ((exp - 112) << 10) | (mant >>> 13);
      const rem = mant & 0x1fff;
      out[i] = sign | (h + (rem > 0x1000 || (rem === 0x1000 && (h & 1)) ? 1 : 0));
    }
  }
  return out;
}

/** A checkpointed layer is built twice: quantize each weight once (held only as long as the host weight is). */
const quantizedOnce = new WeakMap<HostTensor, Nf4Quantized>();

const SIXTEEN_BIT = new Set(['model.embed_tokens.weight', 'lm_head.weight']);

/** The NF4 code of every byte's two nibbles: row b = [NF4[b >> 4], NF4[b & 15]] (bnb: first element high). */
function pairTable(): Float32Array {
  const t = new Float32Array(512);
  for (let b = 0; b < 256; b++) {
    t[2 * b] = NF4_CODE[b >> 4]!;
    t[2 * b + 1] = NF4_CODE[b & 15]!;
  }
  return t;
}

/**
 * QLoRAM: decoder linears quantized to NF4 (double quantization as the Quantize node asked), embedding and lm_head
 * in float16, norms in float32. Constant folding is off so ORT does not expand the codes into dense weights at load.
 */
export class Nf4Bases implements BaseLinears {
  readonly sessionConfig = { 'optimization.disable_specified_optimizers': 'ConstantFolding' };

  constructor(
    private readonly opts: Nf4Options,
    /** MatMulBnb4 runs on the CPU and CUDA providers; elsewhere the forward dequantizes in the graph too. */
    private readonly provider: ExecutionProvider = 'cpu',
    /** Stored bytes per quantized linear (shared by the per-provider builds of one model). */
    private readonly stored: Map<string, { params: number; bytes: number }> = new Map(),
    /** How a weight is quantized (memory/ort-plan.ts passes a shape-only stand-in that holds no codes). */
    private readonly quantize: (w: HostTensor, opts: Nf4Options) => Nf4Quantized = quantizeNf4,
  ) {}

  get domains(): Record<string, number> {
    return this.useKernel ? { 'com.microsoft': 1 } : {};
  }

  private get useKernel(): boolean {
    return this.provider === 'cpu' || this.provider === 'cuda';
  }

  get storedBytes(): number {
    let bytes = 0;
    for (const s of this.stored.values()) bytes += s.bytes;
    return bytes;
  }

  get summary(): string {
    let params = 0;
    let bytes = 0;
    for (const s of this.stored.values()) {
      params += s.params;
      bytes += s.bytes;
    }
    return `NF4 base: ${params.toLocaleString('en-US')} decoder-linear weights at ${((bytes * 8) / Math.max(1, params)).toFixed(3)} bits, embedding and lm_head at 16 bits${this.useKernel ? ', MatMulBnb4 forward' : ', forward dequantized in the graph'}`;
  }

  /** The same storage for another provider. */
  forProvider(provider: ExecutionProvider): Nf4Bases {
    return provider === this.provider ? this : new Nf4Bases(this.opts, provider, this.stored, this.quantize);
  }

  frozen(g: GraphBuilder, name: string, w: HostTensor): string {
    if (!SIXTEEN_BIT.has(name)) return new DenseBases().frozen(g, name, w);
    return g.op1('Cast', [this.half(g, name, w)], { to: A.int(DataType.FLOAT) });
  }

  lookup(g: GraphBuilder, name: string, w: HostTensor, ids: string): string {
    if (!SIXTEEN_BIT.has(name)) return new DenseBases().lookup(g, name, w, ids);
    // Gather the 16-bit rows first: only [n, cols] is ever widened.
    return g.op1('Cast', [g.op1('Gather', [this.half(g, name, w), ids], { axis: A.int(0) })], { to: A.int(DataType.FLOAT) });
  }

  private half(g: GraphBuilder, name: string, w: HostTensor): string {
    const h = `${name}.f16`;
    if (!has(g, h)) {
      const produce = () => {
        const data = toHalf(w.data);
        return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      };
      g.initializer(h, DataType.FLOAT16, w.shape, { length: numel(w.shape) * 2, produce });
    }
    return h;
  }

  apply(t: Tape, name: string, x: Val, w: HostTensor): Val {
    const [n, k] = w.shape as [number, number];
    let q = quantizedOnce.get(w);
    if (!q) quantizedOnce.set(w, (q = this.quantize(w, this.opts)));
    this.stored.set(name, { params: q.numel, bytes: nf4StorageBytes(q) });
    const g = t.g;
    // Idempotent: a checkpointed layer is built twice.
    const packed = has(g, `${name}.nf4`) ? `${name}.nf4` : g.initializer(`${name}.nf4`, DataType.UINT8, [q.packed.length], q.packed);
    const absmax = absmaxValue(g, name, q);
    const y = this.useKernel
      ? g.op('MatMulBnb4', [x.name, packed, absmax], { K: A.int(k), N: A.int(n), block_size: A.int(q.blockSize), quant_type: A.int(1) }, 1, 'com.microsoft')[0]!
      : g.op1('Gemm', [x.name, dequantized(g, q, packed, absmax)], { transB: A.int(1) });
    // dx = dy·W with W dequantized here, in the backward, so it is dense only while this layer's gradient is computed.
    // The codes are read through a gate on dy, so ONNX Runtime cannot dequantize every layer's weight up front.
    return t.record(y, [x.shape[0]!, n], [x], (dy) => [g.op1('Gemm', [dy, dequantized(g, q, gateOn(g, packed, dy), absmax)])]);
  }
}

/** The per-block absmax as float [blocks]: stored, or rebuilt from its 8-bit codes (double quantization). */
function absmaxValue(g: GraphBuilder, name: string, q: Nf4Quantized): string {
  const init = (n: string, make: () => string) => (has(g, n) ? n : make());
  if (!q.doubleQuant) return init(`${name}.absmax`, () => g.floatInitializer(`${name}.absmax`, [q.absmax.length], q.absmax));
  const nb = q.absmaxQ.length;
  const groups = q.absmaxScale.length;
  const padded = groups * q.nestedBlockSize;
  const codes = {
    length: padded,
    produce: () => {
      const c = new Uint8Array(padded);
      c.set(q.absmaxQ);
      return c;
    },
  };
  const codeMap = q.absmaxCode;
  const map = codeMap ? init(`${name}.absmax_map`, () => g.floatInitializer(`${name}.absmax_map`, [256], codeMap)) : sharedMap(g);
  const idx = g.op1('Cast', [init(`${name}.absmax_q`, () => g.initializer(`${name}.absmax_q`, DataType.UINT8, [padded], codes))], { to: A.int(DataType.INT32) });
  const vals = g.op1('Reshape', [g.op1('Gather', [map, idx], { axis: A.int(0) }), g.i64([groups, q.nestedBlockSize])]);
  const scaled = g.op1('Mul', [vals, init(`${name}.absmax_scale`, () => g.floatInitializer(`${name}.absmax_scale`, [groups, 1], q.absmaxScale))]);
  const flat = g.op1('Reshape', [g.op1('Add', [scaled, g.f32([q.absmaxOffset], [])]), g.i64([padded])]);
  return padded === nb ? flat : g.op1('Slice', [flat, g.i64([0]), g.i64([nb])]);
}

function sharedMap(g: GraphBuilder): string {
  return has(g, 'nf4.dynamic_map') ? 'nf4.dynamic_map' : g.floatInitializer('nf4.dynamic_map', [256], dynamicMap());
}

/** W [out, in] from its codes: a Gather of both nibbles per byte, times the block absmax. */
function dequantized(g: GraphBuilder, q: Nf4Quantized, packed: string, absmax: string): string {
  const table = has(g, 'nf4.pair_table') ? 'nf4.pair_table' : g.floatInitializer('nf4.pair_table', [256, 2], pairTable());
  const nb = Math.ceil(q.numel / q.blockSize);
  const values = g.op1('Gather', [table, g.op1('Cast', [packed], { to: A.int(DataType.INT32) })], { axis: A.int(0) }); // [bytes, 2]
  let flat = g.op1('Reshape', [values, g.i64([2 * q.packed.length])]);
  const full = nb * q.blockSize;
  if (full > 2 * q.packed.length) flat = g.op1('Pad', [flat, g.i64([0, full - 2 * q.packed.length])]);
  else if (full < 2 * q.packed.length) flat = g.op1('Slice', [flat, g.i64([0]), g.i64([full])]);
  const blocks = g.op1('Mul', [g.op1('Reshape', [flat, g.i64([nb, q.blockSize])]), g.op1('Unsqueeze', [absmax, g.i64([1])])]);
  let w = g.op1('Reshape', [blocks, g.i64([full])]);
  if (full !== q.numel) w = g.op1('Slice', [w, g.i64([0]), g.i64([q.numel])]);
  return g.op1('Reshape', [w, g.i64([...q.shape])]);
}

/** The storage a training session uses for a model: NF4 when its lineage says it was quantized, else dense. */
export function basesFor(quant: Nf4Options | null): BaseLinears {
  return quant ? new Nf4Bases(quant) : new DenseBases();
}
