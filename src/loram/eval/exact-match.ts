/**
 * Generation scored by exact match, as lm-evaluation-harness's generate_until tasks do: the answer is extracted
 * from the generated text by a regex (first match, group 1 if any; GSM8K's "#### 42" is a preset), normalized
 * (commas, "$" and a final "." removed, trimmed), and compared with the gold answer extracted the same way (the
 * whole gold text when the regex does not match it). Few-shot examples are drawn from a train split with a seed.
 */
import { Rng } from '../util/rng';
import { meanStderr } from './multiple-choice';

export const ANSWER_PRESETS = {
  /** GSM8K's strict-match filter. */
  gsm8k: '#### (\\-?[0-9\\.\\,]+)',
  /** The first number in the text (GSM8K's flexible-extract takes the last; a short answer has one). */
  'first-number': '(-?[0-9][0-9,]*(?:\\.[0-9]+)?)',
  /** The whole text, trimmed. */
  none: '',
} as const;
export type AnswerPreset = keyof typeof ANSWER_PRESETS;

export function answerRegex(pattern: string): RegExp | null {
  if (pattern === '') return null;
  try {
    return new RegExp(pattern, 's');
  } catch (e) {
    throw new Error(`answer regex ${JSON.stringify(pattern)} does not compile: ${(e as Error).message}`);
  }
}

export function normalizeAnswer(s: string): string {
  return s.replace(/[,$]/g, '').trim().replace(/\.$/, '').trim();
}

/** The extracted, normalized answer; null when the regex finds nothing. */
export function extractAnswer(text: string, re: RegExp | null): string | null {
  if (!re) return normalizeAnswer(text);
  const m = re.exec(text);
  if (!m) return null;
  return normalizeAnswer(m[1] ?? m[0]);
}

export interface ExactMatchItem {
  id: string;
  prompt: string;
  generated: string;
  extracted: string | null;
  gold: string;
  correct: boolean;
}

export function scoreItem(id: string, prompt: string, generated: string, goldText: string, re: RegExp | null): ExactMatchItem {
  const extracted = extractAnswer(generated, re);
  const gold = extractAnswer(goldText, re) ?? normalizeAnswer(goldText);
  return { id, prompt, generated, extracted, gold, correct: extracted !== null && extracted === gold };
}

/** Exact match over items with lm-evaluation-harness's standard error (sample sd / √n). */
export function exactMatchSummary(items: readonly ExactMatchItem[]): { exactMatch: number; stderr: number; n: number } {
  const { mean, stderr } = meanStderr(items.map((i) => (i.correct ? 1 : 0)));
  return { exactMatch: mean, stderr, n: items.length };
}

/** For each of `count` items, `nShot` distinct indices into a pool of `poolSize`, from one seeded stream. */
export function fewShotIndices(count: number, poolSize: number, nShot: number, seed: number): number[][] {
  if (nShot === 0) return Array.from({ length: count }, () => []);
  if (nShot > poolSize) throw new Error(`${nShot}-shot prompts need at least ${nShot} examples in the few-shot split, which has ${poolSize}`);
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => rng.shuffle([...Array(poolSize).keys()]).slice(0, nShot));
}
