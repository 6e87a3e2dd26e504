/** acc / acc_norm / acc_bytes as lm-evaluation-harness computes them, on a hand-computed toy example. */
import os from 'node:os';
import path from 'node:path';
import { promises as fsp } from 'node:fs';
import { initBackend } from '../../../src/loram/backend/backend';
import { randomWeights } from '../../../src/loram/model/llama';
import { makeConfig } from '../../../src/loram/model/config';
import { encodePair, evaluateMultipleChoice, loglikelihoods, meanStderr, scoreChoices } from '../../../src/loram/eval/multiple-choice';
import { openCausalLM } from '../../../src/loram/eval/open';
import type { McItem } from '../../../src/loram/eval/datasets';
import { BigramLM, CharTokenizer } from './toy';

const tok = new CharTokenizer();
const V = tok.vocabSize;

describe('harness tokenization of (context, continuation)', () => {
  test('trailing whitespace of the context moves to the continuation', () => {
    const r = encodePair(tok, 'ab ', ' c');
    expect(r.context).toEqual(tok.encode('ab'));
    expect(r.continuation).toEqual(tok.encode('  c'));
  });
  test('an empty context becomes the prefix token', () => {
    expect(encodePair(tok, '', ' a')).toEqual({ context: [tok.bosId], continuation: tok.encode(' a') });
  });
});

describe('log-likelihoods', () => {
  test('sum of log p over the continuation tokens only (bigram table, by hand)', async () => {
    // p(next | prev) = 1/V except after ' ', where 'a' has logit ln 5: p(a | ' ') = 5 / (5 + V − 1).
    const lm = new BigramLM(V, (prev, next) => (prev === tok.id(' ') && next === tok.id('a') ? Math.log(5) : 0));
    const [ll1, ll2] = await loglikelihoods(lm, [encodePair(tok, 'x?', ' a'), encodePair(tok, 'x', ' bb')], { batchSize: 2 });
    expect(ll1).toBeCloseTo(Math.log(1 / V) + Math.log(5 / (5 + V - 1)), 6);
    expect(ll2).toBeCloseTo(Math.log(1 / V) + Math.log(1 / (5 + V - 1)) + Math.log(1 / V), 6);
  });

  test('contexts longer than the model are left-truncated', async () => {
    const lm = new BigramLM(V, () => 0, 4);
    const [ll] = await loglikelihoods(lm, [encodePair(tok, 'abcdefgh', ' z')]);
    expect(ll).toBeCloseTo(2 * Math.log(1 / V), 6);
  });
});

describe('acc, acc_norm, acc_bytes', () => {
  test('hand-computed toy example (uniform model: ll = −(1 + len) · ln V)', async () => {
    const lm = new BigramLM(V, () => 0);
    const items: McItem[] = [
      // lls −2 ln V, −4 ln V → acc picks "a" (wrong); per char −2 ln V vs −4/3 ln V → acc_norm picks "bbb" (right).
      { id: 'short-vs-long', line: 1, context: 'x?', choices: ['a', 'bbb'], answer: 1 },
      // equal lls → the first index wins (numpy argmax) for every metric; answer 0 → all right.
      { id: 'tie', line: 2, context: 'x', choices: ['c', 'a'], answer: 0 },
      // 'é' is 1 character but 2 UTF-8 bytes: lls −2 ln V ("é"), −3 ln V ("ab").
      // acc → 0 (wrong); acc_norm: −2 vs −1.5 (× ln V) → 1 (right); acc_bytes: −1 vs −1.5 → 0 (wrong).
      { id: 'non-ascii', line: 3, context: 'x', choices: ['é', 'ab'], answer: 1 },
    ];
    const r = await evaluateMultipleChoice(lm, tok, { source: 'toy', items }, { model: 'bigram', adapter: 'none' }, { batchSize: 4 });
    const L = Math.log(V);
    expect(r.items!.map((i) => i.lls.map((x) => x / L))).toEqual([
      [expect.closeTo(-2, 5), expect.closeTo(-4, 5)],
      [expect.closeTo(-2, 5), expect.closeTo(-2, 5)],
      [expect.closeTo(-2, 5), expect.closeTo(-3, 5)],
    ]);
    expect(r.items!.map((i) => [i.acc, i.accNorm, i.accBytes])).toEqual([
      [0, 1, 1],
      [1, 1, 1],
      [0, 1, 0],
    ]);
    expect(r.n).toBe(3);
    expect(r.acc).toBeCloseTo(1 / 3, 12);
    expect(r.accNorm).toBe(1);
    expect(r.accBytes).toBeCloseTo(2 / 3, 12);
    // harness mean_stderr: sample stddev / √n. For [0,1,0]: sd = √(1/3), stderr = √(1/3)/√3 = 1/3.
    expect(r.accStderr).toBeCloseTo(1 / 3, 12);
    expect(r.accNormStderr).toBe(0);
    expect(r.subject).toEqual({ model: 'bigram', adapter: 'none', runtime: 'tfjs', backend: 'fake', backendDetail: 'bigram table' });
  });

  test('scoreChoices and meanStderr directly', () => {
    expect(scoreChoices([-3, -2.5], ['aaa', 'b'], 0)).toMatchObject({ pred: 1, predNorm: 0, acc: 0, accNorm: 1 });
    expect(meanStderr([1, 0, 1, 1])).toEqual({ mean: 0.75, stderr: expect.closeTo(0.25, 12) });
  });
});

describe('both runtimes agree on a random model', () => {
  let tmp: string;
  beforeAll(async () => {
    await initBackend();
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'loram-eval-mc-'));
  });
  afterAll(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  test('same log-likelihoods (1e-4) and the same accuracies from onnxruntime and tfjs', async () => {
    const cfg = makeConfig({ vocabSize: V, hiddenSize: 32, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 48, maxPositionEmbeddings: 64 });
    const weights = randomWeights(cfg, 3, 0.3);
    const items: McItem[] = [
      { id: '1', line: 1, context: 'the cat sat on the', choices: ['mat', 'dog', 'moon, quietly'], answer: 0 },
      { id: '2', line: 2, context: 'is it true?', choices: ['yes', 'no'], answer: 1 },
      { id: '3', line: 3, context: 'a b c d e f g', choices: ['h', 'i j k', 'z'], answer: 0 },
    ];
    const results = [];
    for (const runtime of ['onnxruntime', 'tfjs'] as const) {
      const { lm, describe } = await openCausalLM({ runtime, config: cfg, weights, model: 'random', cacheDir: tmp, kinds: ['logits'], threads: 1 });
      results.push(await evaluateMultipleChoice(lm, tok, { source: 'inline', items }, describe, { batchSize: 3 }));
      await lm.dispose();
    }
    const [ort, tfjs] = results as [Awaited<ReturnType<typeof evaluateMultipleChoice>>, Awaited<ReturnType<typeof evaluateMultipleChoice>>];
    expect(ort.subject.runtime).toBe('onnxruntime');
    expect(ort.subject.backend).toBe('cpu');
    expect(tfjs.subject.runtime).toBe('tfjs');
    ort.items!.forEach((it, i) => it.lls.forEach((l, j) => expect(Math.abs(l - tfjs.items![i]!.lls[j]!) / Math.abs(l)).toBeLessThan(1e-4)));
    expect([ort.acc, ort.accNorm, ort.accBytes]).toEqual([tfjs.acc, tfjs.accNorm, tfjs.accBytes]);
  });
});
