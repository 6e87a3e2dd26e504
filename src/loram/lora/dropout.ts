/**
 * LoRA dropout masks, drawn the same way by every backend: the keep-mask of a module's input is a function of the
 * micro-batch seed and the module's key alone, so the tfjs and ONNX Runtime trainers see identical masks, and an
 * activation-checkpointed layer recomputes with the masks of its first pass.
 */

/** FNV-1a of the key mixed with the seed (splitmix32 finaliser): one stream per (seed, module). */
export function dropoutStreamSeed(seed: number, key: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * 1 = keep, 0 = drop, for `n` elements at drop probability `rate`: a xorshift32 stream, two 16-bit draws per word
 * (the rate is resolved to 1/65536, which no training run can tell apart), fast enough to run every step.
 * `into` (n elements) is overwritten and returned: a trainer that draws every step reuses one buffer, since each
 * step's fresh masks stay resident as garbage until V8 collects them (bench/loram-memory: 2.4× the masks' bytes).
 */
export function dropoutKeepMask(seed: number, key: string, n: number, rate: number, into?: Uint8Array): Uint8Array {
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropout rate must be in [0, 1), got ${rate}`);
  if (into && into.length !== n) throw new Error(`dropout mask buffer has ${into.length} elements, expected ${n}`);
  const keep = into ?? new Uint8Array(n);
  const threshold = Math.round(rate * 65536);
  let s = dropoutStreamSeed(seed, key) || 0x9e3779b9;
  for (let i = 0; i < n; i += 2) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    keep[i] = (s & 0xffff) >= threshold ? 1 : 0;
    if (i + 1 < n) keep[i + 1] = s >>> 16 >= threshold ? 1 : 0;
  }
  return keep;
}

/** The inverted-dropout multiplier: keep / (1 − rate), as a float mask. */
export function dropoutScaleMask(seed: number, key: string, n: number, rate: number): Float32Array {
  const keep = dropoutKeepMask(seed, key, n, rate);
  const k = 1 / (1 - rate);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = keep[i]! * k;
  return out;
}
