/**
 * Quantize: QLoRAM's NF4 base (loram-method.md §7): decoder linears in 4 bits, embeddings and lm_head kept.
 * As bitsandbytes does, quantization happens when the model is loaded: the output is the same model files with
 * an NF4 step in its lineage, and LoRA-Train (Nf4Linear, dequantized layer by layer in the forward) and Evaluate
 * apply it. This node quantizes every decoder linear once to check it and to report storage and error.
 */
import { z } from 'zod';
import { loadModelWeights } from './lib';
import { defineNode, NodeInputError, requireInput, staticModel, type StaticIssue } from './types';

export const NF4_BLOCK_SIZES = [64, 128, 256, 512, 1024, 2048, 4096] as const;

export const quantizeParams = z.strictObject({
  scheme: z.enum(['nf4']).default('nf4').describe('4-bit NormalFloat (QLoRA)'),
  blockSize: z
    .number()
    .int()
    .refine((b) => (NF4_BLOCK_SIZES as readonly number[]).includes(b), { message: `must be one of ${NF4_BLOCK_SIZES.join(', ')}` })
    .default(64)
    .describe('Weights per absmax block (bitsandbytes: 64)')
    .meta({ enum: [...NF4_BLOCK_SIZES] }),
  doubleQuant: z.boolean().default(true).describe('Quantize the absmax values to 8 bits in blocks of 256 (≈4.127 bits per weight)'),
});

export const quantizeNode = defineNode({
  type: 'Quantize',
  version: 1,
  title: 'Quantize',
  category: 'loram',
  doc: 'QLoRAM: store the (pruned) base in NF4 for training; inference still uses the original weights.',
  inputs: [{ name: 'model', type: 'model', title: 'Model' }],
  outputs: [{ name: 'model', type: 'model', title: 'Quantized model' }],
  params: quantizeParams,
  staticCheck(inputs) {
    const issues: StaticIssue[] = [];
    const m = staticModel(inputs, 'model');
    if (m?.chain.some((t) => t.kind === 'quantize')) issues.push({ code: 'lineage', field: 'inputs.model', message: 'the model is already quantized' });
    return issues;
  },
  staticOutputs(inputs, _p, self) {
    const m = staticModel(inputs, 'model');
    return m ? { model: { type: 'model', lineage: { ...m, chain: [...m.chain, { node: self.id, kind: 'quantize', key: self.key }] } } } : {};
  },
  async run(ctx, inputs, p) {
    const m = requireInput(inputs, 'model', 'model');
    if (m.lineage.transforms.some((t) => t.kind === 'quantize')) throw new NodeInputError('the model is already quantized', 'lineage');
    const { quantizeNf4, dequantizeNf4, nf4StorageBytes } = await import('../loram/quant/nf4');
    const { LINEAR_MODULES, linearName } = await import('../loram/model/config');
    const { config, weights } = await loadModelWeights(ctx, m);
    let params = 0;
    let bytes = 0;
    let se = 0;
    let ss = 0;
    const total = config.numLayers;
    for (let i = 0; i < config.numLayers; i++) {
      for (const mod of LINEAR_MODULES) {
        const w = weights.get(linearName(i, mod));
        if (!w || !w.data.length) continue;
        const q = quantizeNf4(w, { blockSize: p.blockSize, doubleQuant: p.doubleQuant });
        const d = dequantizeNf4(q).data;
        for (let k = 0; k < d.length; k++) {
          const e = d[k]! - w.data[k]!;
          se += e * e;
          ss += w.data[k]! * w.data[k]!;
        }
        params += w.data.length;
        bytes += nf4StorageBytes(q);
      }
      await ctx.progress(i + 1, total);
    }
    const bitsPerWeight = params ? (bytes * 8) / params : 0;
    const relativeRmsError = ss ? Math.sqrt(se / ss) : 0;
    ctx.log(`NF4 block ${p.blockSize}${p.doubleQuant ? ' + double quantization' : ''}: ${params.toLocaleString('en-US')} decoder weights at ${bitsPerWeight.toFixed(3)} bits, relative RMS error ${relativeRmsError.toFixed(4)}`);
    return {
      outputs: {
        model: { ...m, lineage: { ...m.lineage, transforms: [...m.lineage.transforms, { kind: 'quantize', scheme: 'nf4', blockSize: p.blockSize, doubleQuant: p.doubleQuant }] } },
      },
      metrics: { quantizedParams: params, quantizedBytes: bytes, bitsPerWeight, relativeRmsError },
    };
  },
});
