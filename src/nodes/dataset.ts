/**
 * Dataset: a packaged public-domain corpus or a local .txt / .jsonl file, split into train / val / test at the
 * document level (no document straddles two splits), written as JSONL into the artifact.
 * With `format: "multiple-choice"` the same documents and the same split become a multiple-choice set instead
 * (src/loram/data/multiple-choice.ts): each split's items come only from that split's documents, so a
 * multiple-choice Dataset with the split parameters of a text Dataset never tests text the model trained on.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { DatasetSplitInfo } from '../shared';
import { resolvePath } from './sources';
import { defineNode, type NodeContext, type NodeResult } from './definition';
import { NodeInputError } from './errors';
import { checkMcBenchmarkParams, mcBenchmarkDataset, mcBenchmarkParams } from './mc-benchmark-dataset';
import { FIELD_KEYS, type FieldKey, type FieldMap } from '../loram/data/instruct-records';

export const DATASET_SOURCES = ['sotu', 'moby-dick', 'brown', 'file', 'arithmetic'] as const;

const FIELD_DOC: Record<FieldKey, string> = {
  prompt: 'prompt/completion: the prompt field (default "prompt")',
  completion: 'prompt/completion: the completion field (default "completion")',
  instruction: 'Alpaca: the instruction field (default "instruction")',
  input: 'Alpaca: the optional input field (default "input")',
  output: 'Alpaca: the output field (default "output")',
  system: 'Alpaca: an optional system-prompt field (default "system")',
  messages: 'chat: the list of messages (default "messages", or ShareGPT\'s "conversations")',
  role: 'chat: a message\'s role field (default "role", or "from")',
  content: 'chat: a message\'s text field (default "content", or "value")',
};

/** Instruction data: one optional text field per name a format reads (`promptField`, …), for the inspector. */
function fieldMappingParams() {
  return Object.fromEntries(FIELD_KEYS.map((k) => [`${k}Field`, z.string().min(1).optional().describe(`Instruction data, field mapping — ${FIELD_DOC[k]}`)])) as Record<`${FieldKey}Field`, z.ZodOptional<z.ZodString>>;
}

function fieldMap(p: Partial<Record<`${FieldKey}Field`, string>>): FieldMap {
  return Object.fromEntries(FIELD_KEYS.filter((k) => p[`${k}Field`] !== undefined).map((k) => [k, p[`${k}Field`]!]));
}

export const datasetParams = z
  .strictObject({
    source: z
      .enum(DATASET_SOURCES)
      .default('sotu')
      .describe('A packaged corpus (State of the Union addresses, Moby Dick, the Brown corpus), "file" for a local .txt/.jsonl, or "arithmetic": the built-in instruction task (single-digit addition, exact match)'),
    path: z.string().optional().describe('With source "file": a .txt file (documents separated by blank lines) or a .jsonl file (one JSON object per line)'),
    textField: z.string().min(1).default('text').describe('With a .jsonl file: the field that holds the text'),
    categories: z.array(z.string().min(1)).optional().describe('Brown only: keep these categories (e.g. news, fiction)'),
    maxDocuments: z.number().int().positive().optional().describe('Keep at most this many documents'),
    maxChars: z.number().int().positive().optional().describe('Stop collecting documents after this many characters'),
    valFraction: z.number().min(0).max(0.5).default(0.1).describe('Share of documents held out for validation'),
    testFraction: z.number().min(0).max(0.5).default(0.1).describe('Share of documents held out for testing'),
    seed: z.number().int().min(0).default(0).describe('Seed of the document shuffle that assigns splits'),
    // The fields below are optional without defaults so that text datasets keep their cache signatures.
    maxDocumentChars: z.number().int().min(200).optional().describe('Cut every document at the last sentence end within this many characters (the split is unchanged)'),
    format: z.enum(['documents', 'multiple-choice', 'instruction']).optional().describe('documents (default): text for training and perplexity; multiple-choice: a true-continuation test built from each split\'s documents; instruction: prompt/completion, Alpaca or chat records for supervised fine-tuning and exact match (the default of source "arithmetic")'),
    instructFormat: z.enum(['auto', 'prompt-completion', 'alpaca', 'chat']).optional().describe('Instruction data: the record shape of the .jsonl (default auto: detected from the first record)'),
    ...fieldMappingParams(),
    skipInvalid: z.boolean().optional().describe('Instruction data: skip malformed lines and count them instead of failing at the first (default false)'),
    packing: z.boolean().optional().describe('Instruction data: LoRA-Train packs several short examples into each sequence of seqLen tokens (labels still on the answers only, attention kept within each example); default off, one example per sequence'),
    mcChoices: z.number().int().min(2).max(8).optional().describe('Multiple choice: choices per item, the true continuation included (default 4)'),
    mcGeneralDistractors: z.number().int().min(0).max(7).optional().describe('Multiple choice: distractors taken from a general corpus; the others come from other documents of the same split (default 1)'),
    mcGeneralCorpus: z.enum(['brown', 'moby-dick']).optional().describe('Multiple choice: the general corpus of those distractors (default brown)'),
    mcContextWords: z.number().int().min(4).max(400).optional().describe('Multiple choice: words of context before the continuation (default 40)'),
    mcContinuationWords: z.number().int().min(2).max(100).optional().describe('Multiple choice: words in every choice (default 10)'),
    mcItemsPerDocument: z.number().int().min(1).max(1000).optional().describe('Multiple choice: at most this many items from one document (default 8)'),
    mcMaxItems: z.number().int().min(1).max(100000).optional().describe('Multiple choice: at most this many items per split (default 200)'),
    ...mcBenchmarkParams,
  })
  .superRefine((p, ctx) => {
    if (p.source === 'file' && !p.path) ctx.addIssue({ code: 'custom', path: ['path'], message: 'source "file" needs a path' });
    if (p.source === 'file' && p.path && !/\.(txt|jsonl)$/i.test(p.path)) ctx.addIssue({ code: 'custom', path: ['path'], message: 'must end in .txt or .jsonl' });
    checkInstructionParams(p, ctx);
    checkMcBenchmarkParams(p, ctx);
    if (p.categories && p.source !== 'brown') ctx.addIssue({ code: 'custom', path: ['categories'], message: 'only the brown corpus has categories' });
    if (p.valFraction + p.testFraction >= 1) ctx.addIssue({ code: 'custom', path: ['valFraction'], message: 'valFraction + testFraction must be below 1' });
    const mcKeys = ['mcChoices', 'mcGeneralDistractors', 'mcGeneralCorpus', 'mcContextWords', 'mcContinuationWords', 'mcItemsPerDocument', 'mcMaxItems'] as const;
    if (p.format !== 'multiple-choice') {
      for (const k of mcKeys) if (p[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: 'only used with format "multiple-choice"' });
    } else if (p.mcShape === undefined && (p.mcGeneralDistractors ?? 1) > (p.mcChoices ?? 4) - 1) {
      ctx.addIssue({ code: 'custom', path: ['mcGeneralDistractors'], message: 'must be at most mcChoices − 1' });
    }
  });

type Doc = { id: string; text: string };


function checkInstructionParams(p: { source: string; path?: string; format?: string; instructFormat?: string; skipInvalid?: boolean; packing?: boolean; mcShape?: string } & Partial<Record<`${FieldKey}Field`, string>>, ctx: z.RefinementCtx) {
  const instruction = p.format === 'instruction' || (p.source === 'arithmetic' && p.format === undefined);
  if (p.packing !== undefined && !instruction) ctx.addIssue({ code: 'custom', path: ['packing'], message: 'only used with format "instruction" (documents are already cut into full sequences)' });
  if (p.source === 'arithmetic' && !instruction) ctx.addIssue({ code: 'custom', path: ['format'], message: 'the arithmetic task is instruction data: format must be "instruction" (or unset)' });
  if (instruction && !['file', 'arithmetic'].includes(p.source)) ctx.addIssue({ code: 'custom', path: ['source'], message: 'instruction data comes from "file" (a .jsonl) or the built-in "arithmetic" task' });
  if (instruction && p.source === 'file' && p.path && !/\.jsonl$/i.test(p.path)) ctx.addIssue({ code: 'custom', path: ['path'], message: 'instruction data must be a .jsonl file' });
  const fileOnly = ['instructFormat', 'skipInvalid', ...FIELD_KEYS.map((k) => `${k}Field` as const)] as const;
  for (const k of fileOnly) {
    if (p[k] === undefined || (k === 'skipInvalid' && p.mcShape !== undefined)) continue;
    if (!instruction) ctx.addIssue({ code: 'custom', path: [k], message: 'only used with format "instruction"' });
    else if (p.source !== 'file') ctx.addIssue({ code: 'custom', path: [k], message: 'only used with an instruction .jsonl file (source "file")' });
  }
}

async function readFileDocs(file: string, textField: string): Promise<Doc[]> {
  const text = await fsp.readFile(file, 'utf8');
  const base = path.basename(file);
  if (/\.txt$/i.test(file)) {
    return text
      .split(/\r?\n\s*\r?\n/)
      .map((t) => t.trim())
      .filter(Boolean)
      .map((t, i) => ({ id: `${base}/${i}`, text: t }));
  }
  const docs: Doc[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw new NodeInputError(`${file}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
    const t = obj && typeof obj === 'object' ? (obj as Record<string, unknown>)[textField] : undefined;
    if (typeof t !== 'string' || !t.trim()) throw new NodeInputError(`${file}:${i + 1}: no non-empty string field "${textField}"`);
    const id = (obj as Record<string, unknown>).id;
    docs.push({ id: typeof id === 'string' || typeof id === 'number' ? `${base}/${id}` : `${base}/${i + 1}`, text: t });
  });
  return docs;
}

export const datasetNode = defineNode({
  type: 'Dataset',
  version: 1,
  title: 'Dataset',
  category: 'data',
  doc: 'Text from a packaged corpus or a local .txt/.jsonl file, split into train/val/test by document.',
  inputs: [],
  outputs: [{ name: 'dataset', type: 'dataset', title: 'Dataset' }],
  params: datasetParams,
  files: (p, { baseDir }) => (p.source === 'file' && p.path ? [{ field: 'path', path: resolvePath(p.path, baseDir), kind: 'file' }] : []),
  staticOutputs: () => ({ dataset: { type: 'dataset' } }),
  async run(ctx, _inputs, p) {
    if (p.format === 'instruction' || p.source === 'arithmetic') {
      const { instructionDataset } = await import('./instruct-dataset');
      const file = p.source === 'file' ? resolvePath(p.path!, ctx.baseDir) : null;
      return instructionDataset(ctx, { ...p, file, instructFormat: p.instructFormat ?? 'auto', fields: fieldMap(p), skipInvalid: p.skipInvalid ?? false, packing: p.packing ?? false });
    }
    if (p.mcShape !== undefined) return mcBenchmarkDataset(ctx, { ...p, mcShape: p.mcShape, file: resolvePath(p.path!, ctx.baseDir) });
    const { loadCorpus, splitDocuments, normalizeText } = await import('../loram/data/corpora');
    let docs: Doc[];
    let source: string;
    if (p.source === 'file') {
      const file = resolvePath(p.path!, ctx.baseDir);
      docs = (await readFileDocs(file, p.textField)).map((d) => ({ ...d, text: normalizeText(d.text) })).filter((d) => d.text);
      let chars = 0;
      docs = docs.filter((d, i) => {
        if (p.maxDocuments !== undefined && i >= p.maxDocuments) return false;
        if (p.maxChars !== undefined && chars >= p.maxChars) return false;
        chars += d.text.length;
        return true;
      });
      source = `file ${file}`;
    } else {
      docs = loadCorpus(p.source, { maxDocuments: p.maxDocuments, maxChars: p.maxChars, categories: p.categories }).map((d) => ({ id: d.id, text: d.text }));
      source = `corpus ${p.source}`;
    }
    if (p.maxDocumentChars !== undefined) {
      const { truncateAtSentence } = await import('../loram/data/text-units');
      docs = docs.map((d) => ({ ...d, text: truncateAtSentence(d.text, p.maxDocumentChars!) }));
      source += `, documents cut to ${p.maxDocumentChars} characters`;
    }
    const seen = new Set<string>();
    for (const d of docs) {
      if (seen.has(d.id)) throw new NodeInputError(`${source}: duplicate document id "${d.id}"`);
      seen.add(d.id);
    }
    if (docs.length < 3) throw new NodeInputError(`${source}: only ${docs.length} document(s); need at least 3 to split into train/val/test`);
    const splits = splitDocuments(docs, { valFraction: p.valFraction, testFraction: p.testFraction, seed: p.seed });
    if (p.format === 'multiple-choice') return multipleChoice(ctx, splits, source, p);
    const info = {} as Record<'train' | 'val' | 'test', DatasetSplitInfo>;
    for (const name of ['train', 'val', 'test'] as const) {
      const rows = splits[name];
      const file = `${name}.jsonl`;
      await fsp.writeFile(path.join(ctx.outDir, file), rows.map((d) => JSON.stringify({ id: d.id, text: d.text })).join('\n') + (rows.length ? '\n' : ''));
      info[name] = { path: file, documents: rows.length, chars: rows.reduce((a, d) => a + d.text.length, 0) };
    }
    ctx.log(`${source}: ${docs.length} documents → train ${info.train.documents}, val ${info.val.documents}, test ${info.test.documents}`);
    return {
      outputs: { dataset: { type: 'dataset', format: 'documents', location: ctx.output(''), source, splits: info } },
      metrics: { documents: docs.length, trainChars: info.train.chars, valChars: info.val.chars, testChars: info.test.chars },
    };
  },
});

/** format "multiple-choice": true-continuation items from each split's own documents. */
async function multipleChoice(ctx: NodeContext, splits: Record<'train' | 'val' | 'test', Doc[]>, source: string, p: z.output<typeof datasetParams>): Promise<NodeResult> {
  const { buildContinuationItems, continuationChance, CONTINUATION_MC_DEFAULTS: D } = await import('../loram/data/multiple-choice');
  const { loadCorpus } = await import('../loram/data/corpora');
  const choices = p.mcChoices ?? D.choices;
  const generalDistractors = p.mcGeneralDistractors ?? D.generalDistractors;
  const generalCorpus = p.mcGeneralCorpus ?? 'brown';
  const general = generalDistractors > 0 ? loadCorpus(generalCorpus).map((d) => ({ id: d.id, text: d.text })) : [];
  const info = {} as Record<'train' | 'val' | 'test', DatasetSplitInfo>;
  const counts: Record<string, number> = {};
  for (const [i, name] of (['train', 'val', 'test'] as const).entries()) {
    const docs = splits[name];
    let items: ReturnType<typeof buildContinuationItems> = [];
    if (docs.length) {
      try {
        items = buildContinuationItems(docs, general, {
          seed: p.seed * 3 + i,
          choices,
          generalDistractors,
          contextWords: p.mcContextWords ?? D.contextWords,
          continuationWords: p.mcContinuationWords ?? D.continuationWords,
          itemsPerDocument: p.mcItemsPerDocument ?? D.itemsPerDocument,
          maxItems: p.mcMaxItems ?? D.maxItems,
        });
      } catch (e) {
        throw new NodeInputError(`${source}, ${name} split: ${(e as Error).message}`);
      }
    }
    const file = `${name}.jsonl`;
    await fsp.writeFile(path.join(ctx.outDir, file), items.map((it) => JSON.stringify(it)).join('\n') + (items.length ? '\n' : ''));
    info[name] = { path: file, documents: items.length, chars: items.reduce((a, it) => a + it.context.length + it.choices.reduce((b, c) => b + c.length, 0), 0) };
    counts[`${name}Items`] = items.length;
  }
  if (info.test.documents === 0) ctx.log('the test split has no multiple-choice items (too few or too short documents)', 'warn');
  const { chance, styleOnly } = continuationChance(choices, generalDistractors);
  const mcSource = `multiple choice (true continuation, ${choices} choices, ${generalDistractors} from ${generalCorpus}) from ${source}`;
  ctx.log(`${mcSource}: train ${info.train.documents}, val ${info.val.documents}, test ${info.test.documents} items; chance ${(chance * 100).toFixed(1)}%`);
  return {
    outputs: { dataset: { type: 'dataset', format: 'multiple-choice', location: ctx.output(''), source: mcSource, splits: info } },
    metrics: { ...counts, choices, generalDistractors, chance, styleOnlyCeiling: styleOnly },
  };
}
