/**
 * How nodes read dataset values (documents, multiple-choice items, token windows) and write metrics files.
 * The tokenizer and data code of the ML library are imported when called.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { DatasetValue, MetricsFile } from '../shared';
import type { tokenStream } from '../loram/data/lm-data';
import type { NodeContext } from './definition';
import { NodeInputError } from './errors';

type Split = 'train' | 'val' | 'test';

async function readJsonl(ctx: NodeContext, ds: DatasetValue, split: Split): Promise<unknown[]> {
  const text = await fsp.readFile(path.join(ctx.resolve(ds.location), ds.splits[split].path), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as unknown);
}

/** Documents of one split of a `documents` dataset. */
export async function readDocuments(ctx: NodeContext, ds: DatasetValue, split: Split): Promise<string[]> {
  if (ds.format !== 'documents') throw new NodeInputError(`expected a text dataset, got a ${ds.format} dataset (${ds.source})`);
  return (await readJsonl(ctx, ds, split)).map((d) => (d as { text: string }).text);
}

/** Items of one split of a `multiple-choice` dataset. */
export async function readChoices(ctx: NodeContext, ds: DatasetValue, split: Split) {
  if (ds.format !== 'multiple-choice') throw new NodeInputError(`expected a multiple-choice dataset, got a ${ds.format} dataset (${ds.source})`);
  return (await readJsonl(ctx, ds, split)).map((d, i) => ({ ...(d as { id: string; context: string; choices: string[]; answer: number }), line: i + 1 }));
}

/** Token windows of seqLen+1 tokens over the documents (EOS between documents). */
export async function tokenWindows(tok: Parameters<typeof tokenStream>[0], docs: readonly string[], seqLen: number): Promise<Int32Array[]> {
  const { tokenStream, packWindows } = await import('../loram/data/lm-data');
  return packWindows(tokenStream(tok, docs), seqLen);
}

/** Write a metrics file into the node's artifact and return its location. */
export async function writeMetricsFile(ctx: NodeContext, name: string, file: MetricsFile) {
  await fsp.writeFile(path.join(ctx.outDir, name), JSON.stringify(file, null, 2) + '\n');
  return ctx.output(name);
}
