/**
 * A deliberately naive LLaMA forward in float64 loops, written from the HF modeling_llama formulas
 * (rotate_half RoPE, repeat_kv GQA, SwiGLU, RMSNorm), used only as an independent check of the tfjs model.
 */
import type { LlamaConfig } from '../../src/loram/model/config';
import { ropeInvFreq } from '../../src/loram/model/rope';
import type { WeightMap } from '../../src/loram/util/tensor';

function lin(w: WeightMap, name: string, x: Float64Array, bias?: string): Float64Array {
  const W = w.get(name)!;
  const [out, inn] = W.shape as [number, number];
  const y = new Float64Array(out);
  const b = bias ? w.get(bias) : undefined;
  for (let o = 0; o < out; o++) {
    let s = b ? b.data[o]! : 0;
    for (let i = 0; i < inn; i++) s += W.data[o * inn + i]! * x[i]!;
    y[o] = s;
  }
  return y;
}

function rms(x: Float64Array, w: Float32Array, eps: number): Float64Array {
  let ms = 0;
  for (const v of x) ms += v * v;
  ms /= x.length;
  const r = 1 / Math.sqrt(ms + eps);
  return x.map((v, i) => v * r * w[i]!);
}

function rope(x: Float64Array, pos: number, hd: number, inv: Float64Array): Float64Array {
  const half = hd / 2;
  const out = new Float64Array(hd);
  for (let i = 0; i < hd; i++) {
    const f = inv[i % half]!;
    const c = Math.cos(pos * f);
    const s = Math.sin(pos * f);
    const rot = i < half ? -x[i + half]! : x[i - half]!;
    out[i] = x[i]! * c + rot * s;
  }
  return out;
}

/** Logits [T][V] for one sequence. */
export function referenceLogits(cfg: LlamaConfig, w: WeightMap, ids: number[]): Float64Array[] {
  const H = cfg.hiddenSize;
  const hd = cfg.headDim;
  const inv = ropeInvFreq(cfg);
  const E = w.get('model.embed_tokens.weight')!;
  let hs = ids.map((id) => Float64Array.from(E.data.subarray(id * H, (id + 1) * H)));
  cfg.layers.forEach((l, li) => {
    const p = `model.layers.${li}`;
    const nh = l.num_attention_heads;
    const nkv = l.num_key_value_heads;
    const g = nh / nkv;
    const xs = hs.map((h) => rms(h, w.get(`${p}.input_layernorm.weight`)!.data, cfg.rmsNormEps));
    const bias = (m: string) => (cfg.attentionBias ? `${p}.self_attn.${m}.bias` : undefined);
    const Q = xs.map((x) => lin(w, `${p}.self_attn.q_proj.weight`, x, bias('q_proj')));
    const K = xs.map((x) => lin(w, `${p}.self_attn.k_proj.weight`, x, bias('k_proj')));
    const Vv = xs.map((x) => lin(w, `${p}.self_attn.v_proj.weight`, x, bias('v_proj')));
    const attnOut = hs.map(() => new Float64Array(nh * hd));
    for (let h = 0; h < nh; h++) {
      const kvh = Math.floor(h / g);
      for (let t = 0; t < ids.length; t++) {
        const q = rope(Q[t]!.subarray(h * hd, (h + 1) * hd), t, hd, inv);
        const scores: number[] = [];
        for (let s = 0; s <= t; s++) {
          const k = rope(K[s]!.subarray(kvh * hd, (kvh + 1) * hd), s, hd, inv);
          let d = 0;
          for (let i = 0; i < hd; i++) d += q[i]! * k[i]!;
          scores.push(d / Math.sqrt(hd));
        }
        const mx = Math.max(...scores);
        const e = scores.map((x) => Math.exp(x - mx));
        const z = e.reduce((a, b) => a + b, 0);
        for (let s = 0; s <= t; s++) {
          for (let i = 0; i < hd; i++) attnOut[t]![h * hd + i]! += (e[s]! / z) * Vv[s]![kvh * hd + i]!;
        }
      }
    }
    hs = hs.map((h, t) => {
      const o = nh > 0 ? lin(w, `${p}.self_attn.o_proj.weight`, attnOut[t]!, bias('o_proj')) : new Float64Array(H);
      const h1 = h.map((v, i) => v + o[i]!);
      if (l.intermediate_size === 0) return h1;
      const x2 = rms(h1, w.get(`${p}.post_attention_layernorm.weight`)!.data, cfg.rmsNormEps);
      const gt = lin(w, `${p}.mlp.gate_proj.weight`, x2);
      const up = lin(w, `${p}.mlp.up_proj.weight`, x2);
      const act = gt.map((v, i) => (v / (1 + Math.exp(-v))) * up[i]!);
      const d = lin(w, `${p}.mlp.down_proj.weight`, act);
      return h1.map((v, i) => v + d[i]!);
    });
  });
  const head = cfg.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
  return hs.map((h) => lin(w, head, rms(h, w.get('model.norm.weight')!.data, cfg.rmsNormEps)));
}
