/**
 * Rotary position embeddings, HF LLaMA convention ("rotate_half": the first half of each head pairs with the
 * second half), including LLaMA-3's rope_scaling ("llama3": frequency-dependent interpolation).
 */
import type { LlamaConfig } from './config';

/** Inverse frequencies, length headDim/2, after rope_scaling. */
export function ropeInvFreq(cfg: Pick<LlamaConfig, 'headDim' | 'ropeTheta' | 'ropeScaling'>): Float64Array {
  const half = cfg.headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(cfg.ropeTheta, (2 * i) / cfg.headDim);
  const s = cfg.ropeScaling;
  const type = s?.rope_type ?? s?.type;
  if (!s || !type || type === 'default') return inv;
  if (type === 'linear') {
    const f = s.factor ?? 1;
    return inv.map((x) => x / f);
  }
  if (type === 'llama3') {
    // transformers' _compute_llama3_parameters
    const factor = s.factor ?? 8;
    const low = s.low_freq_factor ?? 1;
    const high = s.high_freq_factor ?? 4;
    const oldCtx = s.original_max_position_embeddings ?? 8192;
    const lowWavelen = oldCtx / low;
    const highWavelen = oldCtx / high;
    return inv.map((f) => {
      const wavelen = (2 * Math.PI) / f;
      if (wavelen > lowWavelen) return f / factor;
      if (wavelen < highWavelen) return f;
      const smooth = (oldCtx / wavelen - low) / (high - low);
      return (1 - smooth) * (f / factor) + smooth * f;
    });
  }
  throw new Error(`rope_scaling type "${type}" is not supported (supported: default, linear, llama3)`);
}

/** cos and sin tables of shape [positions, headDim] (each frequency repeated for both halves). */
export function ropeTables(cfg: Pick<LlamaConfig, 'headDim' | 'ropeTheta' | 'ropeScaling'>, positions: number, offset = 0): { cos: Float32Array; sin: Float32Array } {
  const inv = ropeInvFreq(cfg);
  const hd = cfg.headDim;
  const half = hd / 2;
  const cos = new Float32Array(positions * hd);
  const sin = new Float32Array(positions * hd);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < half; i++) {
      const a = (p + offset) * inv[i]!;
      const c = Math.cos(a);
      const s = Math.sin(a);
      cos[p * hd + i] = c;
      cos[p * hd + i + half] = c;
      sin[p * hd + i] = s;
      sin[p * hd + i + half] = s;
    }
  }
  return { cos, sin };
}

/** R with x·R = rotate_half(x) = concat(−x₂, x₁), so RoPE is x⊙cos + (x·R)⊙sin: one fast matMul, no slicing. */
export function rotateHalfMatrix(hd: number): Float32Array {
  const half = hd / 2;
  const r = new Float32Array(hd * hd);
  for (let i = 0; i < half; i++) {
    r[(i + half) * hd + i] = -1; // out[i] = −x[i+half]
    r[i * hd + (i + half)] = 1; // out[i+half] = x[i]
  }
  return r;
}
