/**
 * Evaluate (loram-method.md §6): perplexity on held-out text (answer-only perplexity on instruction data) and, when
 * given a multiple-choice set, accuracy, and given a generation task, exact match, for a model with an optional
 * adapter (merged for inference).
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { MetricScalar } from '../shared';
import { readChoices, readDocuments, writeMetricsFile } from './data-files';
import { defineNode } from './definition';
import { optionalInput, requireInput } from './inputs';
import { adapterFitsModel, describeModel, quantizeOf, stepOf } from './lineage';
import { ensureBackend, loadAdapterValue, loadModelTokenizer, loadModelWeights } from './model-files';
import type { GenerationEvaluation } from './evaluate-generation';
import type { NodeContext } from './definition';
import type { DatasetValue, ModelValue } from '../shared';
import type { LoadedTokenizer } from '../loram/tokenizer/tokenizer';
import type { CausalLM, SubjectDescription } from '../loram/eval/index';
import { NodeInputError } from './errors';

type Progress = (done: number, total: number) => void;
type TextScalars = { scalars: Record<string, MetricScalar>; result: unknown; line: string };

/**
 * Perplexity of held-out text. Documents: over every token (sliding windows). Instruction data: over the answer
 * tokens only (the SFT labels, the prompt as context), as `answerPerplexity`: a model tuned on answers is not
 * meant to predict its prompts, and the keys differ so that a comparison row never mixes it with document perplexity.
 */
async function textMetrics(ctx: NodeContext, lm: CausalLM, tok: LoadedTokenizer, m: ModelValue, ds: DatasetValue, describe: SubjectDescription, p: EvaluateParams, progress: Progress): Promise<TextScalars> {
  if (ds.format === 'instruction') {
    const { modelTemplate, sftSplit } = await import('./instruct-data');
    const { labelledNll } = await import('../loram/eval/answer-perplexity');
    const rows = await sftSplit(ctx, ds, p.split, tok, await modelTemplate(ctx, m, tok), p.seqLen);
    if (rows.rows.length === 0) throw new NodeInputError(`the ${p.split} split of ${ds.source} has no example with an answer token within seqLen = ${p.seqLen}`);
    const r = await labelledNll(lm, rows.rows, { batchSize: p.batchSize, onProgress: progress });
    const nll = r.nll / r.tokens;
    const scalars = { answerPerplexity: Math.exp(nll), answerNll: nll, answerTokens: r.tokens, answerExamples: rows.rows.length, answerTruncated: rows.truncated };
    return { scalars, result: { kind: 'answer-perplexity', ...scalars, dropped: rows.dropped, seqLen: p.seqLen }, line: `answer-only perplexity ${scalars.answerPerplexity.toFixed(3)} on ${r.tokens} answer tokens of ${rows.rows.length} examples` };
  }
  const { evaluatePerplexity } = await import('../loram/eval/index');
  let docs = await readDocuments(ctx, ds, p.split);
  if (p.maxTokens !== undefined) {
    let n = 0;
    docs = docs.filter((d) => (n < p.maxTokens! ? ((n += tok.encode(d).length), true) : false));
  }
  const ppl = await evaluatePerplexity(lm, tok, { kind: 'lm', source: ds.source, format: 'jsonl', skipped: 0, invalid: [], documents: docs }, describe, {
    contextLength: p.seqLen,
    stride: p.stride,
    batchSize: p.batchSize,
    onProgress: progress,
  });
  return { scalars: { perplexity: ppl.perplexity, nll: ppl.nll, tokens: ppl.tokens }, result: ppl, line: `perplexity ${ppl.perplexity.toFixed(3)} on ${ppl.tokens} tokens` };
}

export const evaluateParams = z.strictObject({
  label: z.string().default('').describe('Name of this branch in comparisons (default: the node\'s label or id)'),
  split: z.enum(['val', 'test', 'train']).default('test').describe('Which split of the datasets to evaluate on'),
  runtime: z.enum(['onnxruntime', 'tfjs']).default('onnxruntime').describe('Inference runtime (ONNX Runtime on an export of the model, or the TensorFlow.js forward)'),
  seqLen: z.number().int().min(8).max(8192).default(128).describe('Context window for perplexity (instruction data: each example cut to seqLen + 1 tokens)'),
  stride: z.number().int().min(1).max(8192).optional().describe('Window stride for perplexity (default: seqLen, non-overlapping)'),
  batchSize: z.number().int().min(1).max(1024).default(8).describe('Sequences per forward pass'),
  maxTokens: z.number().int().positive().optional().describe('Documents: stop adding documents of the split once this many tokens are collected (the last one is kept whole)'),
  // Generation (exact match) on the `generation` input; optional without defaults so existing recipes keep their signatures.
  answerPreset: z.enum(['gsm8k', 'first-number', 'none']).optional().describe('Generation: how the answer is taken from the text: GSM8K\'s "#### 42", the first number, or the whole text (default first-number)'),
  answerRegex: z.string().optional().describe('Generation: a regex whose first match (group 1 if any) is the answer; overrides answerPreset'),
  nShot: z.number().int().min(0).max(32).optional().describe('Generation: examples from the train split before each question (default 0)'),
  fewShotSeed: z.number().int().min(0).optional().describe('Generation: seed of the few-shot draw (default 1234)'),
  maxNewTokens: z.number().int().min(1).max(2048).optional().describe('Generation: most tokens generated per answer (greedy; default 16)'),
  maxItems: z.number().int().min(1).optional().describe('Generation: score at most this many items of the split'),
});

type EvaluateParams = z.output<typeof evaluateParams>;

export const evaluateNode = defineNode({
  type: 'Evaluate',
  version: 1,
  title: 'Evaluate',
  category: 'evaluate',
  doc: 'Held-out perplexity (and multiple-choice accuracy) of a model, with an adapter merged if one is connected.',
  inputs: [
    { name: 'model', type: 'model', title: 'Model' },
    { name: 'adapter', type: 'adapter', title: 'Adapter', optional: true },
    { name: 'dataset', type: 'dataset', title: 'Held-out text' },
    { name: 'choices', type: 'dataset', title: 'Multiple choice', optional: true, doc: 'A multiple-choice dataset for accuracy' },
    { name: 'generation', type: 'dataset', title: 'Generation task', optional: true, doc: 'An instruction dataset: greedy answers scored by exact match' },
  ],
  outputs: [{ name: 'metrics', type: 'metrics', title: 'Metrics' }],
  params: evaluateParams,
  lineage: (inputs) => adapterFitsModel(inputs, (base, m) => (stepOf(base, 'prune') && m.steps.length === 0 ? '; recover it first (Recover) to use it on the original model' : '')),
  staticOutputs: () => ({ metrics: { type: 'metrics' } }),
  async run(ctx, inputs, p) {
    const m = requireInput(inputs, 'model', 'model');
    const a = optionalInput(inputs, 'adapter', 'adapter');
    const ds = requireInput(inputs, 'dataset', 'dataset');
    const mc = optionalInput(inputs, 'choices', 'dataset');
    const genDs = optionalInput(inputs, 'generation', 'dataset');
    await ensureBackend(ctx);
    const { openCausalLM, evaluateMultipleChoice } = await import('../loram/eval/index');
    const { nf4RoundTrip } = await import('../loram/quant/nf4-weights');
    const tok = await loadModelTokenizer(ctx, m);
    let { config, weights } = await loadModelWeights(ctx, m);
    const q = quantizeOf(m.lineage);
    if (q) weights = (await nf4RoundTrip(config, weights, { blockSize: q.blockSize, doubleQuant: q.doubleQuant })).weights;
    const modelName = describeModel(m.lineage);
    let adapter: Awaited<ReturnType<typeof loadAdapterValue>>['adapter'] | undefined;
    const adapterId = a ? `${a.recovered ? 'recovered ' : ''}LoRA r${a.rank}` : undefined;
    if (a) {
      const loaded = await loadAdapterValue(ctx, a);
      if (loaded.dense) {
        // Non-structured recovery: the low-rank part and the dense deltas are merged here.
        const { mergeRecovered } = await import('../loram/recover/merge');
        ({ config, weights } = mergeRecovered(config, weights, { adapter: loaded.adapter, dense: loaded.dense }));
      } else adapter = loaded.adapter;
    }
    const { lm, describe } = await openCausalLM({
      runtime: p.runtime,
      config,
      weights,
      model: modelName,
      ...(adapter ? { adapter, adapterId } : {}),
      cacheDir: path.join(ctx.cacheDir, 'onnx'),
      kinds: genDs ? ['logits', 'kv'] : ['logits'],
    });
    if (a && !adapter) Object.assign(describe, { adapter: 'merged', adapterId });
    try {
      const phases = 1 + (mc ? 1 : 0) + (genDs ? 1 : 0);
      const progress = (phase: number) => (done: number, total: number) => void ctx.progress(phase * total + done, total * phases).catch(() => undefined);
      const text = await textMetrics(ctx, lm, tok, m, ds, describe, p, progress(0));
      if (ctx.signal.aborted) await ctx.progress(0, 1);
      const scalars: Record<string, MetricScalar> = { ...text.scalars };
      let mcResult: Awaited<ReturnType<typeof evaluateMultipleChoice>> | undefined;
      if (mc) {
        const items = await readChoices(ctx, mc, p.split);
        mcResult = await evaluateMultipleChoice(lm, tok, { source: mc.source, items }, describe, { batchSize: p.batchSize, perItem: false, onProgress: progress(1) });
        Object.assign(scalars, { accuracy: mcResult.acc, accuracyNorm: mcResult.accNorm, accuracyStderr: mcResult.accStderr, items: mcResult.n });
      }
      let em: GenerationEvaluation | undefined;
      if (genDs) {
        const { evaluateGeneration } = await import('./evaluate-generation');
        em = await evaluateGeneration(ctx, lm, tok, m, genDs, describe, { ...p, onProgress: progress(phases - 1) });
        Object.assign(scalars, { exactMatch: em.exactMatch, exactMatchStderr: em.stderr, generationItems: em.n, nShot: em.nShot });
      }
      const emText = em ? `, exact match ${(em.exactMatch * 100).toFixed(1)}% ± ${(em.stderr * 100).toFixed(1)} on ${em.n} items (${em.nShot}-shot)` : '';
      ctx.log(`${modelName}${adapterId ? ` + ${adapterId}` : ''}: ${text.line} (${lm.runtime}/${lm.backend})${mcResult ? `, accuracy ${(mcResult.acc * 100).toFixed(1)}%` : ''}${emText}`);
      const location = await writeMetricsFile(ctx, 'metrics.json', {
        label: p.label,
        scalars: { ...scalars, runtime: lm.runtime, backend: lm.backend, model: modelName, adapter: adapterId ?? 'none' },
      });
      const key = ds.format === 'instruction' ? 'answerPerplexity' : 'perplexity';
      await fsp.writeFile(path.join(ctx.outDir, 'results.json'), JSON.stringify({ [key]: text.result, multipleChoice: mcResult ?? null, ...(em ? { generation: em } : {}) }, null, 2) + '\n');
      return { outputs: { metrics: { type: 'metrics', location, label: p.label, summary: scalars } }, metrics: scalars };
    } finally {
      await lm.dispose();
    }
  },
});
