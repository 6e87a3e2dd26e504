/**
 * What an evaluation result was computed on, so results from different runs line up in a comparison:
 * the model (original / pruned / …), the adapter and how it was applied, the runtime and its backend.
 */
import type { CausalLM, Runtime } from './lm';

export type AdapterMode = 'none' | 'merged' | 'attached';

/** Supplied by the caller: which model and adapter this is. */
export interface SubjectDescription {
  /** Model description or id, e.g. "loram-large", "loram-large pruned (stru, 50%)", or a directory. */
  model: string;
  /** 'none'; 'merged' (W0 + (α/r)·B·A baked into the weights); 'attached' (LoRA layers at run time, tfjs only). */
  adapter: AdapterMode;
  /** Which adapter (id, directory or description) when adapter ≠ 'none'. */
  adapterId?: string;
}

export interface EvalSubject extends SubjectDescription {
  runtime: Runtime;
  /** 'cpu' | 'cuda' (ONNX Runtime execution provider) or the tfjs backend ('wasm', 'tensorflow', …). */
  backend: string;
  backendDetail: string;
}

export function subjectOf(lm: CausalLM, d: SubjectDescription): EvalSubject {
  if (d.adapter !== 'none' && !d.adapterId) throw new Error(`adapter is "${d.adapter}" but no adapterId says which adapter`);
  return { model: d.model, adapter: d.adapter, ...(d.adapterId ? { adapterId: d.adapterId } : {}), runtime: lm.runtime, backend: lm.backend, backendDetail: lm.backendDetail };
}
