/**
 * A multiple-choice "true continuation" set built from documents (e.g. held-out State of the Union addresses),
 * deterministic from a seed, in the JSONL format src/loram/eval/datasets.ts reads:
 *   {"id", "context", "choices": [...], "answer", "doc", "kinds": [...], "sources": [...]}
 * (`doc`, `kinds` and `sources` are extra keys the evaluator ignores; they make leakage and distractor checks
 * possible afterwards.)
 *
 * Item design:
 * - context: the last `contextWords` words before a sentence of a document (it may start mid-sentence and ends
 *   at a sentence end);
 * - the answer: the first `continuationWords` words of that sentence (the true continuation);
 * - distractors: the first `continuationWords` words of a sentence from ANOTHER document of the same set
 *   ("domain" distractors: same style and era mix, so only the context tells them apart) and, optionally, from a
 *   general corpus ("general" distractors: tells whether the model has learned the domain's style at all);
 * - every choice is a sentence opening of exactly `continuationWords` words, cut before the sentence's last word
 *   (no choice ends in sentence punctuation), so length and form do not give the answer away;
 * - the answer's position is balanced over the slots (each slot holds the answer ⌊n/k⌋ or ⌈n/k⌉ times) and
 *   shuffled; distractors are distinct from each other and from the answer.
 * Chance level: 1/choices. A model that only recognises the domain's style (rejects every general distractor
 * but cannot use the context) scores 1/(choices − generalDistractors) at best.
 *
 * Only the documents passed in are used: build the items of a held-out split from that split's documents, and
 * no text of a training document can reach an item.
 */
import { Rng } from '../util/rng';
import { splitSentences, words } from './text-units';

export interface SourceDocument {
  id: string;
  text: string;
}

export interface ContinuationMcOptions {
  seed: number;
  /** Choices per item, the answer included (default 4). */
  choices?: number;
  /** How many of the distractors come from the general corpus (default 1; the rest come from other documents). */
  generalDistractors?: number;
  /** Words of context before the continuation (default 40). */
  contextWords?: number;
  /** Words in each choice (default 10). */
  continuationWords?: number;
  /** At most this many items from one document (default 8). */
  itemsPerDocument?: number;
  /** At most this many items in all (default 200), a seeded sample spread over the documents. */
  maxItems?: number;
  /** Minimum distance, in sentences, between two items of one document (default 3). */
  minSentenceGap?: number;
}

export type ChoiceKind = 'answer' | 'domain' | 'general';

export interface ContinuationItem {
  id: string;
  /** The document the context and the answer come from. */
  doc: string;
  context: string;
  choices: string[];
  answer: number;
  /** What each choice is. */
  kinds: ChoiceKind[];
  /** The document each choice was taken from. */
  sources: string[];
}

export const CONTINUATION_MC_DEFAULTS = { choices: 4, generalDistractors: 1, contextWords: 40, continuationWords: 10, itemsPerDocument: 8, maxItems: 200, minSentenceGap: 3 } as const;

interface Fragment {
  doc: string;
  text: string;
}

interface Parsed {
  id: string;
  sentences: string[][];
}

function parse(docs: readonly SourceDocument[]): Parsed[] {
  const sorted = [...docs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) if (sorted[i]!.id === sorted[i - 1]!.id) throw new Error(`duplicate document id "${sorted[i]!.id}"`);
  return sorted.map((d) => ({ id: d.id, sentences: splitSentences(d.text).map(words) }));
}

/** Sentence openings of exactly k words, from sentences with more than k words. */
function fragments(p: Parsed, k: number): Fragment[] {
  return p.sentences.filter((s) => s.length > k).map((s) => ({ doc: p.id, text: s.slice(0, k).join(' ') }));
}

function check(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${v}`);
}

type Options = Required<ContinuationMcOptions>;

interface Choice {
  f: Fragment;
  kind: ChoiceKind;
}

/** The documents parsed into sentences, and the sentence openings distractors are drawn from. */
interface Sources {
  parsed: Parsed[];
  /** Per document (by index in `parsed`), its sentence openings. */
  domainPool: Fragment[][];
  generalPool: Fragment[];
  /** Documents other than `i` that have openings to draw from. */
  otherDocs(i: number): number[];
}

function checkOptions(o: Options): void {
  check('choices', o.choices, 2);
  check('generalDistractors', o.generalDistractors, 0);
  check('contextWords', o.contextWords, 1);
  check('continuationWords', o.continuationWords, 1);
  check('itemsPerDocument', o.itemsPerDocument, 1);
  check('maxItems', o.maxItems, 1);
  check('minSentenceGap', o.minSentenceGap, 1);
  if (o.generalDistractors > o.choices - 1) throw new RangeError(`generalDistractors (${o.generalDistractors}) must be at most choices − 1 (${o.choices - 1})`);
}

function gatherSources(docs: readonly SourceDocument[], general: readonly SourceDocument[], o: Options, nDomain: number): Sources {
  const k = o.continuationWords;
  const parsed = parse(docs);
  const domainPool = parsed.map((p) => fragments(p, k));
  const generalPool = o.generalDistractors > 0 ? parse(general).flatMap((p) => fragments(p, k)) : [];
  if (o.generalDistractors > 0 && generalPool.length < o.generalDistractors + 1) throw new Error(`the general corpus has only ${generalPool.length} sentences of more than ${k} words`);
  const otherDocs = (i: number) => domainPool.map((_, j) => j).filter((j) => j !== i && domainPool[j]!.length > 0);
  if (nDomain > 0 && parsed.length > 0 && parsed.every((_, i) => otherDocs(i).length === 0)) {
    throw new Error('same-domain distractors need at least two documents with sentences long enough');
  }
  return { parsed, domainPool, generalPool, otherDocs };
}

/** One document's item sentences: long enough, with enough words before them, spaced apart; in text order. */
function documentPositions(p: Parsed, o: Options, rng: Rng): number[] {
  const before: number[] = [];
  let n = 0;
  for (const s of p.sentences) {
    before.push(n);
    n += s.length;
  }
  const candidates = p.sentences.map((s, i) => i).filter((i) => p.sentences[i]!.length > o.continuationWords && before[i]! >= o.contextWords);
  const chosen: number[] = [];
  for (const c of rng.shuffle(candidates)) {
    if (chosen.length >= o.itemsPerDocument) break;
    if (chosen.every((x) => Math.abs(x - c) >= o.minSentenceGap)) chosen.push(c);
  }
  return chosen.sort((a, b) => a - b);
}

/** Item positions over all documents, a seeded sample of at most maxItems. */
function pickPositions(src: Sources, o: Options, nDomain: number, rng: Rng): { doc: number; sentence: number }[] {
  const picked: { doc: number; sentence: number }[] = [];
  src.parsed.forEach((p, di) => {
    // A document with no other to draw same-domain distractors from gives no items.
    if (nDomain > 0 && src.otherDocs(di).length === 0) return;
    for (const c of documentPositions(p, o, rng.fork())) picked.push({ doc: di, sentence: c });
  });
  if (picked.length <= o.maxItems) return picked;
  const keep = new Set(rng.fork().shuffle([...picked.keys()]).slice(0, o.maxItems));
  return picked.filter((_, i) => keep.has(i));
}

/** Distractors for one item, distinct from each other and from the answer, in a shuffled order. */
function drawDistractors(src: Sources, o: Options, nDomain: number, answer: Fragment, docIndex: number, where: string, pick: Rng): Choice[] {
  const used = new Set([answer.text]);
  const draw = (from: () => Fragment | undefined): Fragment => {
    for (let attempt = 0; attempt < 1000; attempt++) {
      const f = from();
      if (f && !used.has(f.text)) {
        used.add(f.text);
        return f;
      }
    }
    throw new Error(`cannot find distinct distractors for ${where}`);
  };
  const others = src.otherDocs(docIndex);
  const distractors: Choice[] = [];
  for (let d = 0; d < nDomain; d++) {
    distractors.push({ kind: 'domain', f: draw(() => { const pool = src.domainPool[others[pick.int(others.length)]!]!; return pool[pick.int(pool.length)]; }) });
  }
  for (let g = 0; g < o.generalDistractors; g++) distractors.push({ kind: 'general', f: draw(() => src.generalPool[pick.int(src.generalPool.length)]) });
  return pick.shuffle(distractors);
}

function buildItem(src: Sources, o: Options, nDomain: number, pos: { doc: number; sentence: number }, slot: number, pick: Rng): ContinuationItem {
  const p = src.parsed[pos.doc]!;
  const prior = p.sentences.slice(0, pos.sentence).flat();
  const context = prior.slice(prior.length - o.contextWords).join(' ');
  const answer: Fragment = { doc: p.id, text: p.sentences[pos.sentence]!.slice(0, o.continuationWords).join(' ') };
  const ordered = [...drawDistractors(src, o, nDomain, answer, pos.doc, `${p.id} sentence ${pos.sentence}`, pick)];
  ordered.splice(slot, 0, { f: answer, kind: 'answer' });
  return {
    id: `${p.id}#${pos.sentence}`,
    doc: p.id,
    context,
    choices: ordered.map((c) => c.f.text),
    answer: slot,
    kinds: ordered.map((c) => c.kind),
    sources: ordered.map((c) => c.f.doc),
  };
}

/** Build the items (see the module comment). Depends only on the documents (by id and text) and the options. */
export function buildContinuationItems(docs: readonly SourceDocument[], general: readonly SourceDocument[], options: ContinuationMcOptions): ContinuationItem[] {
  const o: Options = { ...CONTINUATION_MC_DEFAULTS, ...options };
  checkOptions(o);
  const nDomain = o.choices - 1 - o.generalDistractors;
  const rng = new Rng(o.seed);
  const src = gatherSources(docs, general, o, nDomain);
  const positions = pickPositions(src, o, nDomain, rng);
  const slots = rng.fork().shuffle(positions.map((_, i) => i % o.choices));
  const pick = rng.fork();
  return positions.map((pos, idx) => buildItem(src, o, nDomain, pos, slots[idx]!, pick));
}

/** Chance accuracy and the ceiling of a style-only model (see the module comment). */
export function continuationChance(choices: number, generalDistractors: number): { chance: number; styleOnly: number } {
  return { chance: 1 / choices, styleOnly: 1 / (choices - generalDistractors) };
}
