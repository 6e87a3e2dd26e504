/**
 * The built-in family's pretraining data: general public-domain text (Moby-Dick + the Brown corpus), split by
 * document. The State of the Union corpus is never part of it: it is the fine-tuning domain of the comparisons.
 */
import { loadCorpus, splitDocuments } from '../data/corpora';
import type { CorpusDocument } from '../data/corpora';

export const PRETRAINING = { seed: 1234, valFraction: 0.05, seqLen: 128 } as const;

export function pretrainingDocuments(): { train: CorpusDocument[]; val: CorpusDocument[] } {
  const docs = [...loadCorpus('moby-dick'), ...loadCorpus('brown')];
  const { train, val } = splitDocuments(docs, { valFraction: PRETRAINING.valFraction, testFraction: 0, seed: PRETRAINING.seed });
  return { train, val };
}
