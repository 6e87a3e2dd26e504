/**
 * The runtime switch: open a model (+ optional adapter) as a CausalLM on ONNX Runtime or TensorFlow.js, and
 * describe it for the results.
 * - onnxruntime: the adapter is merged on the host (W0 + (α/r)·B·A), the merged weights exported to ONNX
 *   (cached by content hash in `cacheDir`) and run by onnxruntime-node;
 * - tfjs: `LlamaModel.forward`, with the adapter merged or attached as LoRA layers (`adapterMode`).
 */
import type { LlamaConfig } from '../model/config';
import { LlamaModel } from '../model/llama';
import type { LoraAdapter } from '../lora/adapter';
import { attachLora } from '../lora/attach';
import { OrtCausalLM, type OrtOptions } from '../onnx/runtime';
import type { WeightMap } from '../util/tensor';
import { checkAdapterFits } from '../lora/shape-check';
import { mergeLora } from '../recover/merge';
import type { CausalLM, Runtime } from './lm';
import { TfjsCausalLM } from './lm';
import type { SubjectDescription } from './subject';

export interface OpenCausalLMOptions extends OrtOptions {
  runtime: Runtime;
  config: LlamaConfig;
  /** HF-layout weights of the model (original, pruned, aligned, …). */
  weights: WeightMap;
  /** Model description for results ("loram-large", a directory, "pruned …"). */
  model: string;
  adapter?: LoraAdapter;
  /** Description of the adapter for results (required with an adapter). */
  adapterId?: string;
  /** 'merged' (default) or 'attached' (tfjs only). */
  adapterMode?: 'merged' | 'attached';
  /** ONNX export cache (onnxruntime only). */
  cacheDir?: string;
  /** ONNX graphs to export (default both logits and kv). */
  kinds?: ('logits' | 'kv')[];
  /** RoPE table rows for the ONNX export. */
  maxPositions?: number;
}

export async function openCausalLM(o: OpenCausalLMOptions): Promise<{ lm: CausalLM; describe: SubjectDescription }> {
  const mode = o.adapter ? (o.adapterMode ?? 'merged') : 'none';
  if (o.adapter && !o.adapterId) throw new Error('an adapter needs an adapterId describing it (for the results)');
  const describe: SubjectDescription = { model: o.model, adapter: mode, ...(o.adapterId && o.adapter ? { adapterId: o.adapterId } : {}) };
  let { config, weights } = o;
  if (o.adapter && mode === 'merged') ({ config, weights } = mergeLora(config, weights, o.adapter));
  if (o.runtime === 'onnxruntime') {
    if (mode === 'attached') throw new Error('adapterMode "attached" is a tfjs feature; ONNX Runtime evaluates merged adapters');
    if (!o.cacheDir) throw new Error('the onnxruntime runtime needs a cacheDir for its ONNX exports');
    const lm = await OrtCausalLM.fromWeights(config, weights, {
      cacheDir: o.cacheDir,
      kinds: o.kinds,
      maxPositions: o.maxPositions,
      provider: o.provider,
      threads: o.threads,
      spinning: o.spinning,
      logSeverityLevel: o.logSeverityLevel,
      description: `${o.model}${o.adapter ? ` + ${o.adapterId} (${mode})` : ''}`,
    });
    await lm.sessionInfo();
    return { lm, describe };
  }
  const model = LlamaModel.fromWeights(config, weights, { trainable: false });
  if (o.adapter && mode === 'attached') {
    try {
      checkAdapterFits(config, o.adapter, o.model);
      attachLora(model, o.adapter);
    } catch (e) {
      model.dispose();
      throw e;
    }
  }
  return { lm: new TfjsCausalLM(model, { ownsModel: true }), describe };
}
