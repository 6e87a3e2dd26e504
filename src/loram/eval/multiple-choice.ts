/**
 * Multiple-choice accuracy by log-likelihood, as lm-evaluation-harness computes it (`output_type:
 * multiple_choice`):
 * - each choice is scored as the continuation `target_delimiter + choice` (delimiter " " by default) of the
 *   context: ll = Σ log p(continuation tokens | context);
 * - context/continuation are tokenized like the harness's `_encode_pair`: trailing whitespace of the context
 *   moves to the continuation, the pair is encoded whole and the continuation is what follows the context's
 *   own encoding; an empty context is replaced by a single prefix token (BOS, else EOS);
 * - `acc` = [argmax ll = answer]; `acc_norm` = [argmax ll / len(choice) = answer] with len counted in
 *   characters (Unicode code points, Python `len`), which is what the harness's code does
 *   (`completion_len = [len(i) for i in choices]`, the choice without the delimiter); `acc_bytes` uses the
 *   UTF-8 byte length instead (the harness's `acc_bytes`, and what its paper describes for acc_norm). For
 *   ASCII choices acc_norm = acc_bytes. argmax takes the first index on ties, like numpy.
 * - stderr of each metric = sample standard deviation / √n (harness `mean_stderr`).
 */
import type { CausalLM } from './lm';
import { rightPad, tokenLogProb } from './lm';
import type { McDataset, McItem } from './datasets';
import type { EvalTokenizer } from './perplexity';
import type { EvalSubject, SubjectDescription } from './subject';
import { subjectOf } from './subject';

export interface LoglikelihoodRequest {
  context: readonly number[];
  continuation: readonly number[];
}

/** lm-evaluation-harness `_encode_pair`. */
export function encodePair(tok: EvalTokenizer, context: string, continuation: string): LoglikelihoodRequest {
  if (context === '') {
    const prefix = tok.bosId ?? tok.eosId;
    if (prefix === null) throw new Error('an empty context needs a prefix token, but the tokenizer has neither BOS nor EOS');
    return { context: [prefix], continuation: tok.encode(continuation) };
  }
  const trimmed = context.replace(/\s+$/u, '');
  const nSpaces = context.length - trimmed.length;
  if (nSpaces > 0) {
    continuation = context.slice(context.length - nSpaces) + continuation;
    context = trimmed;
  }
  const whole = tok.encode(context + continuation);
  const ctx = tok.encode(context);
  return { context: ctx, continuation: whole.slice(ctx.length) };
}

/**
 * Σ log p(continuation | context) per request. Sequences longer than maxLength + 1 keep their last
 * maxLength + 1 tokens (left truncation, as the harness does). Requests are batched longest-first.
 */
export async function loglikelihoods(lm: CausalLM, reqs: readonly LoglikelihoodRequest[], opts: { batchSize?: number; onProgress?: (done: number, total: number) => void } = {}): Promise<number[]> {
  const bs = opts.batchSize ?? 8;
  const V = lm.vocabSize;
  const seqs = reqs.map((r, i) => {
    if (r.continuation.length === 0) throw new Error(`request ${i}: the continuation is empty after tokenization`);
    if (r.continuation.length > lm.maxLength) throw new Error(`request ${i}: continuation of ${r.continuation.length} tokens exceeds the model's ${lm.maxLength} positions`);
    const full = [...r.context, ...r.continuation].slice(-(lm.maxLength + 1));
    return { input: full.slice(0, -1), targets: r.continuation, i };
  });
  const order = [...seqs].sort((a, b) => b.input.length - a.input.length || a.i - b.i);
  const out = new Array<number>(reqs.length).fill(0);
  for (let s = 0; s < order.length; s += bs) {
    const group = order.slice(s, s + bs);
    const batch = rightPad(group.map((g) => g.input), 0);
    const logits = await lm.logits(batch);
    group.forEach((g, b) => {
      const n = g.targets.length;
      const L = g.input.length;
      let ll = 0;
      for (let k = 0; k < n; k++) {
        const t = g.targets[k]!;
        if (t < 0 || t >= V) throw new Error(`request ${g.i}: token id ${t} is outside the vocabulary (size ${V})`);
        ll += tokenLogProb(logits, (b * batch.seqLen + L - n + k) * V, V, t);
      }
      out[g.i] = ll;
    });
    opts.onProgress?.(Math.min(s + bs, order.length), order.length);
  }
  return out;
}

function argmaxFirst(a: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[best]!) best = i;
  return best;
}

export const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8');
export const charLength = (s: string): number => [...s].length;

export interface ChoiceScores {
  /** Log-likelihood of each choice. */
  lls: number[];
  pred: number;
  predNorm: number;
  predBytes: number;
  acc: number;
  accNorm: number;
  accBytes: number;
}

/** acc / acc_norm / acc_bytes for one item from its choice log-likelihoods. */
export function scoreChoices(lls: readonly number[], choices: readonly string[], answer: number): ChoiceScores {
  if (lls.length !== choices.length) throw new Error(`${lls.length} log-likelihoods for ${choices.length} choices`);
  const pred = argmaxFirst(lls);
  const predNorm = argmaxFirst(lls.map((l, i) => l / charLength(choices[i]!)));
  const predBytes = argmaxFirst(lls.map((l, i) => l / utf8Length(choices[i]!)));
  return { lls: [...lls], pred, predNorm, predBytes, acc: +(pred === answer), accNorm: +(predNorm === answer), accBytes: +(predBytes === answer) };
}

/** Mean and harness-style standard error (sample stddev / √n). */
export function meanStderr(xs: readonly number[]): { mean: number; stderr: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, stderr: NaN };
  const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, stderr: Math.sqrt(v / n) };
}

export interface McOptions {
  /** Between context and choice (harness `target_delimiter`). Default " ". */
  delimiter?: string;
  batchSize?: number;
  /** Keep per-item log-likelihoods and predictions in the result (default true). */
  perItem?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface McItemResult extends ChoiceScores {
  id: string;
  line: number;
  answer: number;
}

export interface MultipleChoiceResult {
  kind: 'multiple-choice';
  subject: EvalSubject;
  dataset: { source: string; items: number; skipped: number };
  delimiter: string;
  n: number;
  acc: number;
  accStderr: number;
  /** Normalised by the choice's length in characters (lm-evaluation-harness acc_norm). */
  accNorm: number;
  accNormStderr: number;
  /** Normalised by the choice's UTF-8 byte length (lm-evaluation-harness acc_bytes). */
  accBytes: number;
  accBytesStderr: number;
  items?: McItemResult[];
  elapsedMs: number;
}

export async function evaluateMultipleChoice(lm: CausalLM, tok: EvalTokenizer, data: McDataset | { source: string; items: McItem[]; skipped?: number }, describe: SubjectDescription, opts: McOptions = {}): Promise<MultipleChoiceResult> {
  const t0 = performance.now();
  const delim = opts.delimiter ?? ' ';
  const reqs: LoglikelihoodRequest[] = [];
  for (const it of data.items) for (const c of it.choices) reqs.push(encodePair(tok, it.context, delim + c));
  const lls = await loglikelihoods(lm, reqs, { batchSize: opts.batchSize, onProgress: opts.onProgress });
  const items: McItemResult[] = [];
  let k = 0;
  for (const it of data.items) {
    const s = scoreChoices(lls.slice(k, k + it.choices.length), it.choices, it.answer);
    k += it.choices.length;
    items.push({ id: it.id, line: it.line, answer: it.answer, ...s });
  }
  const acc = meanStderr(items.map((i) => i.acc));
  const norm = meanStderr(items.map((i) => i.accNorm));
  const bytes = meanStderr(items.map((i) => i.accBytes));
  return {
    kind: 'multiple-choice',
    subject: subjectOf(lm, describe),
    dataset: { source: data.source, items: data.items.length, skipped: data.skipped ?? 0 },
    delimiter: delim,
    n: items.length,
    acc: acc.mean,
    accStderr: acc.stderr,
    accNorm: norm.mean,
    accNormStderr: norm.stderr,
    accBytes: bytes.mean,
    accBytesStderr: bytes.stderr,
    ...(opts.perItem === false ? {} : { items }),
    elapsedMs: performance.now() - t0,
  };
}
