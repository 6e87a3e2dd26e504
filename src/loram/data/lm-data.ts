/**
 * Language-model data: documents → one token stream (EOS between documents) → fixed windows of seqLen+1
 * tokens → batches whose labels are the next tokens. Used by pretraining, alignment and held-out loss.
 */
import { tf } from '../backend/tf';
import type { LlamaModel } from '../model/llama';
import { lmLoss } from '../model/loss';
import type { LmBatch } from '../model/loss';
import type { LoadedTokenizer } from '../tokenizer/tokenizer';
import { Rng } from '../util/rng';

/** Concatenate the documents' tokens, each followed by EOS (when the tokenizer has one). */
export function tokenStream(tok: LoadedTokenizer, texts: Iterable<string>): Int32Array {
  const parts: number[][] = [];
  let n = 0;
  for (const t of texts) {
    const ids = tok.encode(t);
    if (tok.eosId !== null) ids.push(tok.eosId);
    parts.push(ids);
    n += ids.length;
  }
  const out = new Int32Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Non-overlapping windows of seqLen+1 tokens (the last partial window is dropped). */
export function packWindows(stream: Int32Array, seqLen: number): Int32Array[] {
  const w: Int32Array[] = [];
  for (let s = 0; s + seqLen + 1 <= stream.length; s += seqLen) w.push(stream.subarray(s, s + seqLen + 1));
  return w;
}

/** A batch predicting token t+1 at every position t of each window. */
export function windowsBatch(windows: readonly Int32Array[], seqLen: number): LmBatch {
  const B = windows.length;
  const inputIds = new Int32Array(B * seqLen);
  const labels = new Int32Array(B * seqLen);
  windows.forEach((w, b) => {
    inputIds.set(w.subarray(0, seqLen), b * seqLen);
    labels.set(w.subarray(1, seqLen + 1), b * seqLen);
  });
  return { inputIds, labels, batch: B, seqLen };
}

/** Endless seeded sampling without replacement within each epoch. */
export class WindowSampler {
  private order: number[] = [];
  private pos = 0;
  epoch = 0;
  private readonly rng: Rng;

  constructor(private readonly count: number, seed: number) {
    if (count <= 0) throw new Error('no training windows: the dataset is shorter than one sequence');
    this.rng = new Rng(seed);
    this.reshuffle();
  }

  private reshuffle(): void {
    this.order = this.rng.shuffle([...Array(this.count).keys()]);
    this.pos = 0;
  }

  next(n: number): number[] {
    const out: number[] = [];
    while (out.length < n) {
      if (this.pos >= this.order.length) {
        this.epoch++;
        this.reshuffle();
      }
      out.push(this.order[this.pos++]!);
    }
    return out;
  }
}

/** Token-weighted mean loss of a model over windows (no gradients), and perplexity = exp(loss). */
export function evalLoss(model: LlamaModel, windows: readonly Int32Array[], seqLen: number, batchSize = 8): { loss: number; tokens: number; perplexity: number } {
  const batches: LmBatch[] = [];
  for (let i = 0; i < windows.length; i += batchSize) batches.push(windowsBatch(windows.slice(i, i + batchSize), seqLen));
  return evalBatchesLoss(model, batches);
}

/** Token-weighted mean loss over batches whose labels may be masked (no gradients). */
export function evalBatchesLoss(model: LlamaModel, batches: readonly LmBatch[]): { loss: number; tokens: number; perplexity: number } {
  let sum = 0;
  let tokens = 0;
  for (const b of batches) {
    const l = tf.tidy(() => {
      const { loss, count } = lmLoss(model, b);
      return { v: loss.dataSync()[0]!, count };
    });
    sum += l.v * l.count;
    tokens += l.count;
  }
  const loss = tokens ? sum / tokens : NaN;
  return { loss, tokens, perplexity: Math.exp(loss) };
}
