/**
 * How LoRA-Train and Evaluate use an instruction dataset with a model: its records, the model's chat template
 * (tokenizer_config.json's `chat_template`, or the plain default), the supervised rows (loss on the replies
 * only), which answer-only perplexity scores too.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { DatasetValue, ModelValue } from '../shared';
import type { ChatTemplate, TemplateTokens } from '../loram/data/chat-template';
import type { InstructRecord } from '../loram/data/instruct-records';
import type { LoadedTokenizer } from '../loram/tokenizer/tokenizer';
import type { NodeContext } from './definition';
import { NodeInputError } from './errors';

type Split = 'train' | 'val' | 'test';

export async function readInstructions(ctx: NodeContext, ds: DatasetValue, split: Split): Promise<InstructRecord[]> {
  if (ds.format !== 'instruction') throw new NodeInputError(`expected an instruction dataset, got a ${ds.format} dataset (${ds.source})`);
  const text = await fsp.readFile(path.join(ctx.resolve(ds.location), ds.splits[split].path), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as InstructRecord);
}

export interface ModelTemplate {
  template: ChatTemplate;
  tokens: TemplateTokens;
  /** Special-token strings: a reply's trained text ends after the first of them (its end-of-turn token). */
  specials: string[];
}

export async function modelTemplate(ctx: NodeContext, m: ModelValue, tok: LoadedTokenizer): Promise<ModelTemplate> {
  const { chatTemplate, templateFromConfig } = await import('../loram/data/chat-template');
  const file = path.join(ctx.resolve(m.location), 'tokenizer_config.json');
  let config: Record<string, unknown> = {};
  try {
    config = JSON.parse(await fsp.readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new NodeInputError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const tokens = { bosToken: tok.bosToken, eosToken: tok.eosToken };
  const specials = [...tok.specialIds].map((id) => tok.idToToken(id)).filter((s): s is string => !!s && s !== tok.bosToken && s !== tok.padToken);
  try {
    return { template: chatTemplate(templateFromConfig(config), tokens), tokens, specials };
  } catch (e) {
    throw new NodeInputError(`${file}: ${(e as Error).message}`);
  }
}

/** Supervised rows of a split (loss on completions / assistant replies), with truncation counted; packed on request. */
export async function sftSplit(ctx: NodeContext, ds: DatasetValue, split: Split, tok: LoadedTokenizer, t: ModelTemplate, seqLen: number, pack = false) {
  const { recordSegments } = await import('../loram/data/chat-template');
  const { sftRows, packSftRows } = await import('../loram/data/sft');
  const records = await readInstructions(ctx, ds, split);
  const segments = records.map((r) => {
    try {
      return recordSegments(t.template, r, t.tokens, t.specials);
    } catch (e) {
      throw new NodeInputError(`${ds.source}, ${split} record "${r.id}": ${(e as Error).message}`);
    }
  });
  if (pack) return packSftRows(tok, segments, seqLen);
  const rows = sftRows(tok, segments, seqLen);
  return { ...rows, examples: rows.rows.length };
}
