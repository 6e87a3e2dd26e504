/**
 * Helpers the node files share to call the ML library (src/loram): open a model value (with load-time NF4 when
 * its lineage says so), its tokenizer, a dataset split, token windows, the prune plan behind a lineage.
 * Everything heavy is imported lazily so listing or validating nodes never loads TensorFlow.js.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { AdapterValue, DatasetValue, ModelLineage, ModelTransform, ModelValue } from '../shared';
import type { NodeContext } from './types';
import { NodeInputError } from './types';

export async function ensureBackend(ctx: NodeContext): Promise<string> {
  const { initBackend, describeBackend } = await import('../loram/backend/backend');
  const b = await initBackend();
  return describeBackend(b);
}

export async function loadModelWeights(ctx: NodeContext, m: ModelValue) {
  const { loadModelDir } = await import('../loram/io/model-dir');
  return loadModelDir(ctx.resolve(m.location));
}

export function quantizeOf(l: ModelLineage): Extract<ModelTransform, { kind: 'quantize' }> | undefined {
  return l.transforms.find((t): t is Extract<ModelTransform, { kind: 'quantize' }> => t.kind === 'quantize');
}
export function pruneOf(l: ModelLineage): Extract<ModelTransform, { kind: 'prune' }> | undefined {
  return l.transforms.find((t): t is Extract<ModelTransform, { kind: 'prune' }> => t.kind === 'prune');
}

/** A short human description of a lineage, for results ("loram-large → prune stru 50% → nf4"). */
export function describeModel(l: ModelLineage): string {
  const parts = [l.origin.name];
  for (const t of l.transforms) {
    if (t.kind === 'prune') parts.push(`prune ${t.strategy} ${Math.round(t.ratio * 100)}%`);
    else if (t.kind === 'align') parts.push(`align ${t.steps} steps`);
    else if (t.kind === 'quantize') parts.push(t.scheme);
    else parts.push('merge');
  }
  return parts.join(' → ');
}

export async function loadModelTokenizer(ctx: NodeContext, m: ModelValue) {
  const { loadTokenizer } = await import('../loram/tokenizer/tokenizer');
  return loadTokenizer(ctx.resolve(m.location));
}

/** Documents of one split of a `documents` dataset. */
export async function readDocuments(ctx: NodeContext, ds: DatasetValue, split: 'train' | 'val' | 'test'): Promise<string[]> {
  if (ds.format !== 'documents') throw new NodeInputError(`expected a text dataset, got a ${ds.format} dataset (${ds.source})`);
  const file = path.join(ctx.resolve(ds.location), ds.splits[split].path);
  const text = await fsp.readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as { text: string }).text);
}

/** Items of one split of a `multiple-choice` dataset. */
export async function readChoices(ctx: NodeContext, ds: DatasetValue, split: 'train' | 'val' | 'test') {
  if (ds.format !== 'multiple-choice') throw new NodeInputError(`expected a multiple-choice dataset, got a ${ds.format} dataset (${ds.source})`);
  const file = path.join(ctx.resolve(ds.location), ds.splits[split].path);
  const text = await fsp.readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => ({ ...(JSON.parse(l) as { id: string; context: string; choices: string[]; answer: number }), line: i + 1 }));
}

/** Token windows of seqLen+1 tokens over the documents (EOS between documents). */
export async function tokenWindows(tok: Parameters<typeof import('../loram/data/lm-data')['tokenStream']>[0], docs: readonly string[], seqLen: number): Promise<Int32Array[]> {
  const { tokenStream, packWindows } = await import('../loram/data/lm-data');
  return packWindows(tokenStream(tok, docs), seqLen);
}

/** The prune plan recorded in a lineage (Recover, and Evaluate of sparse models). */
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

export const DENSE_DELTAS_FILE = 'dense_deltas.safetensors';

/** An adapter value's PEFT adapter, plus the dense deltas of a non-structured recovery (if any). */
export async function loadAdapterValue(ctx: NodeContext, a: AdapterValue) {
  const { loadAdapter } = await import('../loram/lora/adapter');
  const dir = ctx.resolve(a.location);
  const adapter = await loadAdapter(dir);
  const densePath = path.join(dir, DENSE_DELTAS_FILE);
  let dense: Map<string, import('../loram/util/tensor').HostTensor> | null = null;
  if (await fsp.access(densePath).then(() => true, () => false)) {
    const { readSafetensorsFile } = await import('../loram/io/safetensors');
    const c = await readSafetensorsFile(densePath);
    dense = new Map([...c.tensors].map(([k, v]) => [k, v]));
  }
  return { adapter, dense, dir };
}

/** Same original model, same transforms (by content, not by node)? */
export function sameModelLineage(a: ModelLineage, b: ModelLineage): boolean {
  return JSON.stringify(stripLocations(a)) === JSON.stringify(stripLocations(b));
}
function stripLocations(l: ModelLineage): unknown {
  return { origin: l.origin.id, transforms: l.transforms.map((t) => (t.kind === 'prune' ? { ...t, plan: undefined } : t)) };
}

/** Write a metrics file and return its location. */
export async function writeMetricsFile(ctx: NodeContext, name: string, file: import('../shared').MetricsFile) {
  await fsp.writeFile(path.join(ctx.outDir, name), JSON.stringify(file, null, 2) + '\n');
  return ctx.output(name);
}
