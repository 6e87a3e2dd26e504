/**
 * Perplexity over fixed context windows with a stride, as in Hugging Face's "Perplexity of fixed-length
 * models" guide: windows start at 0, stride, 2·stride, … and are at most `contextLength` tokens long; each
 * window scores the tokens the previous window did not score, with everything before them in the window as
 * context — except the window's own first token, which has no context inside the window.
 * - stride < contextLength (overlapping windows): every token but the stream's first is scored exactly once,
 *   after the first window with at least contextLength − stride tokens of context;
 * - stride = contextLength (disjoint windows): the first token of every window is not scored (as in the
 *   guide, where the label shift drops it).
 *
 * PPL = exp(Σ NLL / N) over all N scored tokens (token-weighted, not a mean of per-window perplexities).
 * The count N is exact; the guide's loop subtracts one token per window for HF's internal label shift,
 * which is right for disjoint windows but under-counts overlapping ones by one token per window.
  */
import type { CausalLM } from './lm';
import { rightPad, tokenLogProb } from './lm';
import type { LmDataset } from './datasets';
import type { EvalSubject, SubjectDescription } from './subject';
import { subjectOf } from './subject';

export interface EvalTokenizer {
  encode(text: string, opts?: { addBos?: boolean; addEos?: boolean }): number[];
  decode(ids: readonly number[], opts?: { skipSpecial?: boolean }): string;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number | null;
}

export interface Window {
  /** Index of the token stream. */
  stream: number;
  begin: number;
  end: number;
  /** Tokens [scoreFrom, end) are scored in this window. */
  scoreFrom: number;
}

/** The windows of one stream of n tokens. */
export function slidingWindows(n: number, contextLength: number, stride: number, stream = 0): Window[] {
  if (!Number.isInteger(contextLength) || contextLength < 2) throw new Error(`contextLength must be an integer ≥ 2, got ${contextLength}`);
  if (!Number.isInteger(stride) || stride < 1 || stride > contextLength) throw new Error(`stride must be an integer in 1..contextLength (${contextLength}), got ${stride}`);
  const out: Window[] = [];
  if (n < 2) return out;
  let prevEnd = 0;
  for (let begin = 0; ; begin += stride) {
    const end = Math.min(begin + contextLength, n);
    const scoreFrom = Math.max(prevEnd, begin + 1);
    if (scoreFrom < end) out.push({ stream, begin, end, scoreFrom });
    prevEnd = end;
    if (end === n) break;
  }
  return out;
}

export interface NllOptions {
  contextLength: number;
  /** Default contextLength (disjoint windows). */
  stride?: number;
  /** Windows per forward pass (default 8). */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface NllSum {
  nll: number;
  tokens: number;
  windows: number;
}

/** Σ −log p over the scored tokens of the streams. */
export async function streamsNll(lm: CausalLM, streams: readonly ArrayLike<number>[], opts: NllOptions): Promise<NllSum> {
  const stride = opts.stride ?? opts.contextLength;
  const bs = opts.batchSize ?? 8;
  if (opts.contextLength > lm.maxLength) throw new Error(`contextLength ${opts.contextLength} exceeds the model's ${lm.maxLength} positions`);
  const windows = streams.flatMap((s, i) => slidingWindows(s.length, opts.contextLength, stride, i));
  const V = lm.vocabSize;
  let nll = 0;
  let tokens = 0;
  for (let w0 = 0; w0 < windows.length; w0 += bs) {
    const group = windows.slice(w0, w0 + bs);
    const rows = group.map((w) => Array.prototype.slice.call(streams[w.stream]!, w.begin, w.end) as number[]);
    const batch = rightPad(rows, 0);
    const logits = await lm.logits(batch);
    group.forEach((w, b) => {
      const s = streams[w.stream]!;
      for (let j = w.scoreFrom; j < w.end; j++) {
        const t = s[j]!;
        if (t < 0 || t >= V) throw new Error(`token id ${t} is outside the vocabulary (size ${V})`);
        const row = (b * batch.seqLen + (j - 1 - w.begin)) * V;
        nll -= tokenLogProb(logits, row, V, t);
        tokens++;
      }
    });
    opts.onProgress?.(Math.min(w0 + bs, windows.length), windows.length);
  }
  return { nll, tokens, windows: windows.length };
}

export interface PerplexityOptions extends NllOptions {
  /** Prepend BOS to each document (default false). */
  addBos?: boolean;
  /**
   * true (default): all documents form one stream, EOS between documents (or "\n\n" when the tokenizer has
   * no EOS), as the HF guide joins a dataset; false: each document is its own stream (its first token is
   * not scored).
   */
  joinDocuments?: boolean;
}

export interface PerplexityResult {
  kind: 'perplexity';
  subject: EvalSubject;
  dataset: { source: string; format: string; documents: number; skipped: number };
  contextLength: number;
  stride: number;
  joinedWith: 'eos' | '\n\n' | 'separate';
  /** Scored tokens. */
  tokens: number;
  windows: number;
  /** Mean NLL per scored token (nats). */
  nll: number;
  perplexity: number;
  elapsedMs: number;
}

/** Tokenize documents into the streams perplexity runs over. */
export function lmStreams(tok: EvalTokenizer, documents: readonly string[], opts: Pick<PerplexityOptions, 'addBos' | 'joinDocuments'> = {}): { streams: number[][]; joinedWith: PerplexityResult['joinedWith'] } {
  const enc = (t: string) => tok.encode(t, { addBos: opts.addBos ?? false });
  if (opts.joinDocuments === false) return { streams: documents.map(enc), joinedWith: 'separate' };
  if (tok.eosId === null) return { streams: [enc(documents.join('\n\n'))], joinedWith: '\n\n' };
  const s: number[] = [];
  documents.forEach((d, i) => {
    if (i > 0) s.push(tok.eosId!);
    for (const t of enc(d)) s.push(t);
  });
  return { streams: [s], joinedWith: 'eos' };
}

export async function evaluatePerplexity(lm: CausalLM, tok: EvalTokenizer, data: LmDataset, describe: SubjectDescription, opts: PerplexityOptions): Promise<PerplexityResult> {
  const t0 = performance.now();
  const { streams, joinedWith } = lmStreams(tok, data.documents, opts);
  const r = await streamsNll(lm, streams, opts);
  if (r.tokens === 0) throw new Error(`${data.source}: nothing to score (fewer than 2 tokens)`);
  const nll = r.nll / r.tokens;
  return {
    kind: 'perplexity',
    subject: subjectOf(lm, describe),
    dataset: { source: data.source, format: data.format, documents: data.documents.length, skipped: data.skipped },
    contextLength: opts.contextLength,
    stride: opts.stride ?? opts.contextLength,
    joinedWith,
    tokens: r.tokens,
    windows: r.windows,
    nll,
    perplexity: Math.exp(nll),
    elapsedMs: performance.now() - t0,
  };
}
