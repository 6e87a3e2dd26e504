/**
 * The safetensors format (https://github.com/huggingface/safetensors), read and written without a library:
 *
 *   [u64 little-endian N][N bytes of UTF-8 JSON header][data bytes]
 *   header = { "__metadata__"?: {string: string}, <name>: {dtype, shape, data_offsets: [begin, end]} ... }
 *
 * Offsets are relative to the start of the data section. Every tensor is decoded to a Float32Array because all
 * compute is f32. The reader validates the same invariants as the reference Rust implementation (tensors
 * tile the data section exactly: no gaps, no overlaps, no trailing bytes) and reports problems as Errors that
 * name the file, the tensor(s) and what is wrong, because these files come from the user's disk and a silently
 * mis-read weight would only surface as a mysteriously bad model much later.
 */
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { numel, shapeStr, type HostTensor, type WeightMap } from '../util/tensor';
import { atomicWriteFileWith, writeAll } from './atomic';

/** Bytes per element of every dtype we can read. */
export const DTYPE_SIZES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
} as const;
export type SafetensorsDtype = keyof typeof DTYPE_SIZES;
/** Dtypes the writer can produce (all from f32 data). */
export type WriteDtype = 'F32' | 'F16' | 'BF16';

/** Headers beyond this are corrupt or hostile (real ones are KBs to a few MB); the reference uses the same cap. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte range [begin, end) relative to the start of the data section. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** Label used in error messages (usually the file path). */
  source: string;
  metadata: Record<string, string>;
  tensors: Map<string, TensorEntry>;
  /** Absolute byte offset of the data section (8 + header length). */
  dataStart: number;
  dataLength: number;
}

export interface SafetensorsContents {
  metadata: Record<string, string>;
  tensors: WeightMap;
  /** The dtype each tensor had on disk. */
  dtypes: Map<string, SafetensorsDtype>;
}

export interface ReadOptions {
  /** Read only these tensors (default: all). Asking for a name the file lacks is an error. */
  names?: Iterable<string>;
  /** Label for error messages, e.g. the file name. */
  source?: string;
}

export interface BufferReadOptions extends ReadOptions {
  /**
   * Return aligned F32 data as views into `bytes` instead of copies (default true). The views share memory
   * with the buffer, so writing to a tensor writes to the buffer.
   */
  zeroCopy?: boolean;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function fail(source: string, msg: string): never {
  throw new Error(`${source}: ${msg}`);
}

// ---------------------------------------------------------------------------------------------------------
// f16 / bf16 bit conversions (round to nearest, ties to even, like the hardware and like torch)

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

function floatBits(x: number): number {
  f32Scratch[0] = x;
  return u32Scratch[0]!;
}

/** IEEE half bits of `x` (rounded to f32 first, then to f16 with round-to-nearest-even; overflow → ±inf). */
export function f32ToF16Bits(x: number): number {
  return f32BitsToF16Bits(floatBits(x));
}

function f32BitsToF16Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const abs = bits & 0x7fffffff;
  if (abs >= 0x47800000) {
    // |x| >= 65536, inf or NaN. NaN keeps its top payload bits and is forced quiet so it stays a NaN.
    if (abs > 0x7f800000) return sign | 0x7e00 | ((abs >>> 13) & 0x3ff);
    return sign | 0x7c00;
  }
  if (abs < 0x38800000) {
    // Result is an f16 subnormal (or zero): value / 2^-24, rounded in integer arithmetic to avoid double rounding.
    const e = abs >>> 23;
    if (e < 102) return sign; // below half of the smallest subnormal
    const m = (abs & 0x7fffff) | 0x800000;
    const shift = 126 - e; // 14..24
    let r = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (r & 1) === 1)) r++; // may carry into the smallest normal: still correct
    return sign | r;
  }
  // Normal: rebias the exponent, add the rounding bias (0xfff + lsb for ties-to-even), drop 13 mantissa bits.
  // Values in [65520, 65536) round up to 0x7c00 = inf, which is what RNE gives.
  const odd = (abs >>> 13) & 1;
  return sign | ((abs - 0x38000000 + 0xfff + odd) >>> 13);
}

let f16Table: Float32Array | undefined;
/** All 65536 half values as f32; 256 KB, built once, makes bulk decoding a table lookup. */
function f16ToF32Table(): Float32Array {
  if (f16Table) return f16Table;
  const t = new Float32Array(65536);
  const tb = new Uint32Array(t.buffer);
  for (let h = 0; h < 65536; h++) {
    const s = (h & 0x8000) << 16;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) t[h] = (s ? -1 : 1) * m * 2 ** -24; // zero / subnormal (exact in f32; keeps -0)
    else if (e === 31) tb[h] = (s | 0x7f800000 | (m << 13)) >>> 0; // inf / NaN with payload
    else tb[h] = (s | ((e + 112) << 23) | (m << 13)) >>> 0;
  }
  return (f16Table = t);
}

/** f32 value of IEEE half bits. */
export function f16BitsToF32(h: number): number {
  return f16ToF32Table()[h & 0xffff]!;
}

/** bfloat16 bits of `x` (upper half of the f32, rounded to nearest-even; NaN stays NaN). */
export function f32ToBf16Bits(x: number): number {
  return f32BitsToBf16Bits(floatBits(x));
}

function f32BitsToBf16Bits(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x40) & 0xffff; // quiet NaN
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** f32 value of bfloat16 bits. */
export function bf16BitsToF32(h: number): number {
  u32Scratch[0] = (h & 0xffff) << 16;
  return f32Scratch[0]!;
}

let e4m3Table: Float32Array | undefined;
/** float8 e4m3fn (bias 7, no infinities, S.1111.111 is NaN). */
function e4m3ToF32Table(): Float32Array {
  if (e4m3Table) return e4m3Table;
  const t = new Float32Array(256);
  for (let b = 0; b < 256; b++) {
    const s = b & 0x80 ? -1 : 1;
    const e = (b >>> 3) & 0xf;
    const m = b & 7;
    if (e === 15 && m === 7) t[b] = NaN;
    else if (e === 0) t[b] = s * m * 2 ** -9;
    else t[b] = s * (1 + m / 8) * 2 ** (e - 7);
  }
  return (e4m3Table = t);
}

// ---------------------------------------------------------------------------------------------------------
// Header parsing and validation

/** Assign as an own property even for a key like "__proto__" (header keys come from untrusted files). */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/** Check the u64 header-length prefix against the file size; returns the header length as a number. */
function checkHeaderLength(n: bigint, totalSize: number, source: string): number {
  if (n > BigInt(MAX_HEADER_BYTES)) {
    fail(source, `safetensors header length ${n} is absurd (limit ${MAX_HEADER_BYTES} bytes): not a safetensors file or corrupt`);
  }
  const len = Number(n);
  if (8 + len > totalSize) {
    fail(source, `safetensors header length ${len} is larger than the file (${totalSize} bytes): truncated or not a safetensors file`);
  }
  if (len < 2) fail(source, `safetensors header length ${len} is too small to hold a JSON object`);
  return len;
}

const DECODER = new TextDecoder('utf-8', { fatal: true });

/**
 * Parse and validate a header. `headerBytes` is the JSON text, `dataLength` the number of bytes after it.
 * Throws on anything the reference implementation would reject.
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, dataLength: number, source = 'safetensors'): SafetensorsHeader {
  let text: string;
  try {
    text = DECODER.decode(headerBytes);
  } catch {
    fail(source, 'safetensors header is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(source, `safetensors header is not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(json)) fail(source, `safetensors header must be a JSON object, got ${describe(json)}`);

  const metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorEntry>();
  for (const [name, raw] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (raw === null) continue;
      if (!isPlainObject(raw)) fail(source, `__metadata__ must be an object of strings, got ${describe(raw)}`);
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== 'string') fail(source, `__metadata__["${k}"] must be a string, got ${describe(v)}`);
        setOwn(metadata, k, v);
      }
      continue;
    }
    tensors.set(name, parseEntry(name, raw, dataLength, source));
  }
  checkTiling([...tensors.values()], dataLength, source);
  return { source, metadata, tensors, dataStart: 8 + headerBytes.byteLength, dataLength };
}

function parseEntry(name: string, raw: unknown, dataLength: number, source: string): TensorEntry {
  const where = `tensor "${name}"`;
  if (!isPlainObject(raw)) fail(source, `${where}: header entry must be an object, got ${describe(raw)}`);
  const { dtype, shape, data_offsets: offsets } = raw;
  if (typeof dtype !== 'string') fail(source, `${where}: dtype must be a string, got ${describe(dtype)}`);
  if (!Object.hasOwn(DTYPE_SIZES, dtype)) {
    fail(source, `${where} has unknown or unsupported dtype "${dtype}" (supported: ${Object.keys(DTYPE_SIZES).join(', ')})`);
  }
  const dt = dtype as SafetensorsDtype;
  if (!Array.isArray(shape)) fail(source, `${where}: shape must be an array, got ${describe(shape)}`);
  shape.forEach((d: unknown, i) => {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      fail(source, `${where}: shape [${shape.map(String).join(', ')}] has invalid dimension ${JSON.stringify(d)} at index ${i} (dimensions must be non-negative integers)`);
    }
  });
  const dims = shape as number[];
  if (!Array.isArray(offsets) || offsets.length !== 2) {
    fail(source, `${where}: data_offsets must be [begin, end], got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as unknown[];
  for (const o of [begin, end]) {
    if (typeof o !== 'number' || !Number.isSafeInteger(o) || o < 0) {
      fail(source, `${where}: data_offsets ${JSON.stringify(offsets)} must be non-negative integers`);
    }
  }
  const b = begin as number;
  const e = end as number;
  if (e < b) fail(source, `${where}: data_offsets [${b}, ${e}] end before they begin`);
  const n = numel(dims);
  const need = n * DTYPE_SIZES[dt];
  if (!Number.isSafeInteger(need)) fail(source, `${where}: shape ${shapeStr(dims)} is too large`);
  if (e - b !== need) {
    fail(source, `${where}: shape ${shapeStr(dims)} with dtype ${dt} needs ${need} bytes (${n} × ${DTYPE_SIZES[dt]}) but data_offsets [${b}, ${e}] span ${e - b} bytes`);
  }
  if (e > dataLength) {
    fail(source, `${where}: data_offsets [${b}, ${e}] run past the end of the data section (${dataLength} bytes): the file is truncated or its header is wrong`);
  }
  return { name, dtype: dt, shape: [...dims], begin: b, end: e };
}

/** Tensors must cover the data section exactly, in some order: no overlaps, no gaps, nothing after the last. */
function checkTiling(entries: TensorEntry[], dataLength: number, source: string): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: TensorEntry | undefined;
  const at = (t: TensorEntry) => `"${t.name}" [${t.begin}, ${t.end}]`;
  for (const t of sorted) {
    if (t.begin < pos && prev) fail(source, `tensors ${at(prev)} and ${at(t)} have overlapping data_offsets`);
    if (t.begin > pos) {
      if (prev) fail(source, `data_offsets are not contiguous: ${t.begin - pos} unused bytes between tensors ${at(prev)} and ${at(t)}`);
      fail(source, `data_offsets are not contiguous: the first tensor ${at(t)} starts at byte ${t.begin}, expected 0`);
    }
    pos = Math.max(pos, t.end);
    // A zero-size tensor does not "own" a position, so keep the last tensor that actually ends at `pos`.
    if (!prev || t.end >= prev.end) prev = t;
  }
  if (pos !== dataLength) {
    fail(source, `${dataLength - pos} trailing bytes after the last tensor's data (data section is ${dataLength} bytes, tensors cover ${pos}): corrupt file`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Decoding

type TypedCtor<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

/** A typed view of little-endian bytes; copies when the offset is misaligned (or the host is big-endian). */
function leView<T>(bytes: Uint8Array, ctor: TypedCtor<T>): T {
  const k = ctor.BYTES_PER_ELEMENT;
  let b = bytes;
  if (b.byteOffset % k !== 0) b = b.slice();
  if (!LITTLE_ENDIAN && k > 1) {
    if (b === bytes) b = b.slice();
    for (let i = 0; i < b.length; i += k) b.subarray(i, i + k).reverse();
  }
  return new ctor(b.buffer, b.byteOffset, b.byteLength / k);
}

/**
 * Decode the raw little-endian bytes of one tensor to f32. With `zeroCopy`, aligned F32 data is returned as a
 * view into `bytes`; everything else is a fresh array. I64/U64 beyond 2^24 lose precision, as any f32 would.
 */
export function decodeToFloat32(dtype: SafetensorsDtype, bytes: Uint8Array, zeroCopy = false): Float32Array {
  const size = DTYPE_SIZES[dtype];
  if (bytes.byteLength % size !== 0) throw new Error(`${bytes.byteLength} bytes is not a whole number of ${dtype} values`);
  const n = bytes.byteLength / size;
  switch (dtype) {
    case 'F32': {
      if (zeroCopy && LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, n);
      const out = new Float32Array(n);
      if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes);
      else out.set(leView(bytes, Float32Array));
      return out;
    }
    case 'F16': {
      const src = leView(bytes, Uint16Array);
      const table = f16ToF32Table();
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[src[i]!]!;
      return out;
    }
    case 'BF16': {
      const src = leView(bytes, Uint16Array);
      const out = new Float32Array(n);
      const ob = new Uint32Array(out.buffer); // bf16 is the upper half of an f32: shift the bits, no rounding
      for (let i = 0; i < n; i++) ob[i] = src[i]! << 16;
      return out;
    }
    case 'F8_E5M2': {
      // e5m2 is the upper byte of an IEEE half.
      const table = f16ToF32Table();
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[bytes[i]! << 8]!;
      return out;
    }
    case 'F8_E4M3': {
      const table = e4m3ToF32Table();
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[bytes[i]!]!;
      return out;
    }
    case 'BOOL': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = bytes[i] ? 1 : 0;
      return out;
    }
    case 'I64':
    case 'U64': {
      const src: ArrayLike<bigint> = dtype === 'I64' ? leView(bytes, BigInt64Array) : leView(bytes, BigUint64Array);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = Number(src[i]!);
      return out;
    }
    default:
      return Float32Array.from(numberView(dtype, bytes));
  }
}

function numberView(dtype: Exclude<SafetensorsDtype, 'F16' | 'BF16' | 'F8_E5M2' | 'F8_E4M3' | 'BOOL' | 'I64' | 'U64'>, bytes: Uint8Array): ArrayLike<number> {
  switch (dtype) {
    case 'U8':
      return bytes;
    case 'I8':
      return leView(bytes, Int8Array);
    case 'I16':
      return leView(bytes, Int16Array);
    case 'U16':
      return leView(bytes, Uint16Array);
    case 'I32':
      return leView(bytes, Int32Array);
    case 'U32':
      return leView(bytes, Uint32Array);
    case 'F32':
      return leView(bytes, Float32Array);
    case 'F64':
      return leView(bytes, Float64Array);
  }
}

/**
 * Decode to exact JS numbers (for integer tensors such as token ids, where f32 would lose precision).
 * 64-bit integers outside ±2^53 cannot be represented exactly and throw rather than round silently.
 */
export function decodeToNumbers(dtype: SafetensorsDtype, bytes: Uint8Array): number[] {
  switch (dtype) {
    case 'I64':
    case 'U64': {
      const src: ArrayLike<bigint> = dtype === 'I64' ? leView(bytes, BigInt64Array) : leView(bytes, BigUint64Array);
      return Array.from(src, (v, i) => {
        const x = Number(v);
        if (!Number.isSafeInteger(x)) throw new Error(`${dtype} value ${v} at index ${i} is outside the exactly representable range ±2^53`);
        return x;
      });
    }
    case 'F64':
      return Array.from(leView(bytes, Float64Array));
    default:
      return Array.from(decodeToFloat32(dtype, bytes));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Readers

function wantedEntries(header: SafetensorsHeader, names: Iterable<string> | undefined): TensorEntry[] {
  if (!names) return [...header.tensors.values()];
  const out: TensorEntry[] = [];
  for (const n of new Set(names)) {
    const e = header.tensors.get(n);
    if (!e) fail(header.source, `tensor "${n}" is not in this file`);
    out.push(e);
  }
  return out;
}

/** Parse a whole safetensors file held in memory. */
export function readSafetensors(bytes: Uint8Array, opts: BufferReadOptions = {}): SafetensorsContents {
  const source = opts.source ?? 'safetensors buffer';
  if (bytes.byteLength < 8) fail(source, `file is ${bytes.byteLength} bytes, shorter than the 8-byte safetensors header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = checkHeaderLength(dv.getBigUint64(0, true), bytes.byteLength, source);
  const header = parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.byteLength - 8 - n, source);
  const data = bytes.subarray(header.dataStart);
  const zeroCopy = opts.zeroCopy ?? true;
  const tensors: WeightMap = new Map();
  const dtypes = new Map<string, SafetensorsDtype>();
  for (const e of wantedEntries(header, opts.names)) {
    tensors.set(e.name, { shape: [...e.shape], data: decodeToFloat32(e.dtype, data.subarray(e.begin, e.end), zeroCopy) });
    dtypes.set(e.name, e.dtype);
  }
  return { metadata: header.metadata, tensors, dtypes };
}

/** Read exactly `into.byteLength` bytes at `position`, or throw (the file shrank since we looked at it). */
async function readExact(fh: FileHandle, into: Uint8Array, position: number, source: string): Promise<void> {
  const CHUNK = 1 << 30; // a single fs read is capped just under 2 GB
  let off = 0;
  while (off < into.byteLength) {
    const len = Math.min(CHUNK, into.byteLength - off);
    const { bytesRead } = await fh.read(into, off, len, position + off);
    if (bytesRead === 0) fail(source, `unexpected end of file at byte ${position + off} (file truncated while reading?)`);
    off += bytesRead;
  }
}

async function readHeaderFrom(fh: FileHandle, source: string): Promise<SafetensorsHeader> {
  const { size } = await fh.stat();
  if (size < 8) fail(source, `file is ${size} bytes, shorter than the 8-byte safetensors header length`);
  const prefix = new Uint8Array(8);
  await readExact(fh, prefix, 0, source);
  const n = checkHeaderLength(new DataView(prefix.buffer).getBigUint64(0, true), size, source);
  const headerBytes = new Uint8Array(n);
  await readExact(fh, headerBytes, 8, source);
  return parseSafetensorsHeader(headerBytes, size - 8 - n, source);
}

/** Read and validate only the header of a file (cheap: shapes and dtypes without touching the data). */
export async function readSafetensorsHeader(filePath: string): Promise<SafetensorsHeader> {
  const fh = await fsp.open(filePath, 'r');
  try {
    return await readHeaderFrom(fh, filePath);
  } finally {
    await fh.close();
  }
}

/**
 * Read tensors from a file on disk: the header first, then each wanted tensor with a positioned read, so only
 * the requested tensors are ever in memory (and F32 data is read straight into its final Float32Array).
 */
export async function readSafetensorsFile(filePath: string, opts: ReadOptions = {}): Promise<SafetensorsContents> {
  const source = opts.source ?? filePath;
  const fh = await fsp.open(filePath, 'r');
  try {
    const header = await readHeaderFrom(fh, source);
    const entries = wantedEntries(header, opts.names).sort((a, b) => a.begin - b.begin); // sequential disk access
    const tensors: WeightMap = new Map();
    const dtypes = new Map<string, SafetensorsDtype>();
    for (const e of entries) {
      const pos = header.dataStart + e.begin;
      let data: Float32Array;
      if (e.dtype === 'F32' && LITTLE_ENDIAN) {
        data = new Float32Array((e.end - e.begin) / 4);
        await readExact(fh, new Uint8Array(data.buffer), pos, source);
      } else {
        const raw = new Uint8Array(e.end - e.begin);
        await readExact(fh, raw, pos, source);
        data = decodeToFloat32(e.dtype, raw);
      }
      tensors.set(e.name, { shape: [...e.shape], data });
      dtypes.set(e.name, e.dtype);
    }
    // Return in header order rather than disk order, as the whole-buffer reader does.
    const ordered: WeightMap = new Map();
    for (const e of wantedEntries(header, opts.names)) ordered.set(e.name, tensors.get(e.name)!);
    return { metadata: header.metadata, tensors: ordered, dtypes };
  } finally {
    await fh.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Writing

export type TensorSource = WeightMap | Iterable<readonly [string, HostTensor]> | Record<string, HostTensor>;

export interface WriteOptions {
  /** On-disk dtype: one for all tensors or chosen per tensor (default F32). */
  dtype?: WriteDtype | ((name: string, tensor: HostTensor) => WriteDtype);
  /** `__metadata__` string map (HF's loaders expect `{format: "pt"}` in model files). */
  metadata?: Record<string, string>;
}

export interface PlannedTensor {
  name: string;
  tensor: HostTensor;
  dtype: WriteDtype;
  begin: number;
  end: number;
}

export interface SafetensorsPlan {
  /** The 8-byte length prefix followed by the space-padded JSON header. */
  head: Uint8Array;
  tensors: PlannedTensor[];
  /** Total file size in bytes. */
  totalBytes: number;
}

/** The (name, tensor) pairs of any accepted tensor collection, in its own order. */
export function tensorEntries(src: TensorSource): [string, HostTensor][] {
  if (src instanceof Map) return [...src.entries()];
  if (Symbol.iterator in src) return [...(src as Iterable<readonly [string, HostTensor]>)].map(([k, v]) => [k, v]);
  return Object.entries(src as Record<string, HostTensor>);
}

const WRITE_SIZES: Record<WriteDtype, number> = { F32: 4, BF16: 2, F16: 2 };
// Same order as the reference writer (wider dtypes first, then BF16 before F16), so every tensor's data is aligned.
const WRITE_RANK: Record<WriteDtype, number> = { F32: 0, BF16: 1, F16: 2 };

function validateForWrite(name: string, t: HostTensor): void {
  if (typeof name !== 'string' || name.length === 0) throw new Error('safetensors: tensor names must be non-empty strings');
  if (name === '__metadata__') throw new Error('safetensors: "__metadata__" is reserved and cannot be a tensor name');
  if (!(t.data instanceof Float32Array)) throw new Error(`safetensors: tensor "${name}" data must be a Float32Array`);
  t.shape.forEach((d, i) => {
    if (!Number.isSafeInteger(d) || d < 0) throw new Error(`safetensors: tensor "${name}" has invalid dimension ${d} at index ${i} of shape ${shapeStr(t.shape)}`);
  });
  const n = numel(t.shape);
  if (t.data.length !== n) throw new Error(`safetensors: tensor "${name}" has ${t.data.length} values but shape ${shapeStr(t.shape)} needs ${n}`);
}

/** Lay out a file: deterministic order, header JSON and offsets. Validates every tensor before any byte is written. */
export function planSafetensors(src: TensorSource, opts: WriteOptions = {}): SafetensorsPlan {
  const pick = opts.dtype ?? 'F32';
  const list = tensorEntries(src).map(([name, tensor]) => {
    validateForWrite(name, tensor);
    const dtype = typeof pick === 'function' ? pick(name, tensor) : pick;
    if (!Object.hasOwn(WRITE_SIZES, dtype)) throw new Error(`safetensors: cannot write tensor "${name}" as dtype "${dtype}" (F32, F16 or BF16)`);
    return { name, tensor, dtype };
  });
  const seen = new Set<string>();
  for (const t of list) {
    if (seen.has(t.name)) throw new Error(`safetensors: duplicate tensor name "${t.name}"`);
    seen.add(t.name);
  }
  list.sort((a, b) => WRITE_RANK[a.dtype] - WRITE_RANK[b.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const header: Record<string, unknown> = {};
  if (opts.metadata) {
    const md: Record<string, string> = {};
    for (const k of Object.keys(opts.metadata).sort()) {
      const v = opts.metadata[k];
      if (typeof v !== 'string') throw new Error(`safetensors: __metadata__["${k}"] must be a string, got ${describe(v)}`);
      setOwn(md, k, v);
    }
    header.__metadata__ = md;
  }
  let pos = 0;
  const tensors: PlannedTensor[] = list.map(({ name, tensor, dtype }) => {
    const begin = pos;
    pos += tensor.data.length * WRITE_SIZES[dtype];
    setOwn(header, name, { dtype, shape: tensor.shape, data_offsets: [begin, pos] });
    return { name, tensor, dtype, begin, end: pos };
  });
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = json.byteLength + ((8 - (json.byteLength % 8)) % 8); // pad with spaces to 8 bytes, like the reference
  const head = new Uint8Array(8 + padded).fill(0x20, 8 + json.byteLength);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(json, 8);
  return { head, tensors, totalBytes: head.byteLength + pos };
}

/** Encode f32 values as `dtype` into `out` (little-endian), which must hold `src.length` values. */
export function encodeFloat32(src: Float32Array, dtype: WriteDtype, out?: Uint8Array): Uint8Array {
  const n = src.length;
  const bytes = out ?? new Uint8Array(n * WRITE_SIZES[dtype]);
  if (dtype === 'F32') {
    if (LITTLE_ENDIAN) bytes.set(new Uint8Array(src.buffer, src.byteOffset, n * 4));
    else {
      const dv = new DataView(bytes.buffer, bytes.byteOffset, n * 4);
      for (let i = 0; i < n; i++) dv.setFloat32(i * 4, src[i]!, true);
    }
    return bytes;
  }
  // Read the f32 bits directly (copy first if misaligned) so NaN payloads and -0 survive.
  const bits = src.byteOffset % 4 === 0 ? new Uint32Array(src.buffer, src.byteOffset, n) : new Uint32Array(Float32Array.from(src).buffer);
  const conv = dtype === 'F16' ? f32BitsToF16Bits : f32BitsToBf16Bits;
  if (LITTLE_ENDIAN && bytes.byteOffset % 2 === 0) {
    const dst = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
    for (let i = 0; i < n; i++) dst[i] = conv(bits[i]!);
  } else {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, n * 2);
    for (let i = 0; i < n; i++) dv.setUint16(i * 2, conv(bits[i]!), true);
  }
  return bytes;
}

/** Serialise to one in-memory buffer (fine for small files and tests; use writeSafetensorsFile for models). */
export function serializeSafetensors(src: TensorSource, opts: WriteOptions = {}): Uint8Array {
  const plan = planSafetensors(src, opts);
  const out = new Uint8Array(plan.totalBytes);
  out.set(plan.head, 0);
  const base = plan.head.byteLength;
  for (const t of plan.tensors) encodeFloat32(t.tensor.data, t.dtype, out.subarray(base + t.begin, base + t.end));
  return out;
}

export interface FileWriteOptions extends WriteOptions {
  /** Called after each tensor is written (progress ticks; throwing aborts the write and leaves no file). */
  onTensor?: (name: string, index: number, count: number) => void;
}

/**
 * Write a safetensors file atomically (temp file + rename), streaming tensor by tensor so at most one
 * conversion chunk exists besides the caller's tensors. Returns the file size.
 */
export async function writeSafetensorsFile(filePath: string, src: TensorSource, opts: FileWriteOptions = {}): Promise<number> {
  const plan = planSafetensors(src, opts);
  const CHUNK = 1 << 22; // values per conversion chunk (16 MB of f32)
  await atomicWriteFileWith(filePath, async (fh) => {
    await writeAll(fh, plan.head);
    let scratch: Uint8Array | undefined;
    for (const [i, t] of plan.tensors.entries()) {
      const data = t.tensor.data;
      if (data.length !== t.tensor.shape.reduce((a, b) => a * b, 1) || data.length * WRITE_SIZES[t.dtype] !== t.end - t.begin) {
        // The caller changed the tensor after planning: writing now would corrupt the file.
        throw new Error(`safetensors: tensor "${t.name}" changed size while being written`);
      }
      if (t.dtype === 'F32' && LITTLE_ENDIAN) {
        await writeAll(fh, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      } else {
        for (let off = 0; off < data.length; off += CHUNK) {
          const part = data.subarray(off, Math.min(off + CHUNK, data.length));
          const size = part.length * WRITE_SIZES[t.dtype];
          if (!scratch || scratch.byteLength < size) scratch = new Uint8Array(Math.min(CHUNK, data.length) * 4);
          await writeAll(fh, encodeFloat32(part, t.dtype, scratch.subarray(0, size)));
        }
      }
      opts.onTensor?.(t.name, i, plan.tensors.length);
    }
  });
  return plan.totalBytes;
}
