/**
 * Quantize: QLoRAM's NF4 base (loram-method.md §7): decoder linears in 4 bits, embeddings and lm_head kept.
 * As bitsandbytes does, quantization happens when the model is loaded: the output is the same model files with
 * an NF4 step in its lineage, and LoRA-Train (Nf4Linear, dequantized layer by layer in the forward) and Evaluate
 * apply it. This node quantizes every decoder linear once to check it and to report storage and error.
 */
import { z } from 'zod';
import { NF4_BLOCK_SIZES, NF4_DEFAULT_BLOCK_SIZE } from '../loram/quant/nf4';
import { defineNode } from './definition';
import { requireInput } from './inputs';
import { modelOf, stepOf, withStep } from './lineage';
import { loadModelWeights } from './model-files';

export const quantizeParams = z.strictObject({
  scheme: z.enum(['nf4']).default('nf4').describe('4-bit NormalFloat (QLoRA)'),
  blockSize: z
    .number()
    .int()
    .refine((b) => NF4_BLOCK_SIZES.includes(b), { message: `must be one of ${NF4_BLOCK_SIZES.join(', ')}` })
    .default(NF4_DEFAULT_BLOCK_SIZE)
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
  lineage(inputs) {
    const m = modelOf(inputs, 'model');
    return m && stepOf(m, 'quantize') ? [{ field: 'inputs.model', message: 'the model is already quantized' }] : [];
  },
  staticOutputs: (inputs, _p, self) => ({ model: withStep(inputs, self, 'quantize') }),
  async run(ctx, inputs, p) {
    const m = requireInput(inputs, 'model', 'model');
    const { nf4RoundTrip } = await import('../loram/quant/nf4-weights');
    const { config, weights } = await loadModelWeights(ctx, m);
    const { params, bytes, relativeRmsError } = await nf4RoundTrip(config, weights, { blockSize: p.blockSize, doubleQuant: p.doubleQuant }, (i) => ctx.progress(i + 1, config.numLayers));
    const bitsPerWeight = params ? (bytes * 8) / params : 0;
    ctx.log(`NF4 block ${p.blockSize}${p.doubleQuant ? ' + double quantization' : ''}: ${params.toLocaleString('en-US')} decoder weights at ${bitsPerWeight.toFixed(3)} bits, relative RMS error ${relativeRmsError.toFixed(4)}`);
    return {
      outputs: {
        model: { ...m, lineage: { ...m.lineage, transforms: [...m.lineage.transforms, { kind: 'quantize', scheme: 'nf4', blockSize: p.blockSize, doubleQuant: p.doubleQuant }] } },
      },
      metrics: { quantizedParams: params, quantizedBytes: bytes, bitsPerWeight, relativeRmsError },
    };
  },
});
