/**
 * Supervised fine-tuning rows: rendered segments → token ids with a per-token "trained" flag → rows of seqLen
 * positions whose labels are the next token where that token is trained and IGNORE_INDEX elsewhere (prompt,
 * template text, padding). Rows are right-padded: with causal attention no real position sees a pad, so no
 * attention mask is needed and the padded positions are simply not counted.
 */
import { IGNORE_INDEX, type LmBatch } from '../model/loss';
import type { Segment } from './chat-template';

export interface SftTokenizer {
  encode(text: string): number[];
  readonly padId: number | null;
  readonly eosId: number | null;
}

export interface SftSequence {
  ids: number[];
  /** 1 where the token is one the model learns to produce. */
  trained: number[];
}

export interface SftRow {
  inputIds: Int32Array;
  labels: Int32Array;
}

export interface SftRows {
  rows: SftRow[];
  /** Examples longer than seqLen + 1 tokens, cut at the end. */
  truncated: number;
  /** Examples dropped because no trained token was left within seqLen + 1 tokens. */
  dropped: number;
  /** Trained (label) tokens over all rows. */
  targetTokens: number;
}

/** Each segment tokenized on its own, so the trained/ignored boundary is exactly the segments' boundary. */
export function tokenizeSegments(tok: SftTokenizer, segments: readonly Segment[]): SftSequence {
  const ids: number[] = [];
  const trained: number[] = [];
  for (const s of segments) {
    const t = tok.encode(s.text);
    ids.push(...t);
    for (let i = 0; i < t.length; i++) trained.push(s.train ? 1 : 0);
  }
  return { ids, trained };
}

/** One row: position t predicts token t+1, counted only when that token is trained. */
export function sftRow(seq: SftSequence, seqLen: number, padId: number): SftRow {
  const inputIds = new Int32Array(seqLen).fill(padId);
  const labels = new Int32Array(seqLen).fill(IGNORE_INDEX);
  const n = Math.min(seq.ids.length, seqLen + 1);
  for (let t = 0; t < n - 1; t++) {
    inputIds[t] = seq.ids[t]!;
    if (seq.trained[t + 1]) labels[t] = seq.ids[t + 1]!;
  }
  if (n >= 1 && n - 1 < seqLen) inputIds[n - 1] = seq.ids[n - 1]!;
  return { inputIds, labels };
}

export function sftRows(tok: SftTokenizer, examples: readonly (readonly Segment[])[], seqLen: number): SftRows {
  const padId = tok.padId ?? tok.eosId ?? 0;
  const out: SftRows = { rows: [], truncated: 0, dropped: 0, targetTokens: 0 };
  for (const segs of examples) {
    const seq = tokenizeSegments(tok, segs);
    if (seq.ids.length > seqLen + 1) out.truncated++;
    const row = sftRow(seq, seqLen, padId);
    const targets = row.labels.reduce((a, l) => a + (l === IGNORE_INDEX ? 0 : 1), 0);
    if (targets === 0) {
      out.dropped++;
      continue;
    }
    out.targetTokens += targets;
    out.rows.push(row);
  }
  return out;
}

export function sftBatch(rows: readonly SftRow[], seqLen: number): LmBatch {
  const inputIds = new Int32Array(rows.length * seqLen);
  const labels = new Int32Array(rows.length * seqLen);
  rows.forEach((r, b) => {
    inputIds.set(r.inputIds, b * seqLen);
    labels.set(r.labels, b * seqLen);
  });
  return { inputIds, labels, batch: rows.length, seqLen };
}
