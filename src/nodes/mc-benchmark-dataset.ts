/**
 * Dataset with `format: "multiple-choice"` and `mcShape` set: a local copy of a multiple-choice benchmark (ARC,
 * HellaSwag, PIQA, or any shape by field names) read as lm-evaluation-harness reads it
 * (src/loram/data/mc-benchmarks.ts), split by item like documents, and written as the {context, choices, answer}
 * items Evaluate scores for acc / acc_norm.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { DatasetSplitInfo } from '../shared';
import { MC_SHAPES, type McFieldNames, type McShape } from '../loram/data/mc-benchmarks';
import type { NodeContext, NodeResult } from './definition';
import { NodeInputError } from './errors';

/** The Dataset params of a benchmark file (optional without defaults: other datasets keep their signatures). */
export const mcBenchmarkParams = {
  mcShape: z.enum(MC_SHAPES).optional().describe('Multiple choice from a .jsonl benchmark file, read as lm-evaluation-harness does: arc, hellaswag, piqa, or fields (name them below)'),
  mcContextField: z.string().min(1).optional().describe('mcShape "fields": the field with the question/context (default question)'),
  mcChoicesField: z.string().min(1).optional().describe('mcShape "fields": the field with the array of choices (default choices)'),
  mcAnswerField: z.string().min(1).optional().describe('mcShape "fields": the field with the answer, an index or a letter A, B, … (default answer)'),
};

const FIELD_PARAMS = ['mcContextField', 'mcChoicesField', 'mcAnswerField'] as const;
/** The continuation test's settings, which a benchmark file does not use. */
const CONTINUATION_PARAMS = ['mcChoices', 'mcGeneralDistractors', 'mcGeneralCorpus', 'mcContextWords', 'mcContinuationWords', 'mcItemsPerDocument', 'mcMaxItems'] as const;

type BenchmarkCheckParams = { source: string; path?: string; format?: string; mcShape?: McShape } & Partial<Record<(typeof FIELD_PARAMS)[number] | (typeof CONTINUATION_PARAMS)[number], unknown>>;

export function checkMcBenchmarkParams(p: BenchmarkCheckParams, ctx: z.RefinementCtx): void {
  if (p.mcShape === undefined) {
    for (const k of FIELD_PARAMS) if (p[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: 'only used with mcShape "fields"' });
    return;
  }
  if (p.format !== 'multiple-choice') ctx.addIssue({ code: 'custom', path: ['mcShape'], message: 'only used with format "multiple-choice"' });
  if (p.source !== 'file') ctx.addIssue({ code: 'custom', path: ['mcShape'], message: 'a benchmark is read from a .jsonl file: source must be "file"' });
  else if (p.path && !/\.jsonl$/i.test(p.path)) ctx.addIssue({ code: 'custom', path: ['path'], message: 'a multiple-choice benchmark must be a .jsonl file' });
  if (p.mcShape !== 'fields') for (const k of FIELD_PARAMS) if (p[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: 'only used with mcShape "fields"' });
  for (const k of CONTINUATION_PARAMS) if (p[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: 'only used for the true-continuation test, not with a benchmark file (mcShape)' });
}

export interface McBenchmarkParams {
  file: string;
  mcShape: McShape;
  mcContextField?: string;
  mcChoicesField?: string;
  mcAnswerField?: string;
  skipInvalid?: boolean;
  maxDocuments?: number;
  valFraction: number;
  testFraction: number;
  seed: number;
}

export async function mcBenchmarkDataset(ctx: NodeContext, p: McBenchmarkParams): Promise<NodeResult> {
  const { readMcBenchmark, DEFAULT_MC_FIELDS } = await import('../loram/data/mc-benchmarks');
  const { splitDocuments } = await import('../loram/data/corpora');
  const fields: McFieldNames = { context: p.mcContextField ?? DEFAULT_MC_FIELDS.context, choices: p.mcChoicesField ?? DEFAULT_MC_FIELDS.choices, answer: p.mcAnswerField ?? DEFAULT_MC_FIELDS.answer };
  let read;
  try {
    read = await readMcBenchmark(p.file, p.mcShape, fields, p.skipInvalid ?? false);
  } catch (e) {
    throw new NodeInputError((e as Error).message);
  }
  const items = p.maxDocuments !== undefined ? read.items.slice(0, p.maxDocuments) : read.items;
  if (items.length < 3) throw new NodeInputError(`${p.file}: ${items.length} valid item(s); need at least 3 to split into train/val/test`);
  if (read.skipped) ctx.log(`${p.file}: skipped ${read.skipped} malformed line(s), first: line ${read.invalid[0]!.line}: ${read.invalid[0]!.reason}`, 'warn');
  const splits = splitDocuments(items, { valFraction: p.valFraction, testFraction: p.testFraction, seed: p.seed });
  const info = {} as Record<'train' | 'val' | 'test', DatasetSplitInfo>;
  for (const name of ['train', 'val', 'test'] as const) {
    const rows = splits[name].map(({ id, context, choices, answer }) => ({ id, context, choices, answer }));
    const file = `${name}.jsonl`;
    await fsp.writeFile(path.join(ctx.outDir, file), rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));
    info[name] = { path: file, documents: rows.length, chars: rows.reduce((a, r) => a + r.context.length + r.choices.reduce((b, c) => b + c.length, 0), 0) };
  }
  const source = `multiple choice (${p.mcShape}) from ${p.file}`;
  ctx.log(`${source}: ${items.length} items → train ${info.train.documents}, val ${info.val.documents}, test ${info.test.documents}`);
  const choices = Math.max(...items.map((it) => it.choices.length));
  const chance = items.reduce((a, it) => a + 1 / it.choices.length, 0) / items.length;
  return {
    outputs: { dataset: { type: 'dataset', format: 'multiple-choice', location: ctx.output(''), source, splits: info } },
    metrics: { trainItems: info.train.documents, valItems: info.val.documents, testItems: info.test.documents, choices, chance, skipped: read.skipped },
  };
}
