/** Load: a built-in model or a local Hugging Face LLaMA directory. Reads only headers; weights stay where they are. */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { BUILTIN_NAMES } from '../loram/model/builtin';
import { BUILTIN_PREFIX, isBuiltin, resolveModelSource } from './sources';
import { defineNode } from './definition';
import { NodeInputError } from './errors';

export const loadParams = z.strictObject({
  source: z
    .string()
    .min(1)
    .default('builtin:large')
    .describe('"builtin:large", "builtin:small", or the path of a Hugging Face LLaMA model directory (config.json, *.safetensors, tokenizer.json)')
    .meta({ examples: BUILTIN_NAMES.map((m) => BUILTIN_PREFIX + m) })
    .refine((s) => !s.startsWith(BUILTIN_PREFIX) || isBuiltin(s), { message: `unknown built-in model; use ${BUILTIN_NAMES.map((m) => BUILTIN_PREFIX + m).join(' or ')}` }),
});

export const loadNode = defineNode({
  type: 'Load',
  version: 1,
  title: 'Load model',
  category: 'model',
  doc: 'A built-in model or a local Hugging Face LLaMA directory; the original every LoRAM branch derives from.',
  inputs: [],
  outputs: [{ name: 'model', type: 'model', title: 'Model' }],
  params: loadParams,
  files: (p, { baseDir }) => [
    {
      field: 'source',
      path: resolveModelSource(p.source, baseDir),
      kind: 'dir',
      required: ['config.json', 'tokenizer.json'],
      hint: p.source.startsWith(BUILTIN_PREFIX) ? `built-in model ${p.source} has not been built; build it with: npx tsx scripts/build-models.ts all` : undefined,
    },
  ],
  staticOutputs: (_inputs, _p, self) => ({ model: { type: 'model', lineage: { origin: self.key, originNode: self.id, chain: [] } } }),
  async run(ctx, _inputs, p) {
    const dir = resolveModelSource(p.source, ctx.baseDir);
    const { readModelConfig, checkWeightShapes } = await import('../loram/io/model-dir');
    const { describeWeights } = await import('../loram/io/checkpoint');
    const { countParams } = await import('../loram/model/config');
    const config = await readModelConfig(dir);
    const locations = await describeWeights(dir);
    checkWeightShapes(config, new Map([...locations].map(([n, l]) => [n, l.shape])), dir);
    await fsp.access(path.join(dir, 'tokenizer.json')).catch(() => {
      throw new NodeInputError(`${dir}: no tokenizer.json (LoRAM Studio loads tokenizers from tokenizer.json)`);
    });
    const hash = ctx.fileHashes.source;
    if (!hash) throw new Error('Load: the engine did not hash the model directory');
    const params = countParams(config);
    ctx.log(`${p.source}: ${config.numLayers} layers, hidden ${config.hiddenSize}, ${params.toLocaleString('en-US')} parameters`);
    return {
      outputs: {
        model: {
          type: 'model',
          location: { kind: 'external', path: dir, hash },
          lineage: { origin: { id: hash, name: p.source }, transforms: [] },
          summary: { layers: config.numLayers, hiddenSize: config.hiddenSize, vocabSize: config.vocabSize, params },
        },
      },
      metrics: { params, layers: config.numLayers, hiddenSize: config.hiddenSize },
    };
  },
});
