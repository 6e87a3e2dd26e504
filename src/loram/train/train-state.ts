/**
 * A training run's full state, so a crashed or cancelled run resumes where it stopped and ends with the same
 * weights as an uninterrupted one: the trainable tensors and AdamW's moments and step, the loop's position and
 * history. Data order and dropout masks are functions of the step (microSeed, batch draws), so the step is their
 * state too. Saved as one directory — `state.safetensors` (float32, bit-exact) + `state.json` — written
 * atomically, so a kill mid-write leaves the previous checkpoint intact.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { atomicWriteDir, atomicWriteFile } from '../io/atomic';
import { readSafetensorsFile, writeSafetensorsFile } from '../io/safetensors';

/** The optimizer's part: its step count and, per trainable tensor, weights and both moments. */
export interface OptimizerState {
  step: number;
  params: Float32Array[];
  m: Float32Array[];
  v: Float32Array[];
}

/** The loop's part: optimiser steps done and what it has recorded so far. */
export interface LoopState {
  step: number;
  losses: number[];
  lrs: number[];
  tokens: number;
  positions: number;
}

export interface TrainState {
  loop: LoopState;
  optimizer: OptimizerState;
}

/** When to save: every `everySteps` steps and/or every `everyMs` milliseconds (0 = not by that measure). */
export interface CheckpointPolicy {
  everySteps: number;
  everyMs: number;
  save(state: TrainState): Promise<void>;
}

const TENSORS = 'state.safetensors';
const META = 'state.json';
const FORMAT = 1;

interface Meta {
  format: number;
  /** What the state belongs to (a node signature); a checkpoint of something else is never resumed. */
  owner: string;
  loop: LoopState;
  optimizerStep: number;
  tensors: number;
}

export async function saveTrainState(dir: string, owner: string, s: TrainState): Promise<void> {
  const o = s.optimizer;
  const tensors: [string, { shape: number[]; data: Float32Array }][] = [];
  o.params.forEach((p, i) => {
    for (const [k, a] of [['p', p], ['m', o.m[i]!], ['v', o.v[i]!]] as const) tensors.push([`${k}.${i}`, { shape: [a.length], data: a }]);
  });
  const meta: Meta = { format: FORMAT, owner, loop: s.loop, optimizerStep: o.step, tensors: o.params.length };
  await atomicWriteDir(dir, async (tmp) => {
    await writeSafetensorsFile(path.join(tmp, TENSORS), tensors);
    await atomicWriteFile(path.join(tmp, META), JSON.stringify(meta));
  });
}

/** The saved state of `owner` in `dir`, or null when there is none (or it belongs to something else). */
export async function loadTrainState(dir: string, owner: string): Promise<TrainState | null> {
  let meta: Meta;
  try {
    meta = JSON.parse(await fsp.readFile(path.join(dir, META), 'utf8')) as Meta;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`training checkpoint ${dir} is unreadable (${(e as Error).message}); delete it to start over`);
  }
  if (meta.format !== FORMAT || meta.owner !== owner) return null;
  const { tensors } = await readSafetensorsFile(path.join(dir, TENSORS));
  const get = (k: string, i: number) => {
    const t = tensors.get(`${k}.${i}`);
    if (!t) throw new Error(`training checkpoint ${dir} lacks tensor ${k}.${i}; delete it to start over`);
    return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
  };
  const idx = [...Array(meta.tensors).keys()];
  return { loop: meta.loop, optimizer: { step: meta.optimizerStep, params: idx.map((i) => get('p', i)), m: idx.map((i) => get('m', i)), v: idx.map((i) => get('v', i)) } };
}

/** Check a loaded state against the run it is to resume: same tensors, same sizes, not past the end. */
export function checkResumable(s: TrainState, sizes: readonly number[], steps: number): void {
  const o = s.optimizer;
  if (o.params.length !== sizes.length || o.params.some((p, i) => p.length !== sizes[i] || o.m[i]!.length !== p.length || o.v[i]!.length !== p.length)) {
    throw new Error(`the training checkpoint holds ${o.params.length} tensors that do not match this run's ${sizes.length} trainable tensors; delete it to start over`);
  }
  if (!(s.loop.step >= 0 && s.loop.step <= steps)) throw new Error(`the training checkpoint is at step ${s.loop.step}, outside this run's ${steps} steps`);
}
