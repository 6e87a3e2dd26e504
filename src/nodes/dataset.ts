/**
 * Dataset: a packaged public-domain corpus or a local .txt / .jsonl file, split into train / val / test at the
 * document level (no document straddles two splits), written as JSONL into the artifact.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { DatasetSplitInfo } from '../shared';
import { resolvePath } from './builtin';
import { defineNode, NodeInputError } from './types';

export const DATASET_SOURCES = ['sotu', 'moby-dick', 'brown', 'file'] as const;

export const datasetParams = z
  .strictObject({
    source: z
      .enum(DATASET_SOURCES)
      .default('sotu')
      .describe('A packaged corpus (State of the Union addresses, Moby Dick, the Brown corpus) or "file" for a local .txt/.jsonl'),
    path: z.string().optional().describe('With source "file": a .txt file (documents separated by blank lines) or a .jsonl file (one JSON object per line)'),
    textField: z.string().min(1).default('text').describe('With a .jsonl file: the field that holds the text'),
    categories: z.array(z.string().min(1)).optional().describe('Brown only: keep these categories (e.g. news, fiction)'),
    maxDocuments: z.number().int().positive().optional().describe('Keep at most this many documents'),
    maxChars: z.number().int().positive().optional().describe('Stop collecting documents after this many characters'),
    valFraction: z.number().min(0).max(0.5).default(0.1).describe('Share of documents held out for validation'),
    testFraction: z.number().min(0).max(0.5).default(0.1).describe('Share of documents held out for testing'),
    seed: z.number().int().min(0).default(0).describe('Seed of the document shuffle that assigns splits'),
  })
  .superRefine((p, ctx) => {
    if (p.source === 'file' && !p.path) ctx.addIssue({ code: 'custom', path: ['path'], message: 'source "file" needs a path' });
    if (p.source === 'file' && p.path && !/\.(txt|jsonl)$/i.test(p.path)) ctx.addIssue({ code: 'custom', path: ['path'], message: 'must end in .txt or .jsonl' });
    if (p.categories && p.source !== 'brown') ctx.addIssue({ code: 'custom', path: ['categories'], message: 'only the brown corpus has categories' });
    if (p.valFraction + p.testFraction >= 1) ctx.addIssue({ code: 'custom', path: ['valFraction'], message: 'valFraction + testFraction must be below 1' });
  });

type Doc = { id: string; text: string };

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
    const seen = new Set<string>();
    for (const d of docs) {
      if (seen.has(d.id)) throw new NodeInputError(`${source}: duplicate document id "${d.id}"`);
      seen.add(d.id);
    }
    if (docs.length < 3) throw new NodeInputError(`${source}: only ${docs.length} document(s); need at least 3 to split into train/val/test`);
    const splits = splitDocuments(docs, { valFraction: p.valFraction, testFraction: p.testFraction, seed: p.seed });
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
