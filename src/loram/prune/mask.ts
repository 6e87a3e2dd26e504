/**
 * Bit-packed weight masks: one bit per weight of an [out, in] matrix, row-major, least significant bit first,
 * 1 = kept, 0 = pruned. 1/32 of the weight's f32 size.
 */
import type { HostTensor } from '../util/tensor';
import { shapeStr } from '../util/tensor';

export interface PackedMask {
  shape: [number, number];
  bits: Uint8Array;
}

/** Pack a 0/1 (or boolean) per-weight array. */
export function packMask(keep: ArrayLike<number | boolean>, shape: [number, number]): PackedMask {
  const n = shape[0] * shape[1];
  if (keep.length !== n) throw new Error(`packMask: ${keep.length} values for shape ${shapeStr(shape)}`);
  const bits = new Uint8Array(Math.ceil(n / 8));
  for (let i = 0; i < n; i++) if (keep[i]) bits[i >> 3]! |= 1 << (i & 7);
  return { shape: [...shape] as [number, number], bits };
}

/** 1 = kept, 0 = pruned, one byte per weight. */
export function unpackMask(m: PackedMask): Uint8Array {
  const n = m.shape[0] * m.shape[1];
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (m.bits[i >> 3]! >> (i & 7)) & 1;
  return out;
}

export function countKept(m: PackedMask): number {
  const n = m.shape[0] * m.shape[1];
  let c = 0;
  for (let i = 0; i < n; i++) c += (m.bits[i >> 3]! >> (i & 7)) & 1;
  return c;
}

/** t ⊙ M as a new tensor; shapes must agree. */
export function applyMask(t: HostTensor, m: PackedMask, what = 'tensor'): HostTensor {
  if (t.shape.length !== 2 || t.shape[0] !== m.shape[0] || t.shape[1] !== m.shape[1]) {
    throw new Error(`${what} has shape ${shapeStr(t.shape)} but its mask is ${shapeStr(m.shape)}`);
  }
  const out = new Float32Array(t.data.length);
  for (let i = 0; i < out.length; i++) if ((m.bits[i >> 3]! >> (i & 7)) & 1) out[i] = t.data[i]!;
  return { shape: [...t.shape], data: out };
}

export function maskToBase64(m: PackedMask): string {
  return Buffer.from(m.bits.buffer, m.bits.byteOffset, m.bits.byteLength).toString('base64');
}

export function maskFromBase64(s: string, shape: [number, number]): PackedMask {
  const bits = new Uint8Array(Buffer.from(s, 'base64'));
  const need = Math.ceil((shape[0] * shape[1]) / 8);
  if (bits.length !== need) throw new Error(`mask for shape ${shapeStr(shape)} needs ${need} bytes, got ${bits.length}`);
  return { shape: [...shape] as [number, number], bits };
}
