/**
 * Evaluate (loram-method.md §6): perplexity on held-out text and, when given a multiple-choice set, accuracy, for
 * a model with an optional adapter (merged for inference).
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

export const evaluateParams = z.strictObject({
  label: z.string().default('').describe('Name of this branch in comparisons (default: the node\'s label or id)'),
  split: z.enum(['val', 'test', 'train']).default('test').describe('Which split of the datasets to evaluate on'),
  runtime: z.enum(['onnxruntime', 'tfjs']).default('onnxruntime').describe('Inference runtime (ONNX Runtime on an export of the model, or the TensorFlow.js forward)'),
  seqLen: z.number().int().min(8).max(8192).default(128).describe('Context window for perplexity'),
  stride: z.number().int().min(1).max(8192).optional().describe('Window stride for perplexity (default: seqLen, non-overlapping)'),
  batchSize: z.number().int().min(1).max(1024).default(8).describe('Sequences per forward pass'),
  maxTokens: z.number().int().positive().optional().describe('Stop adding documents of the split once this many tokens are collected (the last one is kept whole)'),
});

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
    await ensureBackend(ctx);
    const { openCausalLM, evaluatePerplexity, evaluateMultipleChoice } = await import('../loram/eval/index');
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
      kinds: ['logits'],
    });
    if (a && !adapter) Object.assign(describe, { adapter: 'merged', adapterId });
    try {
      let docs = await readDocuments(ctx, ds, p.split);
      if (p.maxTokens !== undefined) {
        let n = 0;
        docs = docs.filter((d) => (n < p.maxTokens! ? ((n += tok.encode(d).length), true) : false));
      }
      const hasMc = !!mc;
      const progress = (phase: number) => (done: number, total: number) => void ctx.progress(phase * total + done, total * (hasMc ? 2 : 1)).catch(() => undefined);
      const ppl = await evaluatePerplexity(lm, tok, { kind: 'lm', source: ds.source, format: 'jsonl', skipped: 0, invalid: [], documents: docs }, describe, {
        contextLength: p.seqLen,
        stride: p.stride,
        batchSize: p.batchSize,
        onProgress: progress(0),
      });
      if (ctx.signal.aborted) await ctx.progress(0, 1);
      const scalars: Record<string, MetricScalar> = { perplexity: ppl.perplexity, nll: ppl.nll, tokens: ppl.tokens };
      let mcResult: Awaited<ReturnType<typeof evaluateMultipleChoice>> | undefined;
      if (mc) {
        const items = await readChoices(ctx, mc, p.split);
        mcResult = await evaluateMultipleChoice(lm, tok, { source: mc.source, items }, describe, { batchSize: p.batchSize, perItem: false, onProgress: progress(1) });
        Object.assign(scalars, { accuracy: mcResult.acc, accuracyNorm: mcResult.accNorm, accuracyStderr: mcResult.accStderr, items: mcResult.n });
      }
      ctx.log(`${modelName}${adapterId ? ` + ${adapterId}` : ''}: perplexity ${ppl.perplexity.toFixed(3)} on ${ppl.tokens} tokens (${lm.runtime}/${lm.backend})${mcResult ? `, accuracy ${(mcResult.acc * 100).toFixed(1)}%` : ''}`);
      const location = await writeMetricsFile(ctx, 'metrics.json', {
        label: p.label,
        scalars: { ...scalars, runtime: lm.runtime, backend: lm.backend, model: modelName, adapter: adapterId ?? 'none' },
      });
      await fsp.writeFile(path.join(ctx.outDir, 'results.json'), JSON.stringify({ perplexity: ppl, multipleChoice: mcResult ?? null }, null, 2) + '\n');
      return { outputs: { metrics: { type: 'metrics', location, label: p.label, summary: scalars } }, metrics: scalars };
    } finally {
      await lm.dispose();
    }
  },
});
