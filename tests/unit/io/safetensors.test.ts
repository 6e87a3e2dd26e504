import { spawnSync } from 'node:child_process';
import { mkdtempSync, promises as fsp, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  bf16BitsToF32,
  decodeToNumbers,
  encodeFloat32,
  f16BitsToF32,
  f32ToBf16Bits,
  f32ToF16Bits,
  readSafetensors,
  readSafetensorsFile,
  readSafetensorsHeader,
  serializeSafetensors,
  writeSafetensorsFile,
  type WriteDtype,
} from '../../../src/loram/io/safetensors';
import type { HostTensor, WeightMap } from '../../../src/loram/util/tensor';
import { Rng } from '../../../src/loram/util/rng';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'loram-st-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Build a safetensors file by hand: header text exactly as given, then raw data bytes. */
function rawFile(header: string | object | Buffer, data: Uint8Array | number[] = [], lengthOverride?: bigint): Uint8Array {
  const h = Buffer.isBuffer(header) ? header : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const out = Buffer.alloc(8 + h.length + data.length);
  out.writeBigUInt64LE(lengthOverride ?? BigInt(h.length), 0);
  h.copy(out, 8);
  Buffer.from(data).copy(out, 8 + h.length);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

function u16le(values: number[]): Uint8Array {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeUInt16LE(v, i * 2));
  return b;
}

function bits32(x: Float32Array): Uint32Array {
  return new Uint32Array(x.buffer, x.byteOffset, x.length);
}

// Values that exercise every corner of the conversions.
const TRICKY = [
  0, -0, 1, -2, 0.1, 1 / 3, 65504, 65519, 65520, -65504, 1e5, 1e-8, -1e-8, 6.103515625e-5, 5.960464477539063e-8,
  2.98023223876953125e-8, 1e-40, -1e-42, 1.401298464324817e-45, 3.4028234663852886e38, -3.4028234663852886e38,
  Infinity, -Infinity, NaN, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 + 2 ** -8, 1 + 3 * 2 ** -8, Math.PI, -Math.E,
];

describe('f16 / bf16 bit conversions (hand-computed bit patterns)', () => {
  test.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [0, 0x0000],
    [-0, 0x8000],
    [65504, 0x7bff], // largest finite half
    [65519, 0x7bff], // rounds down
    [65520, 0x7c00], // exact tie between 65504 and 65536 → even → inf
    [1e6, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // tie between 0 and 2^-24 → even (0)
    [1.5 * 2 ** -25, 0x0001],
    [3 * 2 ** -25, 0x0002], // tie between 1 and 2 subnormal units → even (2)
    [1e-8, 0x0000],
    [0.1, 0x2e66],
    [1 / 3, 0x3555],
    [1 + 2 ** -11, 0x3c00], // tie → even mantissa
    [1 + 3 * 2 ** -11, 0x3c02], // tie → even mantissa (rounds up)
    [2 ** -14 - 2 ** -25, 0x0400], // rounds up from the subnormal range into the smallest normal
  ])('f32ToF16Bits(%p) = %p', (x, h) => {
    expect(f32ToF16Bits(x)).toBe(h);
  });

  test('f16 NaN stays NaN and decodes as NaN', () => {
    const h = f32ToF16Bits(NaN);
    expect(h & 0x7c00).toBe(0x7c00);
    expect(h & 0x3ff).not.toBe(0);
    expect(f16BitsToF32(0x7e00)).toBeNaN();
    expect(f16BitsToF32(0x7c00)).toBe(Infinity);
    expect(Object.is(f16BitsToF32(0x8000), -0)).toBe(true);
    expect(f16BitsToF32(0x0001)).toBe(2 ** -24);
    expect(f16BitsToF32(0x3555)).toBe(0.333251953125);
  });

  test('every finite half survives f16 → f32 → f16', () => {
    const bad: number[] = [];
    for (let h = 0; h < 65536; h++) {
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue; // NaNs: payload canonicalisation allowed
      if (f32ToF16Bits(f16BitsToF32(h)) !== h) bad.push(h);
    }
    expect(bad).toEqual([]);
  });

  test.each([
    [1, 0x3f80],
    [-2, 0xc000],
    [Math.PI, 0x4049],
    [1 + 2 ** -8, 0x3f80], // tie → even
    [1 + 3 * 2 ** -8, 0x3f82], // tie → even (up)
    [3.4028234663852886e38, 0x7f80], // f32 max rounds to inf in bf16
    [-Infinity, 0xff80],
    [-0, 0x8000],
    [1e-40, 0x0001], // f32 subnormal 0x000116c2 keeps its top half
  ])('f32ToBf16Bits(%p) = %p', (x, h) => {
    expect(f32ToBf16Bits(x)).toBe(h);
  });

  test('bf16 NaN stays NaN', () => {
    expect(bf16BitsToF32(f32ToBf16Bits(NaN))).toBeNaN();
    // A NaN whose payload lives only in the low bits must not become inf.
    const f = new Float32Array(new Uint32Array([0x7f800001]).buffer);
    expect(bf16BitsToF32(new Uint16Array(encodeFloat32(f, 'BF16').buffer)[0]!)).toBeNaN();
  });
});

describe('reading files whose bytes were built by hand', () => {
  test('F16 values', () => {
    const data = u16le([0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00, 0xfc00, 0x7e00]);
    const f = rawFile(`{"x":{"dtype":"F16","shape":[2,4],"data_offsets":[0,16]}}`, data);
    const { tensors, dtypes } = readSafetensors(f);
    const x = tensors.get('x')!;
    expect(x.shape).toEqual([2, 4]);
    expect(dtypes.get('x')).toBe('F16');
    expect(Array.from(x.data.subarray(0, 4))).toEqual([1, -2, 65504, 2 ** -24]);
    expect(Object.is(x.data[4], -0)).toBe(true);
    expect(x.data[5]).toBe(Infinity);
    expect(x.data[6]).toBe(-Infinity);
    expect(x.data[7]).toBeNaN();
  });

  test('BF16 values', () => {
    const data = u16le([0x3f80, 0xc000, 0x4049, 0x0001, 0x7f80, 0xff80, 0x7fc0, 0x8000]);
    const f = rawFile(`{"__metadata__":{"format":"pt"},"y":{"dtype":"BF16","shape":[8],"data_offsets":[0,16]}}`, data);
    const { tensors, metadata } = readSafetensors(f);
    expect(metadata).toEqual({ format: 'pt' });
    const y = tensors.get('y')!.data;
    expect(Array.from(y.subarray(0, 3))).toEqual([1, -2, 3.140625]);
    expect(y[3]).toBe(2 ** -133); // smallest bf16 subnormal
    expect(y[4]).toBe(Infinity);
    expect(y[5]).toBe(-Infinity);
    expect(y[6]).toBeNaN();
    expect(Object.is(y[7], -0)).toBe(true);
  });

  test('integer, bool, f64 and f8 dtypes; header with whitespace and any key order', () => {
    const data = Buffer.alloc(8 * 2 + 8 + 4 * 2 + 3 + 1 + 2);
    let o = 0;
    data.writeBigInt64LE(-5n, o); o += 8;
    data.writeBigInt64LE(2n ** 40n, o); o += 8;
    data.writeDoubleLE(0.1, o); o += 8;
    data.writeInt32LE(-7, o); o += 4;
    data.writeInt32LE(123456789, o); o += 4;
    data.set([0, 1, 2], o); o += 3; // BOOL: nonzero is true
    data.set([200], o); o += 1; // U8
    data.set([0x3c, 0x38], o); // F8_E5M2 1.0, F8_E4M3 1.0
    const header = `{ "ids" : {"shape": [2], "data_offsets": [0, 16], "dtype": "I64"},
      "d": {"dtype":"F64","shape":[],"data_offsets":[16,24]}, "i": {"dtype":"I32","shape":[2],"data_offsets":[24,32]},
      "b": {"dtype":"BOOL","shape":[3],"data_offsets":[32,35]}, "u": {"dtype":"U8","shape":[1],"data_offsets":[35,36]},
      "e5": {"dtype":"F8_E5M2","shape":[1],"data_offsets":[36,37]}, "e4": {"dtype":"F8_E4M3","shape":[1],"data_offsets":[37,38]} }`;
    const { tensors } = readSafetensors(rawFile(header, data));
    expect(Array.from(tensors.get('ids')!.data)).toEqual([-5, 2 ** 40]);
    expect(tensors.get('d')!.shape).toEqual([]);
    expect(tensors.get('d')!.data[0]).toBe(Math.fround(0.1));
    expect(Array.from(tensors.get('i')!.data)).toEqual([-7, Math.fround(123456789)]);
    expect(Array.from(tensors.get('b')!.data)).toEqual([0, 1, 1]);
    expect(Array.from(tensors.get('u')!.data)).toEqual([200]);
    expect(tensors.get('e5')!.data[0]).toBe(1);
    expect(tensors.get('e4')!.data[0]).toBe(1);
  });

  test('decodeToNumbers keeps 64-bit integers exact and refuses unsafe ones', () => {
    const b = Buffer.alloc(16);
    b.writeBigInt64LE(2n ** 53n - 1n, 0);
    b.writeBigInt64LE(-3n, 8);
    expect(decodeToNumbers('I64', b)).toEqual([2 ** 53 - 1, -3]);
    b.writeBigInt64LE(2n ** 60n, 0);
    expect(() => decodeToNumbers('I64', b)).toThrow(/outside the exactly representable range/);
  });
});

describe('round trips', () => {
  const tricky = Float32Array.from(TRICKY);

  test('F32 is bit-exact, including -0, subnormals, inf and NaN', () => {
    const w: WeightMap = new Map([['t', { shape: [tricky.length], data: tricky }]]);
    const back = readSafetensors(serializeSafetensors(w)).tensors.get('t')!;
    expect(Array.from(bits32(back.data))).toEqual(Array.from(bits32(tricky)));
  });

  test.each<[WriteDtype, number, number]>([
    ['F16', 2 ** -11, 2 ** -25], // relative error of a normal half, absolute error in the subnormal range
    ['BF16', 2 ** -8, 2 ** -134],
  ])('%s within its precision', (dtype, rel, abs) => {
    const rng = new Rng(7);
    const random = Float32Array.from({ length: 2000 }, () => rng.normal() * 10 ** Math.floor(rng.next() * 8 - 4));
    const src = new Float32Array([...tricky, ...random]);
    const back = readSafetensors(serializeSafetensors({ t: { shape: [src.length], data: src } }, { dtype })).tensors.get('t')!.data;
    const maxFinite = dtype === 'F16' ? 65504 : 3.3895313892515355e38;
    for (let i = 0; i < src.length; i++) {
      const x = src[i]!;
      const y = back[i]!;
      if (Number.isNaN(x)) expect(y).toBeNaN();
      else if (Math.abs(x) > maxFinite * (1 + rel / 2)) expect(y).toBe(Math.sign(x) * Infinity);
      else {
        expect(Math.abs(y - x)).toBeLessThanOrEqual(Math.max(Math.abs(x) * rel, abs));
        if (x !== 0 && y !== 0) expect(Math.sign(y)).toBe(Math.sign(x));
        if (Object.is(x, -0)) expect(Object.is(y, -0)).toBe(true);
      }
    }
    // Spot checks: 65504 is exact in f16, 1e-8 underflows to zero in f16 but not in bf16.
    const at = (v: number) => back[TRICKY.indexOf(v)]!;
    if (dtype === 'F16') {
      expect(at(65504)).toBe(65504);
      expect(at(1e-8)).toBe(0);
      expect(at(65520)).toBe(Infinity);
    } else {
      expect(at(1e-8)).toBeCloseTo(1e-8, 10);
      expect(at(65504)).toBe(65536);
    }
  });

  test('scalar, zero-size and empty files', () => {
    const w: WeightMap = new Map([
      ['scalar', { shape: [], data: new Float32Array([3.5]) }],
      ['empty', { shape: [0, 4], data: new Float32Array(0) }],
    ]);
    const r = readSafetensors(serializeSafetensors(w));
    expect(r.tensors.get('scalar')).toEqual({ shape: [], data: new Float32Array([3.5]) });
    expect(r.tensors.get('empty')!.shape).toEqual([0, 4]);
    const none = readSafetensors(serializeSafetensors(new Map()));
    expect(none.tensors.size).toBe(0);
  });

  test('aligned F32 data is returned zero-copy; misaligned buffers are copied', () => {
    const bytes = serializeSafetensors({ a: { shape: [3], data: new Float32Array([1, 2, 3]) } });
    const view = readSafetensors(bytes).tensors.get('a')!.data;
    expect(view.buffer).toBe(bytes.buffer);
    expect(readSafetensors(bytes, { zeroCopy: false }).tensors.get('a')!.data.buffer).not.toBe(bytes.buffer);
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const copy = readSafetensors(shifted.subarray(1)).tensors.get('a')!.data;
    expect(Array.from(copy)).toEqual([1, 2, 3]);
    expect(copy.buffer).not.toBe(shifted.buffer);
  });
});

describe('writer format', () => {
  const a: HostTensor = { shape: [2], data: new Float32Array([1, 2]) };
  const b: HostTensor = { shape: [1, 3], data: new Float32Array([3, 4, 5]) };

  test('deterministic: sorted names, metadata first, 8-byte aligned header padded with spaces', () => {
    const x = serializeSafetensors(new Map([['b', b], ['a', a]]), { metadata: { z: '1', format: 'pt' } });
    const y = serializeSafetensors(new Map([['a', a], ['b', b]]), { metadata: { format: 'pt', z: '1' } });
    expect(Buffer.from(x).equals(Buffer.from(y))).toBe(true);
    const n = Number(Buffer.from(x).readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const text = Buffer.from(x.subarray(8, 8 + n)).toString('utf8');
    expect(text).toBe(
      '{"__metadata__":{"format":"pt","z":"1"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1,3],"data_offsets":[8,20]}}'.padEnd(n, ' '),
    );
    expect(x.length).toBe(8 + n + 20);
  });

  test('mixed dtypes are laid out widest first so every tensor stays aligned', () => {
    const bytes = serializeSafetensors({ a, b, c: { shape: [1], data: new Float32Array([1]) } }, { dtype: (name) => (name === 'a' ? 'F16' : name === 'c' ? 'BF16' : 'F32') });
    const r = readSafetensors(bytes);
    expect([...r.tensors.keys()]).toEqual(['b', 'c', 'a']);
    expect(r.dtypes.get('a')).toBe('F16');
    expect(Array.from(r.tensors.get('a')!.data)).toEqual([1, 2]);
  });

  test('hostile key names such as "__proto__" stay ordinary tensors and metadata', () => {
    const bytes = serializeSafetensors(new Map([['__proto__', a]]), { metadata: { ['__proto__']: 'x' } as Record<string, string> });
    const r = readSafetensors(bytes);
    expect([...r.tensors.keys()]).toEqual(['__proto__']);
    expect(Object.getOwnPropertyDescriptor(r.metadata, '__proto__')?.value).toBe('x');
    expect(Object.getPrototypeOf(r.metadata)).toBe(Object.prototype);
  });

  test('rejects bad input before writing', () => {
    expect(() => serializeSafetensors({ a: { shape: [3], data: new Float32Array(2) } })).toThrow(/"a" has 2 values but shape \[3\] needs 3/);
    expect(() => serializeSafetensors({ __metadata__: a })).toThrow(/reserved/);
    expect(() => serializeSafetensors({ a: { shape: [-1], data: new Float32Array(0) } })).toThrow(/invalid dimension -1/);
    expect(() => serializeSafetensors({ a }, { metadata: { n: 5 as unknown as string } })).toThrow(/__metadata__\["n"\] must be a string/);
  });

  test('file writer + header-only and selective file readers', async () => {
    const p = path.join(tmp, 'w.safetensors');
    const size = await writeSafetensorsFile(p, { a, b }, { dtype: 'BF16', metadata: { format: 'pt' } });
    expect((await fsp.stat(p)).size).toBe(size);
    const h = await readSafetensorsHeader(p);
    expect(h.tensors.get('b')).toMatchObject({ dtype: 'BF16', shape: [1, 3] });
    const r = await readSafetensorsFile(p, { names: ['b'] });
    expect([...r.tensors.keys()]).toEqual(['b']);
    expect(Array.from(r.tensors.get('b')!.data)).toEqual([3, 4, 5]);
    // Same bytes as the in-memory serializer.
    expect(Buffer.from(await fsp.readFile(p)).equals(Buffer.from(serializeSafetensors({ a, b }, { dtype: 'BF16', metadata: { format: 'pt' } })))).toBe(true);
    await expect(readSafetensorsFile(p, { names: ['nope'] })).rejects.toThrow(/tensor "nope" is not in this file/);
  });

  test('a file write aborted midway leaves no file and no temp file', async () => {
    const dir = await fsp.mkdtemp(path.join(tmp, 'abort-'));
    const p = path.join(dir, 'x.safetensors');
    await expect(
      writeSafetensorsFile(p, { a, b }, { onTensor: () => { throw new Error('cancelled'); } }),
    ).rejects.toThrow('cancelled');
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('malformed files give errors that name the problem', () => {
  const f32 = (shape: number[], offsets: [number, number]) => ({ dtype: 'F32', shape, data_offsets: offsets });
  const zeros = (n: number) => new Array<number>(n).fill(0);

  test.each<[string, Uint8Array, RegExp]>([
    ['shorter than 8 bytes', new Uint8Array(5), /5 bytes, shorter than the 8-byte/],
    ['header length larger than the file', rawFile('{}', [], 1000n), /header length 1000 is larger than the file \(10 bytes\)/],
    ['absurd header length', rawFile('{}', [], 2n ** 62n), /header length 4611686018427387904 is absurd/],
    ['header not JSON', rawFile('{"a":'), /header is not valid JSON/],
    ['header not UTF-8', rawFile(Buffer.from('{"\xff":{}}', 'latin1')), /header is not valid UTF-8/],
    ['header an array', rawFile('[1,2]'), /must be a JSON object, got an array/],
    ['entry not an object', rawFile({ w: 3 }), /tensor "w": header entry must be an object/],
    ['unknown dtype', rawFile({ w: { dtype: 'F7', shape: [1], data_offsets: [0, 4] } }, zeros(4)), /tensor "w" has unknown or unsupported dtype "F7"/],
    ['shape/offset mismatch', rawFile({ w: f32([2, 2], [0, 12]) }, zeros(12)), /tensor "w": shape \[2, 2\] with dtype F32 needs 16 bytes .* span 12 bytes/],
    ['offsets past the end', rawFile({ w: f32([4], [0, 16]) }, zeros(8)), /tensor "w": data_offsets \[0, 16\] run past the end of the data section \(8 bytes\): the file is truncated/],
    ['overlapping tensors', rawFile({ a: f32([2], [0, 8]), b: f32([2], [4, 12]) }, zeros(12)), /tensors "a" \[0, 8\] and "b" \[4, 12\] have overlapping data_offsets/],
    ['gap between tensors', rawFile({ a: f32([1], [0, 4]), b: f32([1], [8, 12]) }, zeros(12)), /not contiguous: 4 unused bytes between tensors "a" \[0, 4\] and "b" \[8, 12\]/],
    ['first tensor not at 0', rawFile({ b: f32([1], [4, 8]) }, zeros(8)), /first tensor "b" \[4, 8\] starts at byte 4, expected 0/],
    ['trailing bytes', rawFile({ a: f32([1], [0, 4]) }, zeros(6)), /2 trailing bytes after the last tensor/],
    ['negative dimension', rawFile({ w: f32([2, -1], [0, 0]) }), /tensor "w": shape \[2, -1\] has invalid dimension -1 at index 1/],
    ['non-integer dimension', rawFile({ w: f32([1.5], [0, 6]) }, zeros(6)), /tensor "w": shape \[1.5\] has invalid dimension 1.5/],
    ['string dimension', rawFile({ w: f32(['2' as unknown as number], [0, 8]) }, zeros(8)), /invalid dimension "2"/],
    ['bad data_offsets', rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4, 8] } }, zeros(4)), /tensor "w": data_offsets must be \[begin, end\]/],
    ['offsets end before begin', rawFile({ w: f32([0], [4, 0]) }, zeros(4)), /data_offsets \[4, 0\] end before they begin/],
    ['non-string metadata', rawFile({ __metadata__: { step: 3 } }), /__metadata__\["step"\] must be a string/],
  ])('%s', (_name, bytes, re) => {
    expect(() => readSafetensors(bytes, { source: 'bad.safetensors' })).toThrow(re);
    expect(() => readSafetensors(bytes, { source: 'bad.safetensors' })).toThrow(/^bad\.safetensors: /);
  });

  test('file readers name the file; a truncated real file is detected', async () => {
    const good = serializeSafetensors({ a: { shape: [4], data: new Float32Array([1, 2, 3, 4]) } });
    const p = path.join(tmp, 'truncated.safetensors');
    writeFileSync(p, good.subarray(0, good.length - 3));
    await expect(readSafetensorsFile(p)).rejects.toThrow(new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: tensor "a": data_offsets \\[0, 16\\] run past the end.*truncated`));
    const q = path.join(tmp, 'short.safetensors');
    writeFileSync(q, Buffer.from([1, 2, 3]));
    await expect(readSafetensorsHeader(q)).rejects.toThrow(/short\.safetensors: file is 3 bytes, shorter than the 8-byte/);
    const r = path.join(tmp, 'notst.safetensors');
    writeFileSync(r, Buffer.from('PK\x03\x04 this is a zip file, not safetensors'));
    await expect(readSafetensorsFile(r)).rejects.toThrow(/notst\.safetensors: safetensors header length \d+ is absurd/);
  });
});

// Python's struct module is an independent implementation of IEEE half (its 'e' format rounds half to even),
// and json/struct let us lay out a file exactly as the reference Rust writer does, without numpy or safetensors.
const python = spawnSync('python3', ['-c', 'print(1)'], { encoding: 'utf8' }).status === 0;
(python ? describe : describe.skip)('cross-check against bytes produced by Python', () => {
  test('our f32 → f16 matches struct.pack("<e") on 20000 values of every magnitude', () => {
    const rng = new Rng(11);
    const vals = new Float32Array(20000);
    const bits = bits32(vals);
    for (let i = 0; i < vals.length; i++) {
      if (i % 2 === 0) bits[i] = rng.nextU32(); // arbitrary bit patterns (all exponents, NaNs, infs)
      else bits[i] = ((rng.nextU32() % 40) + 100 << 23) | (rng.nextU32() & 0x807fffff); // near the f16 range
    }
    const inFile = path.join(tmp, 'vals.f32');
    writeFileSync(inFile, new Uint8Array(vals.buffer));
    const script = `
import struct, sys, math
data = open(sys.argv[1], 'rb').read()
out = bytearray()
for (x,) in struct.iter_unpack('<f', data):
    if math.isnan(x):
        out += struct.pack('<H', 0x7e00)
        continue
    try:
        out += struct.pack('<e', x)
    except OverflowError:
        out += struct.pack('<H', 0xfc00 if x < 0 else 0x7c00)
sys.stdout.buffer.write(bytes(out))
`;
    const r = spawnSync('python3', ['-c', script, inFile], { maxBuffer: 1 << 20 });
    expect(r.status).toBe(0);
    const theirs = new Uint16Array(new Uint8Array(r.stdout).buffer);
    const ours = new Uint16Array(encodeFloat32(vals, 'F16').buffer);
    let mismatches = 0;
    for (let i = 0; i < vals.length; i++) {
      if (Number.isNaN(vals[i])) expect(ours[i]! & 0x7fff).toBeGreaterThan(0x7c00);
      else if (ours[i] !== theirs[i]) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  test('a file written by Python (reference layout) reads back, and ours is byte-identical to it', () => {
    const script = `
import json, struct, sys
f16 = [1.0, -2.0, 65504.0, 0.1, 2.0**-24, -0.0]
f32 = [0.5, -1.25, 3.0, 1e-8]
i64 = [-1, 2**40]
tensors = [('a.f16', 'F16', [2, 3], struct.pack('<6e', *f16)),
           ('b.f32', 'F32', [4], struct.pack('<4f', *f32)),
           ('c.i64', 'I64', [2], struct.pack('<2q', *i64))]
if sys.argv[1:] == ['f32-only']:
    tensors = [t for t in tensors if t[1] == 'F32']
header = {'__metadata__': {'format': 'pt'}}
data = b''
for name, dt, shape, raw in sorted(tensors):
    header[name] = {'dtype': dt, 'shape': shape, 'data_offsets': [len(data), len(data) + len(raw)]}
    data += raw
h = json.dumps(header, separators=(',', ':')).encode()
h += b' ' * ((8 - len(h) % 8) % 8)
sys.stdout.buffer.write(struct.pack('<Q', len(h)) + h + data)
`;
    const r = spawnSync('python3', ['-c', script]);
    expect(r.status).toBe(0);
    const bytes = new Uint8Array(r.stdout);
    const { tensors, dtypes, metadata } = readSafetensors(bytes);
    expect(metadata).toEqual({ format: 'pt' });
    expect(dtypes.get('a.f16')).toBe('F16');
    const a = tensors.get('a.f16')!;
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(a.data.subarray(0, 3))).toEqual([1, -2, 65504]);
    expect(a.data[3]).toBe(f16BitsToF32(0x2e66));
    expect(a.data[4]).toBe(2 ** -24);
    expect(Object.is(a.data[5], -0)).toBe(true);
    expect(Array.from(tensors.get('b.f32')!.data)).toEqual([0.5, -1.25, 3, Math.fround(1e-8)]);
    expect(Array.from(tensors.get('c.i64')!.data)).toEqual([-1, 2 ** 40]);

    // A single-dtype file from our writer has exactly the reference layout.
    const py = spawnSync('python3', ['-c', script, 'f32-only']);
    expect(py.status).toBe(0);
    const ours = serializeSafetensors({ 'b.f32': { shape: [4], data: new Float32Array([0.5, -1.25, 3, 1e-8]) } }, { metadata: { format: 'pt' } });
    expect(Buffer.from(ours).equals(py.stdout)).toBe(true);
  });
});
