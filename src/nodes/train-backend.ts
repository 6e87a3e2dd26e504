/**
 * Which engine trains (LoRA-Train, Align): ONNX Runtime by default, TensorFlow.js as the reference. `auto` follows
 * LORAM_TRAIN_BACKEND (ort | tfjs) and is ONNX Runtime otherwise; LORAM_THREADS sets ORT's intra-op threads
 * (default: the node's share of the cores, backend/cores.ts), LORAM_ORT_PROVIDER pins a provider (cuda | webgpu | cpu; default CUDA → WebGPU → CPU).
 */
import { z } from 'zod';
import type { OrtTrainSessionOptions } from '../loram/ort-train/session';
import { threadsPerNode } from '../loram/backend/cores';

export const TRAIN_BACKENDS = ['auto', 'ort', 'tfjs'] as const;
export type TrainBackendChoice = (typeof TRAIN_BACKENDS)[number];

export const trainBackendField = z
  .enum(TRAIN_BACKENDS)
  .default('auto')
  .describe('Training engine: ort = ONNX Runtime (CUDA → WebGPU → CPU), tfjs = TensorFlow.js (the reference); auto = LORAM_TRAIN_BACKEND, else ort');

export function resolveTrainBackend(choice: TrainBackendChoice, env: NodeJS.ProcessEnv = process.env): 'ort' | 'tfjs' {
  if (choice !== 'auto') return choice;
  const e = env.LORAM_TRAIN_BACKEND?.trim().toLowerCase();
  if (!e) return 'ort';
  if (e !== 'ort' && e !== 'tfjs') throw new Error(`LORAM_TRAIN_BACKEND must be "ort" or "tfjs", got "${env.LORAM_TRAIN_BACKEND}"`);
  return e;
}

export function ortTrainOptions(env: NodeJS.ProcessEnv = process.env): OrtTrainSessionOptions {
  const o: OrtTrainSessionOptions = { threads: threadsPerNode(env) };
  // Speed over memory: ORT's CPU arena back on (~6–10% faster steps, up to ~80 MiB more held; onnx/runtime.ts).
  const arena = env.LORAM_ORT_ARENA?.trim().toLowerCase();
  if (arena) {
    if (arena !== 'on' && arena !== 'off') throw new Error(`LORAM_ORT_ARENA must be "on" or "off", got "${env.LORAM_ORT_ARENA}"`);
    o.cpuArena = arena === 'on';
  }
  const p = env.LORAM_ORT_PROVIDER?.trim().toLowerCase();
  if (p) {
    if (p !== 'cuda' && p !== 'webgpu' && p !== 'cpu' && p !== 'auto') throw new Error(`LORAM_ORT_PROVIDER must be cuda, webgpu, cpu or auto, got "${env.LORAM_ORT_PROVIDER}"`);
    o.provider = p;
  }
  return o;
}
