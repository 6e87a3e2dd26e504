/** Perplexity: window plan, exact token weighting, and agreement of the two runtimes (1e-4 relative). */
import os from 'node:os';
import path from 'node:path';
import { promises as fsp } from 'node:fs';
import { initBackend } from '../../../src/loram/backend/backend';
import { makeConfig } from '../../../src/loram/model/config';
import { LlamaModel, randomWeights } from '../../../src/loram/model/llama';
import { rightPad, TfjsCausalLM } from '../../../src/loram/eval/lm';
import { loadLmDataset } from '../../../src/loram/eval/datasets';
import { openCausalLM } from '../../../src/loram/eval/open';
import { evaluatePerplexity, lmStreams, slidingWindows, streamsNll } from '../../../src/loram/eval/perplexity';
import { generateSamples } from '../../../src/loram/eval/generate';
import type { EvalTokenizer } from '../../../src/loram/eval/perplexity';
import type { LoadedTokenizer } from '../../../src/loram/tokenizer/tokenizer';
import { BigramLM, CharTokenizer } from './toy';

// Compile-time check: the project's tokenizer is an EvalTokenizer.
export const tokenizerFits = (t: LoadedTokenizer): EvalTokenizer => t;

const tok = new CharTokenizer();
const V = tok.vocabSize;

describe('sliding windows', () => {
  test('overlapping windows score every token but the first exactly once', () => {
    expect(slidingWindows(10, 4, 2)).toEqual([
      { stream: 0, begin: 0, end: 4, scoreFrom: 1 },
      { stream: 0, begin: 2, end: 6, scoreFrom: 4 },
      { stream: 0, begin: 4, end: 8, scoreFrom: 6 },
      { stream: 0, begin: 6, end: 10, scoreFrom: 8 },
    ]);
    // Disjoint windows: a window's first token has no context in it and is not scored (as in the HF guide).
    expect(slidingWindows(10, 4, 4).map((w) => [w.begin, w.end, w.scoreFrom])).toEqual([[0, 4, 1], [4, 8, 5], [8, 10, 9]]);
    for (const [n, c, s] of [[37, 8, 3], [5, 8, 8], [64, 16, 15], [2, 2, 1]] as const) {
      const scored = slidingWindows(n, c, s).flatMap((w) => Array.from({ length: w.end - w.scoreFrom }, (_, k) => w.scoreFrom + k));
      expect(scored).toEqual(Array.from({ length: n - 1 }, (_, k) => k + 1));
    }
    expect(slidingWindows(1, 4, 4)).toEqual([]);
    expect(() => slidingWindows(10, 4, 5)).toThrow(/stride/);
  });
});

describe('token-weighted NLL', () => {
  test('a uniform model has perplexity V, whatever the windows', async () => {
    const lm = new BigramLM(V, () => 0);
    const stream = tok.encode('the quick brown fox jumps over the lazy dog.');
    for (const [c, s] of [[8, 8], [8, 3], [16, 1]] as const) {
      const r = await streamsNll(lm, [stream], { contextLength: c, stride: s, batchSize: 3 });
      expect(r.tokens).toBe(stream.length - (c === s ? Math.ceil(stream.length / c) : 1));
      expect(Math.exp(r.nll / r.tokens)).toBeCloseTo(V, 6);
    }
  });

  test('a bigram model, by hand: "xaxa…" with p(a|x) = 1/2', async () => {
    // After x: logit(a) = ln(V − 1), others 0 → p(a|x) = (V−1)/(2(V−1)) = 1/2. After a: uniform, p(x|a) = 1/V.
    const x = tok.id('x');
    const a = tok.id('a');
    const lm = new BigramLM(V, (prev, next) => (prev === x && next === a ? Math.log(V - 1) : 0));
    const stream = tok.encode('xaxaxaxax'); // 8 scored tokens: a,x,a,x,a,x,a,x
    const r = await streamsNll(lm, [stream], { contextLength: 4, stride: 2 });
    expect(r.tokens).toBe(8);
    expect(r.nll).toBeCloseTo(4 * Math.log(2) + 4 * Math.log(V), 6);
  });

  test('documents are joined with EOS (or kept separate)', () => {
    expect(lmStreams(tok, ['ab', 'c'])).toEqual({ streams: [[...tok.encode('ab'), tok.eosId, ...tok.encode('c')]], joinedWith: 'eos' });
    expect(lmStreams(tok, ['ab', 'c'], { joinDocuments: false, addBos: true }).streams).toEqual([tok.encode('ab', { addBos: true }), tok.encode('c', { addBos: true })]);
  });
});

describe('perplexity from both runtimes', () => {
  let tmp: string;
  beforeAll(async () => {
    await initBackend();
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'loram-eval-ppl-'));
  });
  afterAll(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  test('onnxruntime and tfjs agree to 1e-4 relative and record what they evaluated', async () => {
    const file = path.join(tmp, 'val.jsonl');
    await fsp.writeFile(file, [
      JSON.stringify({ text: 'call me ishmael. some years ago, never mind how long precisely, having little or no money in my purse.' }),
      '{"text": ""}',
      JSON.stringify({ text: 'it is a way i have of driving off the spleen and regulating the circulation.' }),
    ].join('\n'));
    const data = await loadLmDataset(file, { skipInvalid: true });
    const cfg = makeConfig({ vocabSize: V, hiddenSize: 32, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 48, maxPositionEmbeddings: 64 });
    const weights = randomWeights(cfg, 9, 0.3);
    const out = [];
    for (const runtime of ['onnxruntime', 'tfjs'] as const) {
      const { lm, describe } = await openCausalLM({ runtime, config: cfg, weights, model: 'random-d32', cacheDir: tmp, kinds: ['logits'], threads: 1 });
      out.push(await evaluatePerplexity(lm, tok, data, describe, { contextLength: 32, stride: 16, batchSize: 4 }));
      await lm.dispose();
    }
    const [o, t] = out as [Awaited<ReturnType<typeof evaluatePerplexity>>, Awaited<ReturnType<typeof evaluatePerplexity>>];
    expect(Math.abs(o.perplexity - t.perplexity) / t.perplexity).toBeLessThan(1e-4);
    const streamLen = data.documents.reduce((n, d) => n + tok.encode(d).length, 0) + 1;
    expect(o.tokens).toBe(streamLen - 1);
    expect(o).toMatchObject({ contextLength: 32, stride: 16, joinedWith: 'eos', dataset: { documents: 2, skipped: 1, format: 'jsonl' } });
    expect(o.subject).toMatchObject({ model: 'random-d32', adapter: 'none', runtime: 'onnxruntime', backend: 'cpu' });
    expect(o.subject.backendDetail).toMatch(/onnxruntime-node .*CPUExecutionProvider, 1 intra-op thread/);
    expect(t.subject).toMatchObject({ model: 'random-d32', adapter: 'none', runtime: 'tfjs' });
    expect(o.perplexity).toBeGreaterThan(1);
  });

  test('tfjs splits a batch into passes of maxBatch rows with identical logits', async () => {
    const cfg = makeConfig({ vocabSize: V, hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 24, maxPositionEmbeddings: 64 });
    const model = LlamaModel.fromWeights(cfg, randomWeights(cfg, 2, 0.3));
    const whole = new TfjsCausalLM(model);
    const split = new TfjsCausalLM(model, { maxBatch: 2 });
    const b = rightPad([tok.encode('abc'), tok.encode('hello'), tok.encode('x'), tok.encode('yz'), tok.encode('q')]);
    expect(await split.logits(b)).toEqual(await whole.logits(b));
    model.dispose();
  });

  test('generation samples record settings and subject; both runtimes give the same greedy text', async () => {
    const cfg = makeConfig({ vocabSize: V, hiddenSize: 32, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 48, maxPositionEmbeddings: 64 });
    const weights = randomWeights(cfg, 17, 0.6);
    const prompts = ['once upon a', 'the sea', 'a'];
    const res = [];
    const seen: [number, number][] = [];
    for (const runtime of ['onnxruntime', 'tfjs'] as const) {
      const { lm, describe } = await openCausalLM({ runtime, config: cfg, weights, model: 'random', cacheDir: tmp, threads: 1 });
      res.push(await generateSamples(lm, tok, prompts, describe, { maxNewTokens: 12, batchSize: 2, onProgress: (d, t) => runtime === 'tfjs' && seen.push([d, t]) }));
      await lm.dispose();
    }
    expect(seen).toEqual([[2, 3], [3, 3]]);
    expect(res[0]!.samples.map((s) => s.completion)).toEqual(res[1]!.samples.map((s) => s.completion));
    expect(res[0]!.samples[0]).toMatchObject({ prompt: 'once upon a', promptTokens: 12 });
    expect(res[0]!.settings).toEqual({ maxNewTokens: 12, temperature: 0, topP: 1, topK: 0, seed: 0, stopTokens: [tok.eosId] });
    for (const s of res[0]!.samples) expect(s.tokens.length === 12 || s.stopReason === 'stop').toBe(true);
  });
});
