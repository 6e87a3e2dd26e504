/**
 * NF4 on a model's host weights: every decoder linear quantized and dequantized again (embeddings and lm_head
 * kept, as QLoRA does). This is what an NF4 base computes with; the Quantize node reports its storage and error,
 * Evaluate runs on the result.
 */
import type { LlamaConfig } from '../model/config';
import { LINEAR_MODULES, linearName } from '../model/config';
import type { WeightMap } from '../util/tensor';
import { dequantizeNf4, nf4StorageBytes, quantizeNf4 } from './nf4';

export interface Nf4RoundTrip {
  /** The weights with every decoder linear replaced by its dequantized NF4 copy. */
  weights: WeightMap;
  /** Decoder linear weights quantized, and the bytes their NF4 form takes. */
  params: number;
  bytes: number;
  /** ‖W − deq(q(W))‖ / ‖W‖ over all of them. */
  relativeRmsError: number;
}

/** `afterLayer` runs after each decoder layer (a progress tick, which may throw to cancel). */
export async function nf4RoundTrip(
  config: LlamaConfig,
  weights: WeightMap,
  opts: { blockSize: number; doubleQuant: boolean },
  afterLayer?: (layer: number) => void | Promise<void>,
): Promise<Nf4RoundTrip> {
  const out: WeightMap = new Map(weights);
  let params = 0;
  let bytes = 0;
  let se = 0;
  let ss = 0;
  for (let i = 0; i < config.numLayers; i++) {
    for (const mod of LINEAR_MODULES) {
      const name = linearName(i, mod);
      const w = weights.get(name);
      if (!w || !w.data.length) continue;
      const q = quantizeNf4(w, opts);
      const d = dequantizeNf4(q);
      for (let k = 0; k < d.data.length; k++) {
        const e = d.data[k]! - w.data[k]!;
        se += e * e;
        ss += w.data[k]! * w.data[k]!;
      }
      out.set(name, d);
      params += w.data.length;
      bytes += nf4StorageBytes(q);
    }
    await afterLayer?.(i);
  }
  return { weights: out, params, bytes, relativeRmsError: ss ? Math.sqrt(se / ss) : 0 };
}
