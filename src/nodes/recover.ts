/**
 * Recover: LoRAM stage 3 (loram-method.md §5): map an adapter trained on a pruned model back to the original
 * model's shapes (structured: zero-fill; semi/unst: ΔW ⊙ mask by default).
 */
import path from 'node:path';
import { z } from 'zod';
import { defineNode } from './definition';
import { NodeInputError } from './errors';
import { requireInput } from './inputs';
import { adapterOf, describeLineage, describeModel, modelOf, staticModel, stepOf, type LineageIssue } from './lineage';
import { DENSE_DELTAS_FILE, loadAdapterValue, readPrunePlan } from './model-files';

export const recoverParams = z.strictObject({
  structuredFill: z.enum(['zeroA', 'normA']).default('zeroA').describe('Structured: pruned positions of A get zeros (zeroA, the paper) or N(0, 1/64) noise (normA)'),
  unstructured: z.enum(['mask', 'identity']).default('mask').describe('Semi/unst: zero the merged update where weights were pruned (mask) or keep it whole (identity, ablation)'),
  seed: z.number().int().min(0).default(0).describe('Seed for normA'),
});

export const recoverNode = defineNode({
  type: 'Recover',
  version: 1,
  title: 'Recover',
  category: 'loram',
  doc: 'LoRAM stage 3: recover an adapter trained on a pruned model to the original model\'s shapes, for inference on the original.',
  inputs: [
    { name: 'adapter', type: 'adapter', title: 'Pruned adapter' },
    { name: 'model', type: 'model', title: 'Original model', doc: 'The model the adapter\'s training model was pruned from' },
  ],
  outputs: [{ name: 'adapter', type: 'adapter', title: 'Recovered adapter' }],
  params: recoverParams,
  lineage(inputs) {
    const issues: LineageIssue[] = [];
    const a = adapterOf(inputs, 'adapter');
    const m = modelOf(inputs, 'model');
    if (a?.recovered) issues.push({ field: 'inputs.adapter', message: 'the adapter is already recovered' });
    else if (a && !stepOf(a.base, 'prune')) {
      issues.push({ field: 'inputs.adapter', message: `the adapter was trained on a model that is not pruned (${describeLineage(a.base)}); it already fits the original, Recover is not needed` });
    }
    if (m && m.steps.length > 0) {
      issues.push({ field: 'inputs.model', message: `recover onto the original model, not a transformed one (${describeLineage(m)})` });
    } else if (a && m && a.base.origin !== m.origin) {
      issues.push({ field: 'inputs.model', message: `the adapter derives from ${a.base.label} (${describeLineage(a.base)}), but this model is ${m.label}: recover onto the model it was pruned from` });
    }
    return issues;
  },
  staticOutputs(inputs) {
    const m = staticModel(inputs, 'model');
    return m ? { adapter: { type: 'adapter', base: m, recovered: true } } : {};
  },
  async run(ctx, inputs, p) {
    const a = requireInput(inputs, 'adapter', 'adapter');
    const m = requireInput(inputs, 'model', 'model');
    const plan = await readPrunePlan(ctx, a.base);
    if (!plan) throw new NodeInputError(`the adapter was trained on ${describeModel(a.base)}, which is not pruned: nothing to recover`, 'lineage');
    const { readModelConfig } = await import('../loram/io/model-dir');
    const { saveAdapter } = await import('../loram/lora/adapter');
    const recover = await import('../loram/recover/index');
    const cfg = await readModelConfig(ctx.resolve(m.location));
    const { adapter } = await loadAdapterValue(ctx, a);
    const baseModel = m.lineage.origin.name;
    const out = path.join(ctx.outDir, 'adapter');
    let dense = 0;
    if (plan.kind === 'structured') {
      await saveAdapter(out, recover.recoverStructured(adapter, plan, cfg, { type: p.structuredFill, seed: p.seed, baseModel }));
    } else {
      const r = recover.recoverSparse(adapter, plan, cfg, { mode: p.unstructured, baseModel });
      await saveAdapter(out, r.adapter);
      if (r.dense.size) {
        const { writeSafetensorsFile } = await import('../loram/io/safetensors');
        await writeSafetensorsFile(path.join(out, DENSE_DELTAS_FILE), r.dense, { metadata: { format: 'pt' } });
        dense = r.dense.size;
      }
    }
    ctx.log(`${plan.kind} recovery (${plan.kind === 'structured' ? p.structuredFill : p.unstructured}) onto ${baseModel}${dense ? `; ${dense} modules became dense updates` : ''}`);
    return {
      outputs: { adapter: { type: 'adapter', location: ctx.output('adapter'), rank: a.rank, alpha: a.alpha, targets: a.targets, base: m.lineage, recovered: true } },
      metrics: { plan: plan.kind, denseModules: dense },
    };
  },
});
