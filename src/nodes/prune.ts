/**
 * Prune: LoRAM stage 0 (loram-method.md §2). Structured (Rand, Stru) removes whole heads and MLP channels, so the
 * model gets physically smaller; semi-structured 2:4 and unstructured zero individual weights in place.
 */
import path from 'node:path';
import { z } from 'zod';
import type { DatasetValue, ModelValue } from '../shared';
import { readDocuments, tokenWindows } from './data-files';
import { defineNode, type NodeContext, type StaticIssue } from './definition';
import { NodeInputError } from './errors';
import { optionalInput, requireInput } from './inputs';
import { modelOf, stepOf, withStep, type LineageIssue } from './lineage';
import { ensureBackend, loadModelTokenizer, loadModelWeights } from './model-files';
import { IMPORTANCES, PRUNE_STRATEGIES, type Importance } from '../loram/prune/strategies';
import { needsCalibration, PRUNE_STRATEGY_NAMES, resolveImportance, strategyOf } from '../loram/prune/strategy-rules';

const IMPORTANCE_CHOICES = ['auto', ...IMPORTANCES] as const;

/** "rand: random structured (LoRAM-Rand); …" from the table. */
const strategyDoc = PRUNE_STRATEGY_NAMES.map((n) => `${n}: ${PRUNE_STRATEGIES[n].doc} (${PRUNE_STRATEGIES[n].title})`).join('; ');
const autoDoc = PRUNE_STRATEGY_NAMES.map((n) => `${PRUNE_STRATEGIES[n].importances[0]} for ${n}`).join(', ');

export const pruneParams = z
  .strictObject({
    strategy: z.enum(PRUNE_STRATEGY_NAMES).default('stru').describe(strategyDoc),
    ratio: z.number().min(0).max(0.99).default(0.5).describe('Share removed: heads and MLP channels per pruned layer (structured), or weight sparsity (semi: exactly 0.5, unst)'),
    importance: z
      .enum(IMPORTANCE_CHOICES)
      .default('auto')
      .describe(`auto = the paper's choice: ${autoDoc}; each strategy lists the others it accepts`),
    layerStart: z.number().int().min(0).optional().describe('First pruned decoder layer (default: the paper\'s rule, about the first 10% kept)'),
    layerEnd: z.number().int().min(1).optional().describe('End (exclusive) of the pruned layer range (default: the last layers kept)'),
    calibrationSamples: z.number().int().min(1).max(4096).default(16).describe('Calibration sequences (Taylor gradients, SparseGPT Hessians, Wanda norms)'),
    calibrationTokens: z.number().int().min(8).max(4096).default(64).describe('Tokens per calibration sequence'),
    seed: z.number().int().min(0).default(0).describe('Seed for random importance and calibration sampling'),
  })
  .superRefine((p, ctx) => {
    const s = strategyOf(p.strategy);
    if (s.fixedRatio && p.ratio !== s.fixedRatio.value) ctx.addIssue({ code: 'custom', path: ['ratio'], message: `${s.fixedRatio.reason}: ratio must be ${s.fixedRatio.value}` });
    if (p.importance !== 'auto' && !s.importances.includes(p.importance)) {
      ctx.addIssue({ code: 'custom', path: ['importance'], message: `${s.title} takes ${s.importances.join(', ')} importance, not ${p.importance}` });
    }
    if (p.layerStart !== undefined && p.layerEnd !== undefined && p.layerEnd <= p.layerStart) ctx.addIssue({ code: 'custom', path: ['layerEnd'], message: 'must be greater than layerStart' });
  });
export type PruneParams = z.output<typeof pruneParams>;

export function resolvedImportance(p: PruneParams): Importance {
  return resolveImportance(p.strategy, p.importance);
}

export const pruneNode = defineNode({
  type: 'Prune',
  version: 1,
  title: 'Prune',
  category: 'loram',
  doc: 'LoRAM stage 0: prune the original model (structured Rand/Stru, semi-structured 2:4, or unstructured) for cheaper training.',
  inputs: [
    { name: 'model', type: 'model', title: 'Model' },
    { name: 'calibration', type: 'dataset', title: 'Calibration', optional: true, doc: 'Needed by taylor, sparsegpt and wanda importance' },
  ],
  outputs: [{ name: 'model', type: 'model', title: 'Pruned model' }],
  params: pruneParams,
  staticCheck(inputs, p) {
    const issues: StaticIssue[] = [];
    const imp = resolvedImportance(p);
    if (needsCalibration(imp) && !inputs.calibration) {
      issues.push({ code: 'missing-input', field: 'inputs.calibration', message: `${imp} importance needs calibration data: connect a dataset` });
    }
    return issues;
  },
  lineage(inputs) {
    const m = modelOf(inputs, 'model');
    const issues: LineageIssue[] = [];
    const pruned = m && stepOf(m, 'prune');
    if (pruned) issues.push({ field: 'inputs.model', message: `the model is already pruned (${pruned.label}); prune the original once` });
    if (m && stepOf(m, 'quantize')) issues.push({ field: 'inputs.model', message: 'prune before quantizing: pruning needs full-precision weights' });
    return issues;
  },
  staticOutputs: (inputs, p, self) => ({ model: withStep(inputs, self, 'prune', strategyOf(p.strategy).structured) }),
  async run(ctx, inputs, p) {
    const m = requireInput(inputs, 'model', 'model');
    const calib = optionalInput(inputs, 'calibration', 'dataset');
    await ensureBackend(ctx);
    const { config, weights } = await loadModelWeights(ctx, m);
    const strategy = strategyOf(p.strategy);
    const structured = strategy.structured;
    const importance = resolvedImportance(p);
    const { defaultLayerRange } = await import('../loram/memory/planner');
    const def = defaultLayerRange(p.strategy, config.numLayers);
    const layerRange: [number, number] = [p.layerStart ?? def[0], p.layerEnd ?? def[1]];
    const calibration = needsCalibration(importance) ? await calibrationBatches(ctx, m, calib, p) : undefined;
    const r = await strategy.prune(config, weights, { ratio: p.ratio, importance, layerRange, seed: p.seed, calibration, onProgress: (d, t) => ctx.progress(d, t), signal: ctx.signal });
    const prune = await import('../loram/prune/index');
    const { saveModelDir } = await import('../loram/io/model-dir');
    const { countParams } = await import('../loram/model/config');
    const { atomicWriteFile } = await import('../loram/io/atomic');
    await saveModelDir(path.join(ctx.outDir, 'model'), r.config, r.weights, { copyFrom: ctx.resolve(m.location) });
    await atomicWriteFile(path.join(ctx.outDir, 'prune-plan.json'), JSON.stringify(prune.planToJson(r.plan)) + '\n');
    const before = countParams(config);
    let after = countParams(r.config);
    if (r.plan.kind === 'sparse') {
      let zeros = 0;
      for (const mask of r.plan.masks.values()) zeros += mask.shape[0] * mask.shape[1] - prune.countKept(mask);
      after = before - zeros;
    }
    ctx.log(`${p.strategy} ${importance}, ratio ${p.ratio}, layers [${layerRange[0]}, ${layerRange[1]}): ${before.toLocaleString('en-US')} → ${after.toLocaleString('en-US')} parameters`);
    return {
      outputs: {
        model: {
          type: 'model',
          location: ctx.output('model'),
          lineage: {
            origin: m.lineage.origin,
            transforms: [...m.lineage.transforms, { kind: 'prune', strategy: p.strategy, ratio: p.ratio, structured, layers: layerRange, plan: ctx.output('prune-plan.json') }],
          },
          summary: { layers: r.config.numLayers, hiddenSize: r.config.hiddenSize, vocabSize: r.config.vocabSize, params: countParams(r.config) },
        },
      },
      metrics: { originalParams: before, prunedParams: after, reduction: before / after, importance },
    };
  },
});

/** Calibration batches: `calibrationSamples` windows of `calibrationTokens` tokens from the train split, seeded. */
async function calibrationBatches(ctx: NodeContext, m: ModelValue, calib: DatasetValue | undefined, p: PruneParams) {
  if (!calib) throw new NodeInputError(`${resolvedImportance(p)} importance needs calibration data`, 'missing-input');
  const tok = await loadModelTokenizer(ctx, m);
  const windows = await tokenWindows(tok, await readDocuments(ctx, calib, 'train'), p.calibrationTokens);
  if (windows.length === 0) throw new NodeInputError(`the calibration set (${calib.source}) is shorter than one ${p.calibrationTokens}-token sequence`);
  const { Rng } = await import('../loram/util/rng');
  const { windowsBatch } = await import('../loram/data/lm-data');
  const picked = new Rng(p.seed).shuffle([...windows.keys()]).slice(0, p.calibrationSamples);
  if (picked.length < p.calibrationSamples) ctx.log(`calibration: only ${picked.length} sequences of ${p.calibrationTokens} tokens available (asked for ${p.calibrationSamples})`, 'warn');
  const batches = [];
  for (let i = 0; i < picked.length; i += 8) batches.push(windowsBatch(picked.slice(i, i + 8).map((k) => windows[k]!), p.calibrationTokens));
  return batches;
}
