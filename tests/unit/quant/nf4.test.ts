import {
  createDynamicMap,
  dequantizeNf4,
  dequantizeNf4Range,
  dequantizeNf4Rows,
  dynamicMap,
  NF4_CODE,
  NF4_QUANT_STATE_SUFFIX,
  NF4_THRESHOLDS,
  NF4_ZERO_CODE,
  nf4BlockAbsmax,
  nf4FromStateDict,
  nf4Index,
  nf4StorageBits,
  nf4StorageBytesFor,
  nf4ToStateDict,
  packNf4Codes,
  quantizeNf4,
  quantizeToMap,
  unpackNf4Codes,
  type Nf4Quantized,
} from '../../../src/loram/quant/nf4';
import type { HostTensor } from '../../../src/loram/util/tensor';
import { Rng } from '../../../src/loram/util/rng';

const f32 = Math.fround;

// bitsandbytes functional.get_4bit_type('nf4') and the thresholds of csrc dQuantizeNF4 (written as in the source).
const BNB_NF4 = [
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
  -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
];
const BNB_TREE_THRESHOLDS = [
  -0.8480964004993439, -0.6106329262256622, -0.4599952697753906, -0.33967943489551544, -0.23460740596055984,
  -0.13791173323988914, -0.045525018125772476, 0.03979014977812767, 0.1202552504837513, 0.2035212516784668,
  0.2920137718319893, 0.3893125355243683, 0.5016634166240692, 0.6427869200706482, 0.8614784181118011,
];

/**
 * Error bound. For an element x in 4-bit block b (true absmax a) whose absmax lies in double-quantization group g:
 *   x̂ = c·â, with c the NF4 code nearest to x/a and â the dequantized absmax, so
 *   |x − x̂| ≤ |x − c·a| + |c|·|a − â| ≤ a·H4 + |a − â|                         (|c| ≤ 1)
 *   H4 = max half-gap between adjacent NF4 codes = (1 − 0.6961928)/2 = 0.1519036 (the −1 end; +1 end: 0.1385)
 *   |a − â| ≤ A2·H8, A2 = max_{b∈g} |a_b − mean(a)|, H8 = max half-gap of the signed dynamic map over [−1, 1]
 *        = 0.0140625/2 = 0.00703125 (step of the top decade, also the distance from −1 to the map's −0.99296875).
 * Since mean(a) ∈ [min a, max a], A2 ≤ max_g a, i.e. double quantization adds at most 0.70% of the largest absmax in
 * its group of 256 blocks. Float32 rounding (≤ 8 roundings of magnitude ≤ a + A2 + |mean|) is covered by 2^-20·(…).
 */
const H4 = Math.max(...BNB_NF4.slice(1).map((c, k) => (c - BNB_NF4[k]!) / 2));
const H8 = 0.00703125;

function normalTensor(shape: number[], seed: number, scale = 1): HostTensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.normal() * scale;
  return { shape, data };
}

/** The bound of every element, computed from the input alone (not from the quantized state). */
function elementBounds(x: Float32Array, bs: number, dq: boolean, nbs = 256): Float64Array {
  const nb = Math.ceil(x.length / bs);
  const a = new Float64Array(nb);
  for (let i = 0; i < x.length; i++) a[Math.floor(i / bs)] = Math.max(a[Math.floor(i / bs)]!, Math.abs(x[i]!));
  const mean = a.reduce((s, v) => s + v, 0) / nb;
  const a2 = new Float64Array(Math.ceil(nb / nbs));
  for (let b = 0; b < nb; b++) a2[Math.floor(b / nbs)] = Math.max(a2[Math.floor(b / nbs)]!, Math.abs(a[b]! - mean));
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const b = Math.floor(i / bs);
    const A = a[b]!;
    const A2 = dq ? a2[Math.floor(b / nbs)]! : 0;
    out[i] = A * H4 + A2 * H8 + 2 ** -20 * (A + A2 + Math.abs(mean));
  }
  return out;
}

function maxBoundRatio(t: HostTensor, q: Nf4Quantized): number {
  const xh = dequantizeNf4(q).data;
  const bound = elementBounds(t.data, q.blockSize, q.doubleQuant);
  let worst = 0;
  for (let i = 0; i < xh.length; i++) worst = Math.max(worst, Math.abs(t.data[i]! - xh[i]!) / bound[i]!);
  return worst;
}

describe('code tables', () => {
  it('NF4 has the 16 bitsandbytes values (as float32)', () => {
    expect(NF4_CODE.length).toBe(16);
    BNB_NF4.forEach((v, i) => expect(NF4_CODE[i]).toBe(f32(v)));
    // The 13th value as sometimes printed (0.44070982456207275) is the same float32.
    expect(f32(0.44070982456207275)).toBe(NF4_CODE[12]);
  });

  it('decision thresholds are the float32 midpoints written in bnb’s dQuantizeNF4', () => {
    BNB_TREE_THRESHOLDS.forEach((t, k) => expect(NF4_THRESHOLDS[k]).toBe(f32(t)));
    expect(H4).toBeCloseTo(0.15190359950065613, 15);
  });

  it('nf4Index picks the nearest code (ties: strict ">" like bnb), NaN → 0', () => {
    const rng = new Rng(3);
    let notNearest = 0;
    for (let k = 0; k < 20000; k++) {
      const x = f32(rng.next() * 2.2 - 1.1);
      const i = nf4Index(x);
      let best = 0;
      for (let j = 1; j < 16; j++) if (Math.abs(NF4_CODE[j]! - x) < Math.abs(NF4_CODE[best]! - x)) best = j;
      if (Math.abs(NF4_CODE[i]! - x) > Math.abs(NF4_CODE[best]! - x)) notNearest++;
    }
    expect(notNearest).toBe(0);
    NF4_THRESHOLDS.forEach((t, k) => expect(nf4Index(t)).toBe(k));
    expect(nf4Index(NaN)).toBe(0);
    expect(nf4Index(0)).toBe(NF4_ZERO_CODE);
  });

  it('the dynamic 8-bit map matches bnb create_dynamic_map(signed=True)', () => {
    const m = dynamicMap();
    expect(m.length).toBe(256);
    for (let i = 1; i < 256; i++) expect(m[i]!).toBeGreaterThan(m[i - 1]!);
    expect(m[127]).toBe(0);
    expect(m[255]).toBe(1);
    for (let k = 0; k < 127; k++) expect(m[k]).toBe(-m[254 - k]!);
    // Spot values (float32): smallest positive 1e-6·0.55, top decade 0.1 + 0.9/128, largest below 1.
    expect(m[128]).toBe(f32(5.5e-7));
    expect(m[129]).toBe(f32(3.25e-6));
    expect(m[191]).toBe(0.10703125596046448); // float32 linspace boundaries: not f32(0.10703125)
    expect(m[254]).toBe(f32(0.99296875));
    expect(m[0]).toBe(f32(-0.99296875));
    // Regression lock on all 256 float32 bit patterns (FNV-1a), taken when the map was checked entry by entry
    // against a published dump of bnb's map.
    let h = 0x811c9dc5;
    for (const byte of new Uint8Array(m.buffer, m.byteOffset, m.byteLength)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
    expect(h).toBe(DYNAMIC_MAP_FNV);
    expect(createDynamicMap()).toEqual(m);
    // H8: the largest half-gap over [−1, 1], including the gap from −1 to the smallest entry.
    let maxHalfGap = (m[0]! + 1) / 2;
    for (let i = 1; i < 256; i++) maxHalfGap = Math.max(maxHalfGap, (m[i]! - m[i - 1]!) / 2);
    expect(maxHalfGap).toBeCloseTo(H8, 7);
  });

  it('quantizeToMap (bnb dQuantize<0>) returns a nearest map entry', () => {
    const m = dynamicMap();
    const rng = new Rng(4);
    let notNearest = 0;
    for (let k = 0; k < 6000; k++) {
      const z = f32((rng.next() * 2 - 1) * [1, 0.03, 1e-4, 2e-6][k % 4]!);
      const q = quantizeToMap(m, z);
      let best = 0;
      for (let j = 1; j < 256; j++) if (Math.abs(m[j]! - z) < Math.abs(m[best]! - z)) best = j;
      if (Math.abs(m[q]! - z) > Math.abs(m[best]! - z)) notNearest++;
    }
    expect(notNearest).toBe(0);
    expect(quantizeToMap(m, -1)).toBe(0);
    expect(quantizeToMap(m, 1)).toBe(255);
    expect(quantizeToMap(m, 0)).toBe(127);
  });
});

/** FNV-1a of the 1024 bytes of the dynamic map (little-endian float32). */
const DYNAMIC_MAP_FNV = 0x20b9f5fc;

describe('packing', () => {
  it('puts the first element in the high nibble and pads an odd tail with the code of 0.0', () => {
    expect(Array.from(packNf4Codes(Uint8Array.from([1, 2, 15, 0])))).toEqual([0x12, 0xf0]);
    expect(Array.from(packNf4Codes(Uint8Array.from([3, 4, 5])))).toEqual([0x34, 0x57]);
    const q = quantizeNf4({ shape: [3], data: Float32Array.from([-1, 1, 0.5]) }, { doubleQuant: false });
    expect(Array.from(q.packed)).toEqual([(0 << 4) | 15, (nf4Index(0.5) << 4) | NF4_ZERO_CODE]);
  });

  it('round-trips random codes of even and odd length', () => {
    const rng = new Rng(5);
    for (const n of [0, 1, 2, 63, 64, 1001]) {
      const codes = Uint8Array.from({ length: n }, () => rng.int(16));
      const packed = packNf4Codes(codes);
      expect(packed.length).toBe(Math.ceil(n / 2));
      expect(unpackNf4Codes(packed, n)).toEqual(codes);
    }
    expect(() => packNf4Codes(Uint8Array.from([16]))).toThrow(/4 bits/);
  });
});

describe('quantize / dequantize', () => {
  it('holds the derived elementwise bound on normal weights of several shapes, with outliers, zero and constant blocks', () => {
    const worst: number[] = [];
    for (const [shape, seed] of [[[64, 64], 1], [[33, 97], 2], [[7, 13], 3], [[300, 256], 4], [[5000], 5]] as [number[], number][]) {
      const t = normalTensor(shape, seed, 0.02);
      const n = t.data.length;
      const rng = new Rng(seed + 100);
      for (let k = 0; k < Math.max(1, n / 500); k++) t.data[rng.int(n)] = f32(rng.normal() * 2); // ~100σ outliers
      if (n > 256) {
        t.data.fill(0, 64, 192); // two all-zero blocks
        t.data.fill(0.01, 192, 256); // a constant block
      }
      for (const doubleQuant of [true, false]) {
        const q = quantizeNf4(t, { doubleQuant });
        const r = maxBoundRatio(t, q);
        expect(r).toBeLessThanOrEqual(1);
        worst.push(r);
        if (n > 256) {
          const xh = dequantizeNf4(q).data;
          expect(xh.subarray(64, 192).every((v) => v === 0)).toBe(true); // ±0
        }
      }
    }
    // The NF4 part of the bound is attained closely (the −1 end gap), so the bound is not loose.
    expect(Math.max(...worst)).toBeGreaterThan(0.5);
  });

  it('has MSE < 0.0090 on N(0,1) weights (measured ≈ 0.00847 with and without double quantization)', () => {
    const t = normalTensor([512, 512], 7);
    const mse = (q: Nf4Quantized) => {
      const xh = dequantizeNf4(q).data;
      let s = 0;
      for (let i = 0; i < xh.length; i++) s += (t.data[i]! - xh[i]!) ** 2;
      return s / xh.length;
    };
    const withDq = mse(quantizeNf4(t));
    const without = mse(quantizeNf4(t, { doubleQuant: false }));
    expect(withDq).toBeLessThan(0.009);
    expect(without).toBeLessThan(0.009);
    expect(Math.abs(withDq / without - 1)).toBeLessThan(0.01);
  });

  it('reconstructs values that are exactly block_absmax × code', () => {
    const bs = 64;
    const nb = 40;
    const rng = new Rng(8);
    const data = new Float32Array(nb * bs);
    const scales = Array.from({ length: nb }, () => f32(0.001 + rng.next()));
    for (let b = 0; b < nb; b++) {
      for (let i = 0; i < bs; i++) data[b * bs + i] = f32(scales[b]! * NF4_CODE[i === 0 ? 15 : rng.int(16)]!);
    }
    const t = { shape: [nb, bs], data };
    const plain = quantizeNf4(t, { doubleQuant: false });
    expect(Array.from(plain.absmax)).toEqual(scales);
    expect(dequantizeNf4(plain).data).toEqual(data);
    // With double quantization the absmax survives exactly when it needs no 8-bit rounding (all blocks equal).
    const same = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) same[i] = f32(f32(0.37) * NF4_CODE[i % bs === 0 ? 0 : rng.int(16)]!);
    const dq = quantizeNf4({ shape: [nb, bs], data: same });
    expect(dequantizeNf4(dq).data).toEqual(same);
  });

  it('dequantizes row slices identically to the full tensor (blocks straddling rows)', () => {
    const t = normalTensor([33, 97], 9);
    const q = quantizeNf4(t);
    const full = dequantizeNf4(q).data;
    for (const [s, e] of [[0, 33], [0, 1], [5, 6], [10, 21], [32, 33], [7, 7]]) {
      const r = dequantizeNf4Rows(q, s!, e!);
      expect(r.shape).toEqual([e! - s!, 97]);
      expect(r.data).toEqual(full.slice(s! * 97, e! * 97));
    }
    expect(dequantizeNf4Range(q, 100, 300)).toEqual(full.slice(100, 300));
    expect(() => dequantizeNf4Rows(q, 0, 34)).toThrow(/rows/);
  });

  it('supports other block sizes, rejects unsupported ones and non-finite values', () => {
    const t = normalTensor([16, 64], 10);
    const q = quantizeNf4(t, { blockSize: 128 });
    expect(q.absmaxQ.length).toBe(8);
    expect(maxBoundRatio(t, q)).toBeLessThanOrEqual(1);
    expect(() => quantizeNf4(t, { blockSize: 100 })).toThrow(/block size/);
    const bad = normalTensor([64], 11);
    bad.data[3] = NaN;
    expect(() => quantizeNf4(bad)).toThrow(/non-finite/);
  });
});

describe('storage', () => {
  it('is 4 + 8/64 + 32/(64·256) ≈ 4.127 bits/weight with double quantization and 4.5 without', () => {
    const t = normalTensor([64, 4096], 12);
    const dq = quantizeNf4(t);
    const n = t.data.length;
    // packed n/2 + one byte per 64 + fp32 per 256 blocks + the fp32 offset
    expect(nf4StorageBits(dq)).toBe(((n / 2 + n / 64 + (4 * n) / (64 * 256) + 4) * 8) / n);
    expect(nf4StorageBits(dq)).toBeCloseTo(4 + 8 / 64 + 32 / (64 * 256), 3);
    expect(nf4StorageBits(quantizeNf4(t, { doubleQuant: false }))).toBe(4.5);
    // Formula used by the memory planner for tensors too big to quantize in a test (a 70B MLP matrix).
    const big = 8192 * 28672;
    expect((nf4StorageBytesFor(big) * 8) / big).toBeCloseTo(4.127, 3);
    expect(nf4StorageBytesFor(t.data.length)).toBe(dq.packed.length + dq.absmaxQ.length + 4 * dq.absmaxScale.length + 4);
    expect(nf4StorageBytesFor(91, { doubleQuant: false })).toBe(46 + 4 * 2);
  });
});

describe('state-dict serialization (bitsandbytes names)', () => {
  it('writes the bnb tensor names, dtypes, shapes and quant_state JSON, and reads them back', () => {
    const t = normalTensor([33, 97], 13);
    const q = quantizeNf4(t);
    const name = 'model.layers.0.self_attn.q_proj.weight';
    const sd = nf4ToStateDict(q, name, { dtype: 'bfloat16' });
    expect(Object.keys(sd).sort()).toEqual(
      [name, `${name}.absmax`, `${name}.quant_map`, `${name}.nested_absmax`, `${name}.nested_quant_map`, `${name}.${NF4_QUANT_STATE_SUFFIX}`].sort(),
    );
    expect(sd[name]).toMatchObject({ dtype: 'U8', shape: [Math.ceil((33 * 97) / 2), 1] });
    expect(sd[`${name}.absmax`]).toMatchObject({ dtype: 'U8', shape: [51] });
    expect(sd[`${name}.nested_absmax`]).toMatchObject({ dtype: 'F32', shape: [1] });
    expect(sd[`${name}.quant_map`]!.data).toEqual(NF4_CODE);
    expect(sd[`${name}.nested_quant_map`]!.data).toEqual(dynamicMap());
    const json = new TextDecoder().decode(sd[`${name}.${NF4_QUANT_STATE_SUFFIX}`]!.data as Uint8Array);
    expect(json).toMatch(/^\{"quant_type": "nf4", "blocksize": 64, "dtype": "bfloat16", "shape": \[33, 97\], "nested_blocksize": 256, "nested_dtype": "float32", "nested_offset": [-0-9.e]+\}$/);
    expect(JSON.parse(json).nested_offset).toBe(q.absmaxOffset);
    const back = nf4FromStateDict(sd, name);
    expect(back.doubleQuant).toBe(true);
    expect(dequantizeNf4(back).data).toEqual(dequantizeNf4(q).data);
    expect(nf4BlockAbsmax(back)).toEqual(nf4BlockAbsmax(q));
  });

  it('round-trips without double quantization (fp32 absmax) and rejects a foreign quant map', () => {
    const t = normalTensor([91], 14);
    const q = quantizeNf4(t, { doubleQuant: false });
    const sd = nf4ToStateDict(q);
    expect(Object.keys(sd).sort()).toEqual(['weight', 'weight.absmax', 'weight.quant_map', `weight.${NF4_QUANT_STATE_SUFFIX}`].sort());
    expect(sd['weight.absmax']).toMatchObject({ dtype: 'F32', shape: [2] });
    expect(dequantizeNf4(nf4FromStateDict(sd)).data).toEqual(dequantizeNf4(q).data);
    const fp4 = { ...sd, 'weight.quant_map': { dtype: 'F32' as const, shape: [16], data: new Float32Array(16) } };
    expect(() => nf4FromStateDict(fp4)).toThrow(/quant_map/);
    expect(() => nf4FromStateDict({ ...sd, weight: { dtype: 'U8', shape: [1, 1], data: new Uint8Array(1) } })).toThrow(/bytes/);
  });
});
