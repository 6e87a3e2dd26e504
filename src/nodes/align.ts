/** Align: LoRAM stage 1 (loram-method.md §3), continual pre-training of the pruned model on general text. */
import path from 'node:path';
import { z } from 'zod';
import { readDocuments, tokenWindows } from './data-files';
import { defineNode } from './definition';
import { NodeInputError } from './errors';
import { requireInput } from './inputs';
import { describeModel, modelOf, stepOf, withStep } from './lineage';
import { ensureBackend, loadModelTokenizer, loadModelWeights, readPrunePlan } from './model-files';
import type { NodeContext } from './definition';
import { optimiserFields, optimiserSettings } from './training-params';
import { nodeCheckpoints, skipDraws } from './train-checkpoints';
import { ortTrainOptions, resolveTrainBackend } from './train-backend';
import type { AlignResult } from '../loram/align/align';
import type { LlamaConfig } from '../loram/model/config';
import type { LmBatch } from '../loram/model/loss';
import type { WeightMap } from '../loram/util/tensor';
import type { ModelValue } from '../shared';

export const alignParams = z.strictObject({
  ...optimiserFields({ default: 5e-5, doc: 'Peak learning rate (paper: 5e-5, cosine)' }),
  seed: z.number().int().min(0).default(0).describe('Seed for data order'),
});

export const alignNode = defineNode({
  type: 'Align',
  // v2: gradientCheckpointing (default off); results cached by v1 are not reused.
  // v3: `backend` (default auto = ONNX Runtime), and no freezeLmHead: the alignment library always keeps lm_head
  // frozen, as the paper does, so the switch did nothing but key the cache; recipes that set it load without it.
  version: 3,
  migrations: { 1: (p) => p, 2: ({ freezeLmHead: _unused, ...p }) => p },
  title: 'Align',
  category: 'loram',
  doc: 'LoRAM stage 1: continual pre-training of the pruned model to reduce its mismatch with the original.',
  inputs: [
    { name: 'model', type: 'model', title: 'Model' },
    { name: 'dataset', type: 'dataset', title: 'General text' },
  ],
  outputs: [{ name: 'model', type: 'model', title: 'Aligned model' }],
  params: alignParams,
  lineage(inputs) {
    const m = modelOf(inputs, 'model');
    return m && stepOf(m, 'quantize') ? [{ field: 'inputs.model', message: 'align before quantizing: alignment trains every weight, which an NF4 model cannot' }] : [];
  },
  staticOutputs: (inputs, _p, self) => ({ model: withStep(inputs, self, 'align') }),
  async run(ctx, inputs, p) {
    const m = requireInput(inputs, 'model', 'model');
    const ds = requireInput(inputs, 'dataset', 'dataset');
    const { windowsBatch } = await import('../loram/data/lm-data');
    const tok = await loadModelTokenizer(ctx, m);
    const train = await tokenWindows(tok, await readDocuments(ctx, ds, 'train'), p.seqLen);
    if (train.length < p.batchSize) throw new NodeInputError(`the training split of ${ds.source} has ${train.length} sequences of ${p.seqLen} tokens; need at least ${p.batchSize}`);
    const val = (await tokenWindows(tok, await readDocuments(ctx, ds, 'val'), p.seqLen)).slice(0, 32);
    const evalBatches: LmBatch[] = [];
    for (let i = 0; i < val.length; i += p.batchSize) evalBatches.push(windowsBatch(val.slice(i, i + p.batchSize), p.seqLen));
    const { config, weights } = await loadModelWeights(ctx, m);
    const engine = resolveTrainBackend(p.backend);
    const r = engine === 'ort' ? await alignOnOrt(ctx, config, weights, train, evalBatches, p) : await alignOnTfjs(ctx, config, weights, train, evalBatches, p);
    const aligned = await keepSparsity(ctx, m, r.weights);
    await (await import('../loram/io/model-dir')).saveModelDir(path.join(ctx.outDir, 'model'), config, aligned, { copyFrom: ctx.resolve(m.location) });
    const last = r.evalLosses[r.evalLosses.length - 1];
    ctx.log(`aligned ${describeModel(m.lineage)}: ${r.trainedParams.toLocaleString('en-US')} parameters, final loss ${r.finalLoss.toFixed(4)}${last ? `, val loss ${last.loss.toFixed(4)}` : ''}`);
    return {
      outputs: { model: { ...m, location: ctx.output('model'), lineage: { ...m.lineage, transforms: [...m.lineage.transforms, { kind: 'align', steps: p.steps }] } } },
      metrics: { finalLoss: r.finalLoss, valLoss: last?.loss ?? null, trainedParams: r.trainedParams, trainSeconds: r.elapsedMs / 1000, trainBackend: engine, trainEngine: r.engineDetail },
    };
  },
});

type AlignParams = z.output<typeof alignParams>;
type Aligned = AlignResult & { weights: WeightMap; engineDetail: string };

/** Evaluate every tenth of the run and at the end, as the tfjs path does. */
function evalEveryOf(p: AlignParams): number {
  return Math.max(1, Math.floor(p.steps / 10));
}

/** ONNX Runtime: every weight but lm_head is fed and trained in place; the rest stays in the session. */
async function alignOnOrt(ctx: NodeContext, config: LlamaConfig, weights: WeightMap, train: Int32Array[], evalBatches: LmBatch[], p: AlignParams): Promise<Aligned> {
  const { OrtFullRun } = await import('../loram/ort-train/trainer');
  const { DenseBases } = await import('../loram/ort-train/base-linears');
  const { WindowSampler, windowsBatch } = await import('../loram/data/lm-data');
  const { lmTrainConfig } = await import('../loram/train/lm-objective');
  const { ALIGN_DEFAULTS } = await import('../loram/align/align');
  const run = await OrtFullRun.start({ config, weights, bases: new DenseBases() }, { batch: p.batchSize, seqLen: p.seqLen, checkpoint: p.gradientCheckpointing }, ortTrainOptions());
  try {
    const engineDetail = run.engine;
    ctx.log(`aligning ${run.numParams().toLocaleString('en-US')} parameters with ${engineDetail}`);
    const trainConfig = lmTrainConfig(p.steps, { ...optimiserSettings(p), seed: p.seed }, ALIGN_DEFAULTS);
    const ckpt = await nodeCheckpoints(ctx, p.steps);
    const sampler = new WindowSampler(train.length, p.seed);
    skipDraws(sampler, ckpt.resume, trainConfig.gradAccum, p.batchSize);
    const evalLosses: { step: number; loss: number }[] = [];
    const every = evalEveryOf(p);
    const r = await run.train({
      batches: () => windowsBatch(sampler.next(p.batchSize).map((i) => train[i]!), p.seqLen),
      config: trainConfig,
      signal: ctx.signal,
      resume: ckpt.resume,
      checkpoint: ckpt.policy,
      onStep: async (info) => {
        let valLoss: number | undefined;
        if (evalBatches.length && (info.step % every === 0 || info.step === info.totalSteps)) {
          valLoss = await run.evalLoss(evalBatches);
          evalLosses.push({ step: info.step, loss: valLoss });
        }
        await ctx.progress(info.step, info.totalSteps, { loss: info.loss, lr: info.lr, ...(valLoss !== undefined ? { valLoss } : {}) });
      },
    });
    await ckpt.finished();
    return { ...r, evalLosses, trainedParams: run.numParams(), weights, engineDetail };
  } finally {
    await run.release();
  }
}

async function alignOnTfjs(ctx: NodeContext, config: LlamaConfig, weights: WeightMap, train: Int32Array[], evalBatches: LmBatch[], p: AlignParams): Promise<Aligned> {
  const backend = await ensureBackend(ctx);
  const { LlamaModel } = await import('../loram/model/llama');
  const { alignModel, ALIGN_DEFAULTS } = await import('../loram/align/index');
  const { lmTrainConfig } = await import('../loram/train/lm-objective');
  const { WindowSampler, windowsBatch } = await import('../loram/data/lm-data');
  const model = LlamaModel.fromWeights(config, weights, { trainable: true });
  try {
    const ckpt = await nodeCheckpoints(ctx, p.steps);
    const sampler = new WindowSampler(train.length, p.seed);
    skipDraws(sampler, ckpt.resume, lmTrainConfig(p.steps, optimiserSettings(p), ALIGN_DEFAULTS).gradAccum, p.batchSize);
    const r = await alignModel(model, {
      resume: ckpt.resume,
      checkpoint: ckpt.policy,
      batches: () => windowsBatch(sampler.next(p.batchSize).map((i) => train[i]!), p.seqLen),
      ...optimiserSettings(p),
      seed: p.seed,
      ...(evalBatches.length ? { evalBatches, evalEvery: evalEveryOf(p) } : {}),
      signal: ctx.signal,
      onStep: (info) => ctx.progress(info.step, info.totalSteps, { loss: info.loss, lr: info.lr, ...(info.evalLoss !== undefined ? { valLoss: info.evalLoss } : {}) }),
    });
    await ckpt.finished();
    return { ...r, weights: model.toWeights(), engineDetail: `TensorFlow.js ${backend}` };
  } finally {
    model.dispose();
  }
}

/**
 * Semi/unst: training moves the pruned (zero) weights too; project back onto the prune masks so the aligned model
 * keeps the sparsity its lineage records.
 */
async function keepSparsity(ctx: NodeContext, m: ModelValue, weights: WeightMap): Promise<WeightMap> {
  const plan = await readPrunePlan(ctx, m.lineage);
  if (plan?.kind !== 'sparse') return weights;
  const { applyMask } = await import('../loram/prune/mask');
  const aligned = new Map(weights);
  for (const [name, mask] of plan.masks) {
    const w = aligned.get(name);
    if (w) aligned.set(name, applyMask(w, mask, name));
  }
  ctx.log(`kept the ${plan.pattern} sparsity: ${plan.masks.size} pruned weights re-masked after alignment`);
  return aligned;
}
