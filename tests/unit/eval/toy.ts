/** Toy tokenizer and hand-checkable fake language models for the evaluation tests (not a test file). */
import type { CausalLM, GenerateOptions, GenerationOutput, TokenBatch } from '../../../src/loram/eval/lm';
import type { EvalTokenizer } from '../../../src/loram/eval/perplexity';

const ALPHABET = [...'abcdefghijklmnopqrstuvwxyz .,?!:é\n'];
export const BOS = 0;
export const EOS = 1;

/** One id per character (ids 2…), BOS 0, EOS 1. */
export class CharTokenizer implements EvalTokenizer {
  readonly bosId = BOS;
  readonly eosId = EOS;
  readonly padId = null;
  readonly vocabSize = ALPHABET.length + 2;
  encode(text: string, opts: { addBos?: boolean; addEos?: boolean } = {}): number[] {
    const ids = [...text].map((c) => {
      const i = ALPHABET.indexOf(c);
      if (i < 0) throw new Error(`toy tokenizer: no id for ${JSON.stringify(c)}`);
      return i + 2;
    });
    if (opts.addBos) ids.unshift(BOS);
    if (opts.addEos) ids.push(EOS);
    return ids;
  }
  decode(ids: readonly number[], opts: { skipSpecial?: boolean } = {}): string {
    return ids.map((i) => (i < 2 ? (opts.skipSpecial ? '' : i === BOS ? '<s>' : '</s>') : ALPHABET[i - 2]!)).join('');
  }
  id(c: string): number {
    return this.encode(c)[0]!;
  }
}

/**
 * A bigram "model": the logits at a position depend only on the token there, logits[next] = table(prev, next).
 * Padding must not matter, and it does not (each position sees only itself).
 */
export class BigramLM implements CausalLM {
  readonly runtime = 'tfjs' as const;
  readonly backend = 'fake';
  readonly backendDetail = 'bigram table';
  calls = 0;
  constructor(readonly vocabSize: number, private readonly table: (prev: number, next: number) => number, readonly maxLength = 64) {}
  async logits(b: TokenBatch): Promise<Float32Array> {
    this.calls++;
    const V = this.vocabSize;
    const out = new Float32Array(b.batch * b.seqLen * V);
    for (let p = 0; p < b.batch * b.seqLen; p++) for (let j = 0; j < V; j++) out[p * V + j] = this.table(b.ids[p]!, j);
    return out;
  }
  async generate(_p: readonly (readonly number[])[], _o: GenerateOptions): Promise<GenerationOutput[]> {
    throw new Error('not used');
  }
  async dispose(): Promise<void> {}
}
