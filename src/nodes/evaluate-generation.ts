/**
 * Evaluate's generation task: greedy answers through the model's KV-cache generation (ONNX Runtime or tfjs),
 * n-shot prompts drawn from the train split with a seed, each answer extracted by a regex and scored by exact
 * match; every item's prompt, generation, extraction and verdict kept in results.json.
 */
import type { DatasetValue, ModelValue } from '../shared';
import type { CausalLM, SubjectDescription } from '../loram/eval/index';
import type { LoadedTokenizer } from '../loram/tokenizer/tokenizer';
import type { NodeContext } from './definition';
import { NodeInputError } from './errors';

export interface GenerationParams {
  split: 'train' | 'val' | 'test';
  answerPreset?: 'gsm8k' | 'first-number' | 'none';
  answerRegex?: string;
  nShot?: number;
  fewShotSeed?: number;
  maxNewTokens?: number;
  maxItems?: number;
  batchSize: number;
  onProgress?: (done: number, total: number) => void;
}

export type GenerationEvaluation = Awaited<ReturnType<typeof evaluateGeneration>>;

export const GENERATION_DEFAULTS = { answerPreset: 'first-number', nShot: 0, fewShotSeed: 1234, maxNewTokens: 16 } as const;

export async function evaluateGeneration(ctx: NodeContext, lm: CausalLM, tok: LoadedTokenizer, m: ModelValue, ds: DatasetValue, describe: SubjectDescription, p: GenerationParams) {
  const { readInstructions, modelTemplate } = await import('./instruct-data');
  const { promptAndAnswer } = await import('../loram/data/chat-template');
  const { ANSWER_PRESETS, answerRegex, fewShotIndices, scoreItem, exactMatchSummary } = await import('../loram/eval/exact-match');
  const { generateSamples } = await import('../loram/eval/generate');
  let re: RegExp | null;
  try {
    re = answerRegex(p.answerRegex ?? ANSWER_PRESETS[p.answerPreset ?? GENERATION_DEFAULTS.answerPreset]);
  } catch (e) {
    throw new NodeInputError(`answerRegex: ${(e as Error).message}`);
  }
  const t = await modelTemplate(ctx, m, tok);
  let items = await readInstructions(ctx, ds, p.split);
  if (p.maxItems !== undefined) items = items.slice(0, p.maxItems);
  if (items.length === 0) throw new NodeInputError(`the ${p.split} split of ${ds.source} has no records to generate answers for`);
  const nShot = p.nShot ?? GENERATION_DEFAULTS.nShot;
  const pool = nShot > 0 ? await readInstructions(ctx, ds, 'train') : [];
  let shots: number[][];
  try {
    shots = fewShotIndices(items.length, pool.length, nShot, p.fewShotSeed ?? GENERATION_DEFAULTS.fewShotSeed);
  } catch (e) {
    throw new NodeInputError(`nShot: ${(e as Error).message}`);
  }
  const asked = items.map((r, i) => promptAndAnswer(t.template, r, t.tokens, shots[i]!.map((j) => pool[j]!)));
  const gen = await generateSamples(lm, tok, asked.map((a) => a.prompt), describe, { maxNewTokens: p.maxNewTokens ?? GENERATION_DEFAULTS.maxNewTokens, addBos: false, batchSize: p.batchSize, ...(p.onProgress ? { onProgress: p.onProgress } : {}) });
  const perItem = gen.samples.map((s, i) => scoreItem(items[i]!.id, s.prompt, s.completion, asked[i]!.answer, re));
  const summary = exactMatchSummary(perItem);
  return { ...summary, nShot, regex: re?.source ?? null, template: t.template.source, generatedTokens: gen.generatedTokens, perItem };
}
