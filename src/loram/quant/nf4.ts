import { numel as shapeNumel, type HostTensor } from '../util/tensor';

/**
 * NF4 quantization as QLoRA / bitsandbytes do it (loram-method.md §7), on host Float32Arrays.
 *
 * Layout and arithmetic follow bitsandbytes (`functional.quantize_4bit` / `kQuantizeBlockwise` /
 * `kDequantizeBlockwise`, checked against the public source):
 * - the flattened tensor is cut into blocks of 64; each block stores its absmax a (fp32) and 4-bit codes
 *   c = nearest NF4 value to x·(1/a) (bnb's decision tree = strict ">" against the 15 midpoints);
 * - two codes per byte, the FIRST element in the HIGH nibble (`qvals[j] = q(x[2j]) << 4 | q(x[2j+1])`); an odd
 *   tail is padded with the code of 0.0 (bnb loads missing elements as 0); the packed buffer has ceil(n/2) bytes;
 * - double quantization (`compress_statistics=True`): offset = mean(absmax); (absmax − offset) is quantized with the
 *   signed dynamic 8-bit map (`create_dynamic_map()`) in blocks of 256, one fp32 scale per block; dequantized
 *   absmax = map[q]·scale + offset;
 * - dequantization: x̂ = NF4[c]·â.
 * One deliberate deviation: an all-zero block (a = 0) gets code 7 (0.0) instead of bnb's NaN → code 0 (−1.0), so
 * it reconstructs to exactly 0 even when its absmax comes back non-zero from double quantization.
 */

/** bitsandbytes `get_4bit_type('nf4')` (float32 values; 0.44070982933044434 is how bnb writes the float32 of 0.4407098…). */
export const NF4_CODE = Float32Array.from([
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
  -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
]);
/** Code of 0.0: used for zero blocks and the odd-tail padding nibble. */
export const NF4_ZERO_CODE = 7;
/** The 15 decision thresholds of bnb's `dQuantizeNF4`: midpoints of adjacent codes, as float32 literals. */
export const NF4_THRESHOLDS = Float32Array.from({ length: 15 }, (_, k) => (NF4_CODE[k]! + NF4_CODE[k + 1]!) / 2);

export const NF4_DEFAULT_BLOCK_SIZE = 64;
export const NF4_NESTED_BLOCK_SIZE = 256;
/** Block sizes bitsandbytes accepts for 4-bit quantization. */
export const NF4_BLOCK_SIZES: readonly number[] = [64, 128, 256, 512, 1024, 2048, 4096];

const f32 = Math.fround;

/** NF4 code index of a normalized value (bnb decision tree: number of thresholds strictly below x). */
export function nf4Index(x: number): number {
  const t = NF4_THRESHOLDS;
  // Unrolled binary search over the 15 sorted thresholds; NaN falls through to 0 as in bnb.
  let i = x > t[7]! ? 8 : 0;
  if (x > t[i + 3]!) i += 4;
  if (x > t[i + 1]!) i += 2;
  if (x > t[i]!) i += 1;
  return i;
}

/**
 * bitsandbytes `create_dynamic_map(signed, max_exponent_bits, total_bits)`: for exponent i, 2^(i+nonSign−maxExp)
 * (+1 unsigned) boundaries evenly spaced in [0.1, 1], their adjacent means scaled by 10^(i−maxExp+1), both signs,
 * then 0 and 1. Values are formed in double from float32 linspace boundaries and rounded to float32 once; this
 * reproduces a published dump of bnb's signed map bit for bit (all 256 entries).
 */
export function createDynamicMap(signed = true, maxExponentBits = 7, totalBits = 8): Float32Array {
  const data: number[] = [];
  const nonSignBits = totalBits - 1;
  const additional = 2 ** (nonSignBits - maxExponentBits) - 1;
  const start = f32(0.1);
  const linspaceF32 = (n: number): number[] => {
    const step = (1 - start) / (n - 1);
    return Array.from({ length: n }, (_, k) => f32(start + k * step));
  };
  const push = (scale: number, count: number) => {
    const b = linspaceF32(count + 1);
    for (let j = 0; j < count; j++) {
      const v = f32(scale * ((b[j]! + b[j + 1]!) / 2));
      data.push(v);
      if (signed) data.push(-v);
    }
  };
  let i = 0;
  for (; i < maxExponentBits; i++) {
    const items = signed ? 2 ** (i + nonSignBits - maxExponentBits) : 2 ** (i + nonSignBits - maxExponentBits + 1);
    push(10 ** (-(maxExponentBits - 1) + i), items);
  }
  if (additional > 0) push(10 ** (-(maxExponentBits - 1) + i - 1), additional);
  data.push(0, 1);
  if (data.length !== 2 ** totalBits) throw new Error(`dynamic map has ${data.length} values, expected ${2 ** totalBits}`);
  while (data.length < 256) data.push(0);
  data.sort((a, b) => a - b);
  return Float32Array.from(data);
}

let dynamicMapCache: Float32Array | null = null;
/** The signed dynamic 8-bit map used for the absmax values (bnb's `name2qmap["dynamic"]`). Do not mutate. */
export function dynamicMap(): Float32Array {
  return (dynamicMapCache ??= createDynamicMap());
}
/** Index of 0.0 in the signed dynamic map. */
const DYNAMIC_ZERO = 127;

/** bitsandbytes `dQuantize<0>` (non-stochastic 8-bit quantization against a sorted 256-entry map). */
export function quantizeToMap(code: Float32Array, x: number): number {
  let pivot = 127;
  let upperPivot = 255;
  let lowerPivot = 0;
  let lower = -1;
  let upper = 1;
  let val = code[pivot]!;
  for (let i = 64; i > 0; i >>= 1) {
    if (x > val) {
      lowerPivot = pivot;
      lower = val;
      pivot += i;
    } else {
      upperPivot = pivot;
      upper = val;
      pivot -= i;
    }
    val = code[pivot]!;
  }
  if (upperPivot === 255) upper = code[upperPivot]!;
  if (lowerPivot === 0) lower = code[lowerPivot]!;
  if (x > val) return x > f32((upper + val) * 0.5) ? upperPivot : pivot;
  return x < f32((lower + val) * 0.5) ? lowerPivot : pivot;
}

interface Nf4Common {
  shape: number[];
  numel: number;
  blockSize: number;
  /** ceil(numel/2) bytes; element 2j in the high nibble of byte j, 2j+1 in the low nibble. */
  packed: Uint8Array;
}

/** NF4 with double-quantized absmax (QLoRA's setting). */
export interface Nf4Tensor extends Nf4Common {
  doubleQuant: true;
  /** One 8-bit index into the dynamic map per block. */
  absmaxQ: Uint8Array;
  /** fp32 scale per group of `nestedBlockSize` blocks. */
  absmaxScale: Float32Array;
  /** Mean of the fp32 absmax values, subtracted before the 8-bit quantization. */
  absmaxOffset: number;
  nestedBlockSize: number;
  /** 8-bit map read from a checkpoint when it differs from `dynamicMap()`; absent = the standard map. */
  absmaxCode?: Float32Array;
}

/** NF4 with plain fp32 absmax per block (4.5 bits/weight). */
export interface Nf4TensorPlain extends Nf4Common {
  doubleQuant: false;
  absmax: Float32Array;
}

export type Nf4Quantized = Nf4Tensor | Nf4TensorPlain;

export interface Nf4Options {
  /** Default 64 (QLoRA). */
  blockSize?: number;
  /** Default true (QLoRA / LoRAM step 2: `bnb_4bit_use_double_quant=True`). */
  doubleQuant?: boolean;
}

function checkBlockSize(bs: number): void {
  if (!NF4_BLOCK_SIZES.includes(bs)) throw new Error(`NF4 block size must be one of ${NF4_BLOCK_SIZES.join(', ')}, got ${bs}`);
}

export function quantizeNf4(t: HostTensor, opts: Nf4Options & { doubleQuant: false }): Nf4TensorPlain;
export function quantizeNf4(t: HostTensor, opts?: Nf4Options & { doubleQuant?: true }): Nf4Tensor;
export function quantizeNf4(t: HostTensor, opts?: Nf4Options): Nf4Quantized;
export function quantizeNf4(t: HostTensor, opts: Nf4Options = {}): Nf4Quantized {
  const bs = opts.blockSize ?? NF4_DEFAULT_BLOCK_SIZE;
  checkBlockSize(bs);
  const x = t.data;
  const n = x.length;
  if (n !== shapeNumel(t.shape)) throw new Error(`tensor data has ${n} values but shape [${t.shape.join(', ')}] needs ${shapeNumel(t.shape)}`);
  const nBlocks = Math.ceil(n / bs);
  const absmax = new Float32Array(nBlocks);
  const packed = new Uint8Array(Math.ceil(n / 2));
  for (let b = 0; b < nBlocks; b++) {
    const s = b * bs;
    const e = Math.min(n, s + bs);
    let a = 0;
    for (let i = s; i < e; i++) {
      const v = x[i]!;
      if (!Number.isFinite(v)) throw new Error(`quantizeNf4: non-finite value ${v} at flat index ${i}`);
      const m = Math.abs(v);
      if (m > a) a = m;
    }
    absmax[b] = a;
    // bnb multiplies by the float32 reciprocal rather than dividing.
    const inv = a > 0 ? f32(1 / a) : 0;
    for (let i = s; i < e; i++) {
      const c = a > 0 ? nf4Index(f32(x[i]! * inv)) : NF4_ZERO_CODE;
      const j = i >> 1;
      packed[j] = (i & 1) === 0 ? c << 4 : packed[j]! | c;
    }
  }
  if (n & 1) packed[packed.length - 1] = packed[packed.length - 1]! | NF4_ZERO_CODE;
  const common = { shape: [...t.shape], numel: n, blockSize: bs, packed };
  if (opts.doubleQuant === false) return { ...common, doubleQuant: false, absmax };
  return { ...common, doubleQuant: true, ...doubleQuantize(absmax, NF4_NESTED_BLOCK_SIZE), nestedBlockSize: NF4_NESTED_BLOCK_SIZE };
}

/** Second-level quantization of the absmax values (bnb `quantize_blockwise(absmax − mean, blocksize=256)`). */
function doubleQuantize(absmax: Float32Array, nbs: number): { absmaxQ: Uint8Array; absmaxScale: Float32Array; absmaxOffset: number } {
  const nb = absmax.length;
  let sum = 0;
  for (let i = 0; i < nb; i++) sum += absmax[i]!;
  const offset = nb > 0 ? f32(sum / nb) : 0;
  const code = dynamicMap();
  const groups = Math.ceil(nb / nbs);
  const absmaxQ = new Uint8Array(nb);
  const absmaxScale = new Float32Array(groups);
  const d = new Float32Array(nb);
  for (let i = 0; i < nb; i++) d[i] = absmax[i]! - offset;
  for (let g = 0; g < groups; g++) {
    const s = g * nbs;
    const e = Math.min(nb, s + nbs);
    let a2 = 0;
    for (let i = s; i < e; i++) a2 = Math.max(a2, Math.abs(d[i]!));
    absmaxScale[g] = a2;
    const inv = a2 > 0 ? f32(1 / a2) : 0;
    // a2 = 0: every absmax equals the mean; bnb would quantize NaN, we store the exact 0.
    for (let i = s; i < e; i++) absmaxQ[i] = a2 > 0 ? quantizeToMap(code, f32(d[i]! * inv)) : DYNAMIC_ZERO;
  }
  return { absmaxQ, absmaxScale, absmaxOffset: offset };
}

/** The absmax of block `b` as dequantization uses it (after double quantization, if any). */
function blockAbsmax(q: Nf4Quantized, b: number, code: Float32Array | null): number {
  if (!q.doubleQuant) return q.absmax[b]!;
  const g = Math.floor(b / q.nestedBlockSize);
  return f32(f32(code![q.absmaxQ[b]!]! * q.absmaxScale[g]!) + q.absmaxOffset);
}

/** Per-block absmax values used by dequantization (â; equal to the fp32 absmax without double quantization). */
export function nf4BlockAbsmax(q: Nf4Quantized): Float32Array {
  const nb = Math.ceil(q.numel / q.blockSize);
  const code = q.doubleQuant ? (q.absmaxCode ?? dynamicMap()) : null;
  const out = new Float32Array(nb);
  for (let b = 0; b < nb; b++) out[b] = blockAbsmax(q, b, code);
  return out;
}

/** Dequantize flat elements [start, end) into a new Float32Array. */
export function dequantizeNf4Range(q: Nf4Quantized, start: number, end: number): Float32Array {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > q.numel) {
    throw new Error(`dequantizeNf4Range: [${start}, ${end}) is outside 0..${q.numel}`);
  }
  const out = new Float32Array(end - start);
  const code = q.doubleQuant ? (q.absmaxCode ?? dynamicMap()) : null;
  const bs = q.blockSize;
  const packed = q.packed;
  let i = start;
  while (i < end) {
    const b = Math.floor(i / bs);
    const stop = Math.min(end, (b + 1) * bs);
    const a = blockAbsmax(q, b, code);
    for (; i < stop; i++) {
      const byte = packed[i >> 1]!;
      const c = (i & 1) === 0 ? byte >> 4 : byte & 0x0f;
      out[i - start] = NF4_CODE[c]! * a;
    }
  }
  return out;
}

export function dequantizeNf4(q: Nf4Quantized): HostTensor {
  return { shape: [...q.shape], data: dequantizeNf4Range(q, 0, q.numel) };
}

/**
 * Rows [rowStart, rowEnd) along the first dimension (for a [out, in] linear: output rows), so a layer can be
 * dequantized a slice at a time. Blocks may straddle rows; only the blocks touched are decoded.
 */
export function dequantizeNf4Rows(q: Nf4Quantized, rowStart: number, rowEnd: number): HostTensor {
  const rows = q.shape.length === 0 ? 1 : q.shape[0]!;
  if (!Number.isInteger(rowStart) || !Number.isInteger(rowEnd) || rowStart < 0 || rowEnd < rowStart || rowEnd > rows) {
    throw new Error(`dequantizeNf4Rows: rows [${rowStart}, ${rowEnd}) are outside 0..${rows}`);
  }
  const rowLen = rows === 0 ? 0 : q.numel / rows;
  const data = dequantizeNf4Range(q, rowStart * rowLen, rowEnd * rowLen);
  return { shape: [rowEnd - rowStart, ...q.shape.slice(1)], data };
}

/** Bytes of the stored representation of an n-element tensor (codes + absmax state; constant code tables excluded). */
export function nf4StorageBytesFor(numel: number, opts: Nf4Options & { nestedBlockSize?: number } = {}): number {
  const bs = opts.blockSize ?? NF4_DEFAULT_BLOCK_SIZE;
  const nb = Math.ceil(numel / bs);
  const codes = Math.ceil(numel / 2);
  if (opts.doubleQuant === false) return codes + 4 * nb;
  // 8-bit index per block, fp32 scale per nested group, fp32 offset.
  return codes + nb + 4 * Math.ceil(nb / (opts.nestedBlockSize ?? NF4_NESTED_BLOCK_SIZE)) + 4;
}

/** Actual bytes held by a quantized tensor (typed arrays + the fp32 offset; the shared 16/256-entry maps excluded). */
export function nf4StorageBytes(q: Nf4Quantized): number {
  let bytes = q.packed.byteLength;
  if (q.doubleQuant) bytes += q.absmaxQ.byteLength + q.absmaxScale.byteLength + 4;
  else bytes += q.absmax.byteLength;
  return bytes;
}

/** Bits per weight: 4 + 8/64 + 32/(64·256) ≈ 4.127 with double quantization, 4 + 32/64 = 4.5 without (§7). */
export function nf4StorageBits(q: Nf4Quantized): number {
  return q.numel === 0 ? 0 : (nf4StorageBytes(q) * 8) / q.numel;
}

/** Unpack 4-bit codes (high nibble first) into one byte per element. */
export function unpackNf4Codes(packed: Uint8Array, n: number): Uint8Array {
  if (packed.length < Math.ceil(n / 2)) throw new Error(`unpackNf4Codes: ${packed.length} bytes cannot hold ${n} codes`);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const byte = packed[i >> 1]!;
    out[i] = (i & 1) === 0 ? byte >> 4 : byte & 0x0f;
  }
  return out;
}

/** Pack codes 0..15 two per byte, first in the high nibble; an odd tail gets the code of 0.0 in its low nibble. */
export function packNf4Codes(codes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(codes.length / 2));
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    if (c > 15) throw new Error(`packNf4Codes: code ${c} at ${i} does not fit in 4 bits`);
    out[i >> 1] = (i & 1) === 0 ? c << 4 : out[i >> 1]! | c;
  }
  if (codes.length & 1) out[out.length - 1] = out[out.length - 1]! | NF4_ZERO_CODE;
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Serialization in the layout bitsandbytes writes into Hugging Face checkpoints (`Params4bit._save_to_state_dict`,
// `QuantState.as_dict(packed=True)`): for a parameter `P.weight`:
//   P.weight                                 U8  [ceil(n/2), 1]   packed codes
//   P.weight.absmax                          U8  [blocks]          (F32 without double quantization)
//   P.weight.quant_map                       F32 [16]              NF4 table
//   P.weight.nested_absmax                   F32 [groups]          double quantization only
//   P.weight.nested_quant_map                F32 [256]             double quantization only
//   P.weight.quant_state.bitsandbytes__nf4   U8  [len]             UTF-8 JSON (`pack_dict_to_tensor`):
//     {"quant_type", "blocksize", "dtype", "shape", ["nested_blocksize", "nested_dtype", "nested_offset"]}
// ---------------------------------------------------------------------------------------------------------------

export interface StateDictEntry {
  dtype: 'U8' | 'F32';
  shape: number[];
  data: Uint8Array | Float32Array;
}

export const NF4_QUANT_STATE_SUFFIX = 'quant_state.bitsandbytes__nf4';

/** Python `json.dumps`-style float (always with a fraction or exponent). */
function pyFloat(x: number): string {
  const s = JSON.stringify(x);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

/**
 * Tensors for one quantized parameter, named as bitsandbytes names them under `name` (e.g.
 * `model.layers.0.self_attn.q_proj.weight`). `dtype` is the torch dtype recorded for the original weight.
 */
export function nf4ToStateDict(q: Nf4Quantized, name = 'weight', opts: { dtype?: 'float32' | 'bfloat16' | 'float16' } = {}): Record<string, StateDictEntry> {
  const nb = Math.ceil(q.numel / q.blockSize);
  const out: Record<string, StateDictEntry> = {
    [name]: { dtype: 'U8', shape: [q.packed.length, 1], data: q.packed },
    [`${name}.quant_map`]: { dtype: 'F32', shape: [16], data: NF4_CODE.slice() },
  };
  const fields = [
    `"quant_type": "nf4"`,
    `"blocksize": ${q.blockSize}`,
    `"dtype": "${opts.dtype ?? 'float32'}"`,
    `"shape": [${q.shape.join(', ')}]`,
  ];
  if (q.doubleQuant) {
    out[`${name}.absmax`] = { dtype: 'U8', shape: [nb], data: q.absmaxQ };
    out[`${name}.nested_absmax`] = { dtype: 'F32', shape: [q.absmaxScale.length], data: q.absmaxScale };
    out[`${name}.nested_quant_map`] = { dtype: 'F32', shape: [256], data: (q.absmaxCode ?? dynamicMap()).slice() };
    fields.push(`"nested_blocksize": ${q.nestedBlockSize}`, `"nested_dtype": "float32"`, `"nested_offset": ${pyFloat(q.absmaxOffset)}`);
  } else {
    out[`${name}.absmax`] = { dtype: 'F32', shape: [nb], data: q.absmax };
  }
  // `json.dumps` spacing, so the bytes match what bitsandbytes itself would write.
  const qs = new TextEncoder().encode(`{${fields.join(', ')}}`);
  out[`${name}.${NF4_QUANT_STATE_SUFFIX}`] = { dtype: 'U8', shape: [qs.length], data: qs };
  return out;
}

/** Inverse of `nf4ToStateDict`; also reads bitsandbytes-written checkpoints with the same layout. */
export function nf4FromStateDict(entries: Record<string, StateDictEntry>, name = 'weight'): Nf4Quantized {
  const get = (key: string, dtype: 'U8' | 'F32'): StateDictEntry => {
    const e = entries[key];
    if (!e) throw new Error(`NF4 state: missing tensor "${key}"`);
    if (e.dtype !== dtype) throw new Error(`NF4 state: "${key}" must be ${dtype}, got ${e.dtype}`);
    return e;
  };
  const qsRaw = get(`${name}.${NF4_QUANT_STATE_SUFFIX}`, 'U8').data as Uint8Array;
  const qs = JSON.parse(new TextDecoder().decode(qsRaw)) as Record<string, unknown>;
  if (qs.quant_type !== 'nf4') throw new Error(`NF4 state: quant_type is "${String(qs.quant_type)}", only nf4 is supported`);
  const shape = qs.shape as number[];
  const blockSize = Number(qs.blocksize);
  checkBlockSize(blockSize);
  const n = shapeNumel(shape);
  const nb = Math.ceil(n / blockSize);
  const packed = get(name, 'U8').data as Uint8Array;
  if (packed.length !== Math.ceil(n / 2)) throw new Error(`NF4 state: "${name}" has ${packed.length} bytes, shape [${shape.join(', ')}] needs ${Math.ceil(n / 2)}`);
  const qmap = get(`${name}.quant_map`, 'F32').data as Float32Array;
  if (qmap.length !== 16 || qmap.some((v, i) => v !== NF4_CODE[i])) throw new Error(`NF4 state: "${name}.quant_map" is not the NF4 code table`);
  const common = { shape: [...shape], numel: n, blockSize, packed };
  if (entries[`${name}.nested_absmax`]) {
    const absmaxQ = get(`${name}.absmax`, 'U8').data as Uint8Array;
    const absmaxScale = get(`${name}.nested_absmax`, 'F32').data as Float32Array;
    const nestedBlockSize = Number(qs.nested_blocksize ?? NF4_NESTED_BLOCK_SIZE);
    if (absmaxQ.length !== nb || absmaxScale.length !== Math.ceil(nb / nestedBlockSize)) throw new Error(`NF4 state: absmax sizes do not match ${nb} blocks`);
    const code = get(`${name}.nested_quant_map`, 'F32').data as Float32Array;
    if (code.length !== 256) throw new Error(`NF4 state: "${name}.nested_quant_map" must have 256 entries`);
    const std = dynamicMap();
    const q: Nf4Tensor = { ...common, doubleQuant: true, absmaxQ, absmaxScale, absmaxOffset: f32(Number(qs.nested_offset)), nestedBlockSize };
    if (code.some((v, i) => v !== std[i])) q.absmaxCode = Float32Array.from(code);
    return q;
  }
  const absmax = get(`${name}.absmax`, 'F32').data as Float32Array;
  if (absmax.length !== nb) throw new Error(`NF4 state: "${name}.absmax" has ${absmax.length} values, expected ${nb}`);
  return { ...common, doubleQuant: false, absmax };
}
