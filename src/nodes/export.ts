/**
 * Export: the result in a standard format — the original model with the recovered adapter merged (Hugging Face
 * directory or ONNX), or the adapter alone (PEFT). Optionally copied to a folder outside the store.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { resolvePath } from './sources';
import { defineNode, type StaticIssue } from './definition';
import { NodeInputError } from './errors';
import { optionalInput } from './inputs';
import { adapterFitsModel, describeModel, quantizeOf } from './lineage';
import { DENSE_DELTAS_FILE, fileExists, loadAdapterValue, loadModelWeights } from './model-files';

export const exportParams = z.strictObject({
  format: z.enum(['hf-merged', 'onnx', 'peft-adapter']).default('hf-merged').describe('hf-merged: model with the adapter merged (HF safetensors); onnx: the same as ONNX; peft-adapter: the adapter alone'),
  dest: z.string().optional().describe('Also copy the result to this folder (relative to the recipe); replaced atomically'),
  dtype: z.enum(['float32', 'float16', 'bfloat16']).default('float32').describe('Weight precision of the exported files'),
});

export const exportNode = defineNode({
  type: 'Export',
  version: 1,
  title: 'Export',
  category: 'output',
  doc: 'Save the merged model (Hugging Face or ONNX) or the adapter (PEFT), optionally to a folder of your choice.',
  inputs: [
    { name: 'model', type: 'model', title: 'Model', optional: true },
    { name: 'adapter', type: 'adapter', title: 'Adapter', optional: true },
  ],
  outputs: [],
  params: exportParams,
  cacheable: false,
  staticCheck(inputs, p) {
    const issues: StaticIssue[] = [];
    if (p.format === 'peft-adapter' && !inputs.adapter) issues.push({ code: 'missing-input', field: 'inputs.adapter', message: 'format peft-adapter needs an adapter' });
    if (p.format !== 'peft-adapter' && !inputs.model) issues.push({ code: 'missing-input', field: 'inputs.model', message: `format ${p.format} needs a model` });
    return issues;
  },
  lineage: (inputs) => adapterFitsModel(inputs),
  async run(ctx, inputs, p) {
    const m = optionalInput(inputs, 'model', 'model');
    const a = optionalInput(inputs, 'adapter', 'adapter');
    const result = path.join(ctx.outDir, p.format === 'peft-adapter' ? 'adapter' : p.format === 'onnx' ? 'onnx' : 'model');
    if (p.format === 'peft-adapter') {
      if (!a) throw new NodeInputError('format peft-adapter needs an adapter', 'missing-input');
      await fsp.cp(ctx.resolve(a.location), result, { recursive: true });
      ctx.log(`adapter (r ${a.rank}, for ${describeModel(a.base)})${(await fileExists(path.join(result, DENSE_DELTAS_FILE))) ? ' with dense deltas (non-structured recovery)' : ''}`);
    } else {
      if (!m) throw new NodeInputError(`format ${p.format} needs a model`, 'missing-input');
      if (quantizeOf(m.lineage)) ctx.log('the model has an NF4 step in its lineage; the export writes its full-precision weights', 'warn');
      let { config, weights } = await loadModelWeights(ctx, m);
      if (a) {
        const loaded = await loadAdapterValue(ctx, a);
        const { mergeLora, mergeRecovered } = await import('../loram/recover/merge');
        ({ config, weights } = loaded.dense ? mergeRecovered(config, weights, { adapter: loaded.adapter, dense: loaded.dense }) : mergeLora(config, weights, loaded.adapter));
      }
      if (p.format === 'onnx') {
        const { exportOnnx } = await import('../loram/onnx/export');
        await exportOnnx(config, weights, result);
      } else {
        const { saveModelDir } = await import('../loram/io/model-dir');
        const dtype = p.dtype === 'float32' ? 'F32' : p.dtype === 'float16' ? 'F16' : 'BF16';
        await saveModelDir(result, config, weights, { copyFrom: ctx.resolve(m.location), dtype });
      }
      ctx.log(`${p.format}: ${describeModel(m.lineage)}${a ? ` + ${a.recovered ? 'recovered ' : ''}adapter merged` : ''}`);
    }
    let dest: string | null = null;
    if (p.dest) {
      dest = resolvePath(p.dest, ctx.baseDir);
      const { atomicWriteDir } = await import('../loram/io/atomic');
      await atomicWriteDir(dest, (tmp) => fsp.cp(result, tmp, { recursive: true }));
      ctx.log(`copied to ${dest}`);
    }
    return { outputs: {}, metrics: { format: p.format, path: dest ?? ctx.resolve(ctx.output(path.basename(result))) } };
  },
});
