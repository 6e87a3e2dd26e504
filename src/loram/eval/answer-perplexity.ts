/**
 * Answer-only perplexity of supervised examples: −log p summed over the tokens SFT trains on (the rows' labels:
 * completion / assistant tokens), the prompt serving only as context — what the SFT loss measures, on held-out
 * examples. Prompts are not scored: a model tuned on answers is not meant to predict its prompts, and their
 * perplexity after SFT says nothing about the answers (it explodes while the answers get right).
 */
import { IGNORE_INDEX } from '../model/loss';
import type { CausalLM } from './lm';
import { tokenLogProb } from './lm';

export interface LabelledRow {
  inputIds: Int32Array;
  /** The next token where it is scored, IGNORE_INDEX elsewhere. */
  labels: Int32Array;
}

export interface AnswerNll {
  /** Σ −log p over the scored tokens (nats). */
  nll: number;
  tokens: number;
}

/** One past the last scored position of a row (the positions after it cannot change the scores: causal). */
function scoredLength(r: LabelledRow): number {
  for (let t = r.labels.length - 1; t >= 0; t--) if (r.labels[t] !== IGNORE_INDEX) return t + 1;
  return 0;
}

export async function labelledNll(lm: CausalLM, rows: readonly LabelledRow[], opts: { batchSize?: number; onProgress?: (done: number, total: number) => void } = {}): Promise<AnswerNll> {
  const bs = opts.batchSize ?? 8;
  const V = lm.vocabSize;
  let nll = 0;
  let tokens = 0;
  for (let r0 = 0; r0 < rows.length; r0 += bs) {
    const group = rows.slice(r0, r0 + bs);
    // Each batch only as long as its longest scored prefix: the padding of short examples is not run.
    const T = Math.max(1, ...group.map(scoredLength));
    const ids = new Int32Array(group.length * T);
    group.forEach((r, b) => ids.set(r.inputIds.subarray(0, T), b * T));
    const logits = await lm.logits({ ids, batch: group.length, seqLen: T });
    group.forEach((r, b) => {
      for (let t = 0; t < T; t++) {
        const target = r.labels[t]!;
        if (target === IGNORE_INDEX) continue;
        if (target < 0 || target >= V) throw new Error(`token id ${target} is outside the vocabulary (size ${V})`);
        nll -= tokenLogProb(logits, (b * T + t) * V, V, target);
        tokens++;
      }
    });
    opts.onProgress?.(Math.min(r0 + bs, rows.length), rows.length);
  }
  return { nll, tokens };
}
