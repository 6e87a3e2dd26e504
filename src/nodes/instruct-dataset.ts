/**
 * Dataset with `format: "instruction"`: a local JSONL of prompt/completion, Alpaca or chat records (detected or
 * chosen, fields renamed by `fields`), or the built-in arithmetic task; split by record like documents, and
 * written as normalized records (src/loram/data/instruct-records.ts). The chat template is applied later, by
 * the node that knows the model (LoRA-Train, Evaluate).
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { DatasetSplitInfo } from '../shared';
import type { InstructRecord, InstructFormat, FieldMap } from '../loram/data/instruct-records';
import type { NodeContext, NodeResult } from './definition';
import { NodeInputError } from './errors';

export interface InstructDatasetParams {
  file: string | null;
  instructFormat: InstructFormat | 'auto';
  fields: FieldMap;
  skipInvalid: boolean;
  /** Carried on the dataset value: LoRA-Train packs several examples per sequence. */
  packing: boolean;
  maxDocuments?: number;
  valFraction: number;
  testFraction: number;
  seed: number;
}

async function readRecords(ctx: NodeContext, p: InstructDatasetParams): Promise<{ records: InstructRecord[]; source: string }> {
  if (p.file === null) {
    const { arithmeticTask } = await import('../loram/data/arithmetic-task');
    return { records: arithmeticTask(), source: 'built-in task arithmetic (single-digit addition)' };
  }
  const { parseInstructJsonl } = await import('../loram/data/instruct-records');
  let text: string;
  try {
    text = await fsp.readFile(p.file, 'utf8');
  } catch (e) {
    throw new NodeInputError(`cannot read ${p.file}: ${(e as Error).message}`);
  }
  let parsed;
  try {
    parsed = parseInstructJsonl(text, p.file, { format: p.instructFormat, fields: p.fields, skipInvalid: p.skipInvalid, idPrefix: `${path.basename(p.file)}/` });
  } catch (e) {
    throw new NodeInputError((e as Error).message);
  }
  if (parsed.skipped) ctx.log(`${p.file}: skipped ${parsed.skipped} malformed line(s), first: ${parsed.invalid.slice(0, 3).map((i) => `line ${i.line}: ${i.reason}`).join('; ')}`, 'warn');
  return { records: parsed.records, source: `file ${p.file} (${parsed.format})` };
}

export async function instructionDataset(ctx: NodeContext, p: InstructDatasetParams): Promise<NodeResult> {
  const { splitDocuments } = await import('../loram/data/corpora');
  const read = await readRecords(ctx, p);
  let records = read.records;
  if (p.maxDocuments !== undefined) {
    const { Rng } = await import('../loram/util/rng');
    records = new Rng(p.seed).shuffle([...records]).slice(0, p.maxDocuments);
  }
  const seen = new Set<string>();
  const dup = records.find((r) => (seen.has(r.id) ? true : (seen.add(r.id), false)))?.id;
  if (dup !== undefined) throw new NodeInputError(`${read.source}: duplicate record id "${dup}"`);
  if (records.length < 3) throw new NodeInputError(`${read.source}: only ${records.length} record(s); need at least 3 to split into train/val/test`);
  const splits = splitDocuments(records, { valFraction: p.valFraction, testFraction: p.testFraction, seed: p.seed });
  const info = {} as Record<'train' | 'val' | 'test', DatasetSplitInfo>;
  for (const name of ['train', 'val', 'test'] as const) {
    const rows = splits[name];
    const lines = rows.map((r) => JSON.stringify(r));
    await fsp.writeFile(path.join(ctx.outDir, `${name}.jsonl`), lines.join('\n') + (rows.length ? '\n' : ''));
    info[name] = { path: `${name}.jsonl`, documents: rows.length, chars: lines.reduce((a, l) => a + l.length, 0) };
  }
  ctx.log(`${read.source}: ${records.length} records → train ${info.train.documents}, val ${info.val.documents}, test ${info.test.documents}`);
  return {
    outputs: { dataset: { type: 'dataset', format: 'instruction', location: ctx.output(''), source: read.source, splits: info, ...(p.packing ? { packing: true } : {}) } },
    metrics: { records: records.length, trainRecords: info.train.documents, valRecords: info.val.documents, testRecords: info.test.documents },
  };
}
