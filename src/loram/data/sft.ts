/**
 * Supervised fine-tuning rows: rendered segments → token ids with a per-token "trained" flag → rows of seqLen
 * positions whose labels are the next token where that token is trained and IGNORE_INDEX elsewhere (prompt,
 * template text, padding). Rows are right-padded: with causal attention no real position sees a pad, so no
 * attention mask is needed and the padded positions are simply not counted.
 *
 * Packing (optional, as TRL's `packing=True`): several short examples share one row of seqLen positions, placed
 * first-fit in order of decreasing length (TRL's "bfd"), never split. Labels stay masked on prompts and never
 * cross from one example into the next; each position carries its example's number (1, 2, …; 0 = padding) so
 * that attention stays within the example (a block-diagonal mask on both training engines). Positions run on
 * through the row: with rotary embeddings attention depends only on the distance between tokens, so inside an
 * example it is exactly what that example alone would get, and no position reset is needed.
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
  /** Packed rows: the example each position belongs to (1, 2, …; 0 = padding). */
  segments?: Int32Array;
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

export interface PackedRows extends SftRows {
  /** Examples placed into the rows (each counted once, however many share a row). */
  examples: number;
}

/** One example cut to the seqLen + 1 tokens a row holds, or null when no trained token is left after its first. */
function fitted(seq: SftSequence, seqLen: number): SftSequence | null {
  const n = Math.min(seq.ids.length, seqLen + 1);
  const cut = { ids: seq.ids.slice(0, n), trained: seq.trained.slice(0, n) };
  return cut.trained.some((t, i) => i > 0 && t) ? cut : null;
}

/** Rows of several examples each: first-fit decreasing into rows of seqLen + 1 tokens (the last one only a label). */
export function packSftRows(tok: SftTokenizer, examples: readonly (readonly Segment[])[], seqLen: number): PackedRows {
  const padId = tok.padId ?? tok.eosId ?? 0;
  const out: PackedRows = { rows: [], truncated: 0, dropped: 0, targetTokens: 0, examples: 0 };
  const seqs: SftSequence[] = [];
  for (const segs of examples) {
    const seq = tokenizeSegments(tok, segs);
    if (seq.ids.length > seqLen + 1) out.truncated++;
    const f = fitted(seq, seqLen);
    if (f) seqs.push(f);
    else out.dropped++;
  }
  out.rows = packSequences(seqs, seqLen, padId);
  out.examples = seqs.length;
  out.targetTokens = out.rows.reduce((a, r) => a + r.labels.reduce((c, l) => c + (l === IGNORE_INDEX ? 0 : 1), 0), 0);
  return out;
}

/** Sequences of at most seqLen + 1 tokens into rows: longest first (ties in input order), each into the first row with room. */
export function packSequences(seqs: readonly SftSequence[], seqLen: number, padId: number): SftRow[] {
  const order = seqs.map((_, i) => i).sort((a, b) => seqs[b]!.ids.length - seqs[a]!.ids.length || a - b);
  const bins: { used: number; members: number[] }[] = [];
  for (const i of order) {
    const len = seqs[i]!.ids.length;
    if (len > seqLen + 1) throw new Error(`a sequence of ${len} tokens does not fit a row of seqLen + 1 = ${seqLen + 1}`);
    const bin = bins.find((x) => x.used + len <= seqLen + 1);
    if (bin) {
      bin.used += len;
      bin.members.push(i);
    } else bins.push({ used: len, members: [i] });
  }
  return bins.map((bin) => packedRow(bin.members.map((i) => seqs[i]!), seqLen, padId));
}

/** Examples one after the other; position t predicts t + 1 only inside one example, where that token is trained. */
function packedRow(seqs: readonly SftSequence[], seqLen: number, padId: number): SftRow {
  const inputIds = new Int32Array(seqLen).fill(padId);
  const labels = new Int32Array(seqLen).fill(IGNORE_INDEX);
  const segments = new Int32Array(seqLen);
  let pos = 0;
  seqs.forEach((seq, k) => {
    for (let j = 0; j < seq.ids.length; j++) {
      const g = pos + j;
      if (g < seqLen) {
        inputIds[g] = seq.ids[j]!;
        segments[g] = k + 1;
      }
      if (j > 0 && seq.trained[j]) labels[g - 1] = seq.ids[j]!;
    }
    pos += seq.ids.length;
  });
  return { inputIds, labels, segments };
}

export function sftBatch(rows: readonly SftRow[], seqLen: number): LmBatch {
  const inputIds = new Int32Array(rows.length * seqLen);
  const labels = new Int32Array(rows.length * seqLen);
  const packed = rows.some((r) => r.segments);
  const segments = packed ? new Int32Array(rows.length * seqLen) : undefined;
  rows.forEach((r, b) => {
    inputIds.set(r.inputIds, b * seqLen);
    labels.set(r.labels, b * seqLen);
    // An unpacked row in a packed batch is one example, its right padding included (no real position sees it).
    if (segments) segments.set(r.segments ?? new Int32Array(seqLen).fill(1), b * seqLen);
  });
  return { inputIds, labels, batch: rows.length, seqLen, ...(segments ? { segments } : {}) };
}
