/**
 * How nodes open what a model or adapter value points to, through the ML library: the backend, the weights, the
 * tokenizer, the prune plan behind a lineage, an adapter (with the dense deltas of a non-structured recovery).
 * Everything heavy is imported when called, so listing or validating nodes never loads TensorFlow.js.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { AdapterValue, ModelLineage, ModelValue } from '../shared';
import type { HostTensor } from '../loram/util/tensor';
import type { NodeContext } from './definition';
import { NodeInputError } from './errors';
import { pruneOf } from './lineage';

// `ctx` is unused today; kept so every node calls it the same way whatever a backend comes to need.
export async function ensureBackend(_ctx: NodeContext): Promise<string> {
  const { initBackend, describeBackend } = await import('../loram/backend/backend');
  const b = await initBackend();
  return describeBackend(b);
}

export async function loadModelWeights(ctx: NodeContext, m: ModelValue) {
  const { loadModelDir } = await import('../loram/io/model-dir');
  return loadModelDir(ctx.resolve(m.location));
}

export async function loadModelTokenizer(ctx: NodeContext, m: ModelValue) {
  const { loadTokenizer } = await import('../loram/tokenizer/tokenizer');
  return loadTokenizer(ctx.resolve(m.location));
}

/** The prune plan recorded in a lineage (Recover, and Align of sparse models). */
export async function readPrunePlan(ctx: NodeContext, l: ModelLineage) {
  const t = pruneOf(l);
  if (!t) return undefined;
  const { planFromJson } = await import('../loram/prune/plan');
  let json: unknown;
  try {
    json = JSON.parse(await fsp.readFile(ctx.resolve(t.plan), 'utf8'));
  } catch (e) {
    throw new NodeInputError(`cannot read the prune plan ${ctx.resolve(t.plan)}: ${(e as Error).message}`);
  }
  return planFromJson(json);
}

/** Next to a recovered adapter: the dense updates of modules a non-structured recovery could not keep low-rank. */
export const DENSE_DELTAS_FILE = 'dense_deltas.safetensors';

/** An adapter value's PEFT adapter, plus the dense deltas of a non-structured recovery (if any). */
export async function loadAdapterValue(ctx: NodeContext, a: AdapterValue) {
  const { loadAdapter } = await import('../loram/lora/adapter');
  const dir = ctx.resolve(a.location);
  const adapter = await loadAdapter(dir);
  const densePath = path.join(dir, DENSE_DELTAS_FILE);
  let dense: Map<string, HostTensor> | null = null;
  if (await fileExists(densePath)) {
    const { readSafetensorsFile } = await import('../loram/io/safetensors');
    const c = await readSafetensorsFile(densePath);
    dense = new Map([...c.tensors].map(([k, v]) => [k, v]));
  }
  return { adapter, dense, dir };
}

export function fileExists(p: string): Promise<boolean> {
  return fsp.access(p).then(
    () => true,
    () => false,
  );
}
