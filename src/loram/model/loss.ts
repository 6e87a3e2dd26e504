/**
 * Causal-LM cross-entropy. Labels are already aligned with positions (labels[t] is the token that position t
 * must predict) and -100 marks positions that do not count (padding, prompt tokens), as in HF.
 * A custom gradient (softmax − onehot) replaces tfjs's chain through logSoftmax, which is slow on wasm.
 */
import { tf } from '../backend/tf';
import type { LlamaModel, ForwardOptions } from './llama';

export const IGNORE_INDEX = -100;

/** Sum of token losses and the number of counted tokens, for logits [N, V] and labels [N]. */
export function crossEntropySum(logits: tf.Tensor2D, labels: Int32Array): { loss: tf.Scalar; count: number } {
  const [N, V] = logits.shape;
  if (labels.length !== N) throw new Error(`labels have ${labels.length} entries for ${N} logit rows`);
  const weights = new Float32Array(N);
  const safe = new Int32Array(N);
  let count = 0;
  for (let i = 0; i < N; i++) {
    const l = labels[i]!;
    if (l === IGNORE_INDEX) continue;
    if (l < 0 || l >= V) throw new Error(`label ${l} at position ${i} is outside the vocabulary (size ${V})`);
    weights[i] = 1;
    safe[i] = l;
    count++;
  }
  // The closure's tensors are created inside f and saved: tensors captured from outside would be disposed
  // before the backward pass runs.
    const f = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const w = tf.tensor1d(weights);
    const onehot = tf.oneHot(tf.tensor1d(safe, 'int32'), V);
    const max = tf.max(x, -1, true);
    const shifted = tf.sub(x, max);
    const lse = tf.log(tf.sum(tf.exp(shifted), -1, true)); // [N,1]
    const picked = tf.sum(tf.mul(shifted, onehot), -1, true); // [N,1]
    const perTok = tf.reshape(tf.sub(lse, picked), [N]);
    save([shifted, lse, onehot, w]);
    return {
      value: tf.sum(tf.mul(perTok, w)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sh, l, oh, wt] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        const p = tf.exp(tf.sub(sh, l));
        return tf.mul(tf.sub(p, oh), tf.mul(tf.reshape(wt, [N, 1]), dy));
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return { loss: f(logits) as tf.Scalar, count };
}

export interface LmBatch {
  /** [B, T] token ids. */
  inputIds: Int32Array;
  /** [B, T] targets aligned with positions; IGNORE_INDEX where not counted. */
  labels: Int32Array;
  /** [B, T] 1/0 attention mask (optional; omitted means no padding). */
  attentionMask?: Int32Array;
  /** [B, T] packed rows: the example of each position (1, 2, …; 0 = padding); attention stays within an example. */
  segments?: Int32Array;
  batch: number;
  seqLen: number;
}

/** Mean token loss of a batch (a scalar tensor) and the number of counted tokens. */
export function lmLoss(model: LlamaModel, b: LmBatch, opts: ForwardOptions = {}): { loss: tf.Scalar; count: number } {
  const ids = tf.tensor2d(b.inputIds, [b.batch, b.seqLen], 'int32');
  const mask = b.attentionMask ? tf.tensor2d(b.attentionMask, [b.batch, b.seqLen], 'int32') : undefined;
  const segments = b.segments ? tf.tensor2d(b.segments, [b.batch, b.seqLen], 'int32') : undefined;
  const h = model.hidden(ids, { ...opts, attentionMask: mask, ...(segments ? { segments } : {}) });
  const logits = model.project(tf.reshape(h, [b.batch * b.seqLen, model.config.hiddenSize]), opts);
  const { loss, count } = crossEntropySum(logits, b.labels);
  return { loss: tf.div(loss, Math.max(1, count)) as tf.Scalar, count };
}
