/** Generation samples for a list of prompts (greedy or sampled), recorded with what produced them. */
import type { CausalLM, GenerateOptions, GenerationOutput } from './lm';
import type { EvalTokenizer } from './perplexity';
import type { EvalSubject, SubjectDescription } from './subject';
import { subjectOf } from './subject';

export interface SampleOptions extends Omit<GenerateOptions, 'stopTokens'> {
  /** Stop ids (default: the tokenizer's EOS, if any). */
  stopTokens?: readonly number[];
  /** Prepend BOS to each prompt (default: true when the tokenizer has BOS). */
  addBos?: boolean;
  /** Prompts per generate call (default 8). */
  batchSize?: number;
  /** After each generate call: prompts done, of all. */
  onProgress?: (done: number, total: number) => void;
}

export interface GenerationSample {
  prompt: string;
  completion: string;
  promptTokens: number;
  tokens: number[];
  stopReason: GenerationOutput['stopReason'];
}

export interface GenerationResult {
  kind: 'generation';
  subject: EvalSubject;
  settings: { maxNewTokens: number; temperature: number; topP: number; topK: number; seed: number; stopTokens: number[] };
  samples: GenerationSample[];
  generatedTokens: number;
  elapsedMs: number;
}

export async function generateSamples(lm: CausalLM, tok: EvalTokenizer, prompts: readonly string[], describe: SubjectDescription, opts: SampleOptions): Promise<GenerationResult> {
  const t0 = performance.now();
  const stopTokens = [...(opts.stopTokens ?? (tok.eosId !== null ? [tok.eosId] : []))];
  const addBos = opts.addBos ?? tok.bosId !== null;
  const encoded = prompts.map((p, i) => {
    const ids = tok.encode(p, { addBos });
    if (ids.length === 0) throw new Error(`prompt ${i} encodes to no tokens (add BOS or a non-empty prompt)`);
    return ids;
  });
  const bs = opts.batchSize ?? 8;
  const samples: GenerationSample[] = [];
  const { onProgress, ...gen } = opts;
  for (let i = 0; i < encoded.length; i += bs) {
    const outs = await lm.generate(encoded.slice(i, i + bs), { ...gen, stopTokens });
    outs.forEach((o, j) => {
      const k = i + j;
      samples.push({ prompt: prompts[k]!, completion: tok.decode(o.tokens, { skipSpecial: true }), promptTokens: encoded[k]!.length, tokens: o.tokens, stopReason: o.stopReason });
    });
    onProgress?.(samples.length, encoded.length);
  }
  return {
    kind: 'generation',
    subject: subjectOf(lm, describe),
    settings: { maxNewTokens: opts.maxNewTokens, temperature: opts.temperature ?? 0, topP: opts.topP ?? 1, topK: opts.topK ?? 0, seed: opts.seed ?? 0, stopTokens },
    samples,
    generatedTokens: samples.reduce((a, s) => a + s.tokens.length, 0),
    elapsedMs: performance.now() - t0,
  };
}
