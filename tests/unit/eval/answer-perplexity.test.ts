/** Answer-only perplexity: exactly the SFT label tokens are scored, with the prompt as context. */
import { labelledNll } from '../../../src/loram/eval/answer-perplexity';
import { sftRow } from '../../../src/loram/data/sft';
import { BigramLM, BOS, CharTokenizer, EOS } from './toy';

const tok = new CharTokenizer();
const V = tok.vocabSize;
// p(next | prev) ∝ exp(table): prev's successor in the alphabet is 2 nats likelier than anything else.
const table = (prev: number, next: number) => (next === prev + 1 ? 2 : 0);
const logp = (prev: number, next: number) => table(prev, next) - Math.log(Math.exp(2) + (V - 1));

/** BOS + prompt (not trained) + answer + EOS (trained). */
function example(prompt: string, answer: string) {
  const ids = [BOS, ...tok.encode(prompt), ...tok.encode(answer), EOS];
  const trained = ids.map((_, i) => (i > prompt.length ? 1 : 0));
  return { ids, trained };
}

describe('labelledNll', () => {
  test('scores the answer tokens and EOS, each given everything before it; prompts are not scored', async () => {
    const lm = new BigramLM(V, table);
    const a = example('what is', ' bc');
    const b = example('hi', ' d');
    const rows = [sftRow(a, 16, 0), sftRow(b, 16, 0)];
    const r = await labelledNll(lm, rows, { batchSize: 2 });
    const expected = [a, b].reduce((sum, e) => {
      let s = sum;
      for (let t = 1; t < e.ids.length; t++) if (e.trained[t]) s -= logp(e.ids[t - 1]!, e.ids[t]!);
      return s;
    }, 0);
    expect(r.tokens).toBe(4 + 3);
    expect(r.nll).toBeCloseTo(expected, 10);
    // One row per pass gives the same sums (batches are cut to their longest scored prefix, padding never scored).
    const one = await labelledNll(new BigramLM(V, table), rows, { batchSize: 1 });
    expect(one.nll).toBeCloseTo(r.nll, 10);
    expect(one.tokens).toBe(r.tokens);
  });

  test('a row cut before its answer contributes nothing; progress reaches the total', async () => {
    const cut = sftRow(example('a long prompt', ' x'), 8, 0);
    const seen: [number, number][] = [];
    const r = await labelledNll(new BigramLM(V, table), [cut, sftRow(example('q', ' z'), 8, 0)], { batchSize: 1, onProgress: (d, t) => seen.push([d, t]) });
    expect(r.tokens).toBe(3);
    expect(seen).toEqual([[1, 2], [2, 2]]);
  });
});
