/** The optimiser fields that Align and LoRA-Train share (zod shape, spread into each node's parameter schema). */
import { z } from 'zod';
import type { OptimiserSettings } from '../loram/train/lm-objective';
import { trainBackendField } from './train-backend';

export function optimiserFields(lr: { default: number; doc: string }) {
  return {
    steps: z.number().int().min(1).max(1_000_000).default(100).describe('Optimiser steps'),
    lr: z.number().positive().max(1).default(lr.default).describe(lr.doc),
    warmupSteps: z.number().int().min(0).default(10).describe('Linear warmup steps'),
    schedule: z.enum(['cosine', 'linear', 'constant']).default('cosine').describe('Learning-rate schedule after warmup'),
    batchSize: z.number().int().min(1).max(1024).default(4).describe('Sequences per micro-batch'),
    gradAccum: z.number().int().min(1).max(1024).default(1).describe('Micro-batches per optimiser step'),
    seqLen: z.number().int().min(8).max(8192).default(128).describe('Tokens per sequence'),
    weightDecay: z.number().min(0).max(1).default(0).describe('AdamW decoupled weight decay'),
    maxGradNorm: z.number().min(0).default(1).describe('Gradient clipping (global norm; 0 = off)'),
    gradientCheckpointing: z
      .boolean()
      .default(false)
      .describe('Recompute each decoder layer in the backward pass instead of keeping its activations: much less memory, a little more time'),
    backend: trainBackendField,
  };
}

type OptimiserParams = z.output<z.ZodObject<ReturnType<typeof optimiserFields>>>;

/** The library's optimiser settings from a node's parsed parameters (the seed stays the node's own). */
export function optimiserSettings(p: OptimiserParams): OptimiserSettings & { steps: number } {
  return {
    steps: p.steps,
    lr: p.lr,
    warmupSteps: p.warmupSteps,
    schedule: p.schedule,
    gradAccum: p.gradAccum,
    maxGradNorm: p.maxGradNorm,
    weightDecay: p.weightDecay,
    gradientCheckpointing: p.gradientCheckpointing,
  };
}
