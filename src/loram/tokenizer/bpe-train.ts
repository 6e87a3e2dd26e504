/**
 * Byte-level BPE training (GPT-2 / LLaMA-3 style) that writes a Hugging Face `tokenizer.json`.
 *
 * Pipeline, identical at training and at encoding time:
 *   1. special-token strings are cut out of the text (they never take part in merges);
 *   2. the LLaMA-3 split regex cuts the rest into pieces (words with their leading space, 1–3 digit groups,
 *      punctuation runs, whitespace runs);
 *   3. each piece is turned into UTF-8 bytes, each byte shown as one printable character through the
 *      GPT-2 `bytes_to_unicode` table (so every string round-trips and there is no unknown token);
 *   4. merges learned here are applied by rank.
 *
 * Vocabulary layout (the Hugging Face BpeTrainer convention): special tokens first (ids 0..n-1, in the
 * order given, so `<|begin_of_text|>` = 0, `<|end_of_text|>` = 1, `<|pad|>` = 2 with the defaults and
 * these ids do not move when the vocabulary size changes), then the 256 byte characters sorted by code
 * point, then one token per merge in merge order. `vocabSize` counts all of them.
 *
 * Training follows the Hugging Face trainer: count unique pieces, count adjacent symbol pairs weighted by
 * piece frequency, keep an index pair → pieces containing it, and after each merge update only the pieces
 * that contained the merged pair (incremental counts, lazily refreshed max-heap). Ties on frequency go to
 * the pair with the smaller (left id, right id), so results do not depend on Map iteration order.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { SplitPreTokenizer } from '@huggingface/tokenizers';

export const DEFAULT_SPECIAL_TOKENS: readonly string[] = ['<|begin_of_text|>', '<|end_of_text|>', '<|pad|>'];

/**
 * The LLaMA-3 (tiktoken cl100k) split pattern, in Oniguruma syntax as the Rust library reads it. We
 * compile it through @huggingface/tokenizers' own Split pre-tokenizer, so training splits text exactly
 * the way the JS loader will at encoding time.
 */
export const PRETOKENIZE_REGEX =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** GPT-2 `bytes_to_unicode`: printable Latin-1 bytes map to themselves, the other 68 to U+0100 upward. */
export function bytesToUnicode(): string[] {
  const direct: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) direct.push(b);
  for (let b = 0xa1; b <= 0xac; b++) direct.push(b);
  for (let b = 0xae; b <= 0xff; b++) direct.push(b);
  const isDirect = new Set(direct);
  const out = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCharCode(isDirect.has(b) ? b : 256 + n++);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Hugging Face tokenizer.json shapes (only the parts we write)

export interface HfAddedToken {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

export interface TrainBpeOptions {
  /** Total vocabulary size, special tokens and the 256 byte tokens included. */
  vocabSize: number;
  /** Special tokens, given ids 0..n-1 in this order. Default: DEFAULT_SPECIAL_TOKENS. */
  specialTokens?: readonly string[];
  /** Roles for tokenizer_config.json and the BOS template; each must be one of specialTokens (null: none). */
  bosToken?: string | null;
  eosToken?: string | null;
  padToken?: string | null;
  /** A pair must occur at least this often to be merged (default 2). */
  minFrequency?: number;
  /** Called every 256 merges; may throw to cancel (the engine's progress() is its cancellation point). */
  onProgress?: (mergesDone: number, mergesTotal: number) => void;
}

export interface TrainStats {
  /** Pre-tokenized pieces seen (with repetition) and distinct pieces. */
  pieces: number;
  uniquePieces: number;
  chars: number;
  merges: number;
  seconds: number;
}

export interface TrainedBpe {
  /** Token strings by id (byte-level characters, specials first). */
  tokens: string[];
  /** Merges in rank order, as token-string pairs. */
  merges: [string, string][];
  specialTokens: string[];
  bosToken: string | null;
  eosToken: string | null;
  padToken: string | null;
  stats: TrainStats;
}

const PAIR_SHIFT = 2 ** 21; // pair key = left * 2^21 + right; exact in a double up to ids of 2^21

function roleToken(role: string, given: string | null | undefined, fallback: string, specials: readonly string[]): string | null {
  if (given === null) return null;
  if (given === undefined) return specials.includes(fallback) ? fallback : null;
  if (!specials.includes(given)) throw new Error(`${role} "${given}" is not one of the special tokens [${specials.join(', ')}]`);
  return given;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Count distinct pre-tokenized pieces over all texts (specials cut out first). */
function countPieces(texts: Iterable<string>, specials: readonly string[]): { counts: Map<string, number>; pieces: number; chars: number } {
  const split = new SplitPreTokenizer({ type: 'Split', pattern: { Regex: PRETOKENIZE_REGEX }, behavior: 'Isolated', invert: false });
  const pattern = split.pattern;
  if (!pattern) throw new Error('could not compile the pre-tokenizer regex');
  const specialRe = specials.length
    ? new RegExp([...specials].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|'), 'g')
    : null;
  const counts = new Map<string, number>();
  let pieces = 0;
  let chars = 0;
  const add = (s: string) => {
    counts.set(s, (counts.get(s) ?? 0) + 1);
    pieces++;
  };
  // Same semantics as the library's regex_split (Split with behavior Isolated): matches and the gaps
  // between them both become pieces. We inline it to avoid building one array per document.
  const splitInto = (text: string) => {
    let prev = 0;
    for (const m of text.matchAll(pattern)) {
      const at = m.index!;
      if (prev < at) add(text.slice(prev, at));
      if (m[0].length > 0) add(m[0]);
      prev = at + m[0].length;
    }
    if (prev < text.length) add(text.slice(prev));
  };
  for (const text of texts) {
    if (typeof text !== 'string') throw new TypeError('trainBpe: every text must be a string');
    chars += text.length;
    if (specialRe && specials.some((s) => text.includes(s))) {
      for (const part of text.split(specialRe)) if (part) splitInto(part);
    } else if (text) {
      splitInto(text);
    }
  }
  return { counts, pieces, chars };
}

/** Max-heap of (count, pairKey): larger count first, then smaller key (= smaller left id, then right id). */
class PairHeap {
  private c: number[] = [];
  private k: number[] = [];
  get size(): number {
    return this.c.length;
  }
  private above(i: number, j: number): boolean {
    return this.c[i]! > this.c[j]! || (this.c[i] === this.c[j] && this.k[i]! < this.k[j]!);
  }
  private swap(i: number, j: number): void {
    const tc = this.c[i]!;
    this.c[i] = this.c[j]!;
    this.c[j] = tc;
    const tk = this.k[i]!;
    this.k[i] = this.k[j]!;
    this.k[j] = tk;
  }
  push(count: number, key: number): void {
    this.c.push(count);
    this.k.push(key);
    let i = this.c.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.above(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): [number, number] {
    const top: [number, number] = [this.c[0]!, this.k[0]!];
    const lastC = this.c.pop()!;
    const lastK = this.k.pop()!;
    const n = this.c.length;
    if (n > 0) {
      this.c[0] = lastC;
      this.k[0] = lastK;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < n && this.above(l, best)) best = l;
        if (r < n && this.above(r, best)) best = r;
        if (best === i) break;
        this.swap(i, best);
        i = best;
      }
    }
    return top;
  }
}

/** Learn a byte-level BPE vocabulary of exactly `opts.vocabSize` tokens from `texts`. */
export function trainBpe(texts: Iterable<string>, opts: TrainBpeOptions): TrainedBpe {
  const t0 = performance.now();
  const { specials, vocabSize, minFrequency } = checkedOptions(opts);
  const bosToken = roleToken('bosToken', opts.bosToken, DEFAULT_SPECIAL_TOKENS[0]!, specials);
  const eosToken = roleToken('eosToken', opts.eosToken, DEFAULT_SPECIAL_TOKENS[1]!, specials);
  const padToken = roleToken('padToken', opts.padToken, DEFAULT_SPECIAL_TOKENS[2]!, specials);
  const { symbols, symOfByte } = byteSymbols(specials);

  // 1. Distinct pieces and their frequencies, in first-seen order (deterministic for a given input).
  const { counts: pieceCounts, pieces, chars } = countPieces(texts, specials);
  const encoder = new TextEncoder();
  const words: number[][] = [];
  const wcount: number[] = [];
  for (const [piece, c] of pieceCounts) {
    const bytes = encoder.encode(piece);
    const w = new Array<number>(bytes.length);
    for (let i = 0; i < bytes.length; i++) w[i] = symOfByte[bytes[i]!]!;
    words.push(w);
    wcount.push(c);
  }

  // 2. Pair counts and where each pair occurs; 3. merge until the vocabulary is full.
  const pairs = new PairIndex(words, wcount);
  const mergesTotal = vocabSize - specials.length - 256;
  const merges = learnMerges(pairs, symbols, mergesTotal, minFrequency, opts.onProgress);
  if (merges.length < mergesTotal) {
    throw new Error(
      `trainBpe: the training text supports only ${merges.length} merges with minFrequency=${minFrequency}, ` +
        `so the vocabulary can reach ${specials.length + 256 + merges.length} tokens, not ${vocabSize}; ` +
        `use more text or a smaller vocabSize`,
    );
  }
  if (merges.length % 256 !== 0) opts.onProgress?.(merges.length, mergesTotal);

  return {
    tokens: [...specials, ...symbols],
    merges,
    specialTokens: specials,
    bosToken,
    eosToken,
    padToken,
    stats: { pieces, uniquePieces: words.length, chars, merges: merges.length, seconds: (performance.now() - t0) / 1000 },
  };
}

function checkedOptions(opts: TrainBpeOptions): { specials: string[]; vocabSize: number; minFrequency: number } {
  const specials = [...(opts.specialTokens ?? DEFAULT_SPECIAL_TOKENS)];
  if (new Set(specials).size !== specials.length) throw new Error('trainBpe: duplicate special tokens');
  if (specials.some((s) => s.length === 0)) throw new Error('trainBpe: empty special token');
  const vocabSize = opts.vocabSize;
  const minVocab = specials.length + 256;
  if (!Number.isInteger(vocabSize) || vocabSize < minVocab || vocabSize >= PAIR_SHIFT) {
    throw new Error(`trainBpe: vocabSize must be an integer in [${minVocab}, ${PAIR_SHIFT}) (${specials.length} special + 256 byte tokens); got ${vocabSize}`);
  }
  return { specials, vocabSize, minFrequency: Math.max(1, opts.minFrequency ?? 2) };
}

/** Symbols 0..255: the byte characters sorted by code point (HF trainer order); merges append. */
function byteSymbols(specials: readonly string[]): { symbols: string[]; symOfByte: Int32Array } {
  const byteChars = bytesToUnicode();
  const sortedChars = [...byteChars].sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0));
  const symOfByte = new Int32Array(256);
  for (let b = 0; b < 256; b++) symOfByte[b] = sortedChars.indexOf(byteChars[b]!);
  const symbols: string[] = [...sortedChars];
  for (const s of specials) {
    if (symbols.includes(s)) throw new Error(`trainBpe: special token "${s}" collides with a byte token`);
  }
  return { symbols, symOfByte };
}

/**
 * The words (as symbol sequences, with their counts), the count of every adjacent pair, and which words hold it.
 * `where` may list a word that has since lost the pair; a merge simply finds nothing to do there (cheaper than
 * removing entries).
 */
class PairIndex {
  readonly count = new Map<number, number>();
  readonly where = new Map<number, number[]>();

  constructor(
    readonly words: number[][],
    readonly wcount: number[],
  ) {
    for (let wi = 0; wi < words.length; wi++) {
      const w = words[wi]!;
      for (let i = 0; i + 1 < w.length; i++) this.add(w[i]! * PAIR_SHIFT + w[i + 1]!, wcount[wi]!, wi);
    }
  }

  add(key: number, delta: number, wi: number): void {
    this.count.set(key, (this.count.get(key) ?? 0) + delta);
    if (delta > 0) {
      let list = this.where.get(key);
      if (!list) this.where.set(key, (list = []));
      if (list[list.length - 1] !== wi) list.push(wi);
    }
  }

  /**
   * Replace pair (a, b) by symbol x in every word that holds it — left to right, non-overlapping, exactly as BPE
   * applies a merge at encoding time — and return the pair keys that appeared.
   */
  merge(key: number, a: number, b: number, x: number, visited: Int32Array, stamp: number): Set<number> {
    const newKeys = new Set<number>();
    for (const wi of this.where.get(key) ?? []) {
      if (visited[wi] === stamp) continue;
      visited[wi] = stamp;
      const w = this.words[wi]!;
      const c = this.wcount[wi]!;
      for (let i = 0; i + 1 < w.length; i++) {
        if (w[i] !== a || w[i + 1] !== b) continue;
        if (i > 0) {
          const p = w[i - 1]!;
          this.add(p * PAIR_SHIFT + a, -c, wi);
          this.add(p * PAIR_SHIFT + x, c, wi);
          newKeys.add(p * PAIR_SHIFT + x);
        }
        w.splice(i, 2, x);
        if (i + 1 < w.length) {
          const n = w[i + 1]!;
          this.add(b * PAIR_SHIFT + n, -c, wi);
          this.add(x * PAIR_SHIFT + n, c, wi);
          newKeys.add(x * PAIR_SHIFT + n);
        }
      }
    }
    this.count.delete(key);
    this.where.delete(key);
    return newKeys;
  }
}

/** Merge the most frequent pair (ties: the heap's order) until `total` merges or none is frequent enough. */
function learnMerges(pairs: PairIndex, symbols: string[], total: number, minFrequency: number, onProgress: TrainBpeOptions['onProgress']): [string, string][] {
  const heap = new PairHeap();
  for (const [key, c] of pairs.count) heap.push(c, key);
  const merges: [string, string][] = [];
  const visited = new Int32Array(pairs.words.length).fill(-1);
  while (merges.length < total) {
    if (heap.size === 0) break;
    const [stored, key] = heap.pop();
    const actual = pairs.count.get(key) ?? 0;
    // Counts of existing pairs only ever go down, so a stale entry is re-queued with its true count.
    if (actual !== stored) {
      if (actual > 0) heap.push(actual, key);
      continue;
    }
    if (actual < minFrequency) break;
    const a = Math.floor(key / PAIR_SHIFT);
    const b = key - a * PAIR_SHIFT;
    const x = symbols.length;
    symbols.push(symbols[a]! + symbols[b]!);
    merges.push([symbols[a]!, symbols[b]!]);
    const newKeys = pairs.merge(key, a, b, x, visited, merges.length);
    for (const k of [...newKeys].sort((p, q) => p - q)) {
      const c = pairs.count.get(k) ?? 0;
      if (c > 0) heap.push(c, k);
    }
    if (onProgress && merges.length % 256 === 0) onProgress(merges.length, total);
  }
  return merges;
}

// ---------------------------------------------------------------------------------------------------
// Serialisation

/** Object whose keys are written in the given order (plain objects would hoist integer-like keys such as "10"). */
class Ordered {
  constructor(readonly entries: [string, unknown][]) {}
}

function writeJson(v: unknown, indent: string, compactDepth: number): string {
  if (v instanceof Ordered || (v !== null && typeof v === 'object' && !Array.isArray(v))) {
    const entries = v instanceof Ordered ? v.entries : Object.entries(v as Record<string, unknown>);
    if (entries.length === 0) return '{}';
    if (compactDepth <= 0) return `{${entries.map(([k, x]) => `${JSON.stringify(k)}: ${writeJson(x, '', 0)}`).join(', ')}}`;
    const inner = indent + '  ';
    return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${writeJson(x, inner, compactDepth - 1)}`).join(',\n')}\n${indent}}`;
  }
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    if (compactDepth <= 0) return `[${v.map((x) => writeJson(x, '', 0)).join(', ')}]`;
    const inner = indent + '  ';
    return `[\n${v.map((x) => inner + writeJson(x, inner, compactDepth - 1)).join(',\n')}\n${indent}]`;
  }
  return JSON.stringify(v) ?? 'null';
}

function addedTokens(t: TrainedBpe): HfAddedToken[] {
  return t.specialTokens.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
}

/**
 * The `tokenizer.json` text, byte-identical for identical training input. Layout follows the Rust
 * library's serializer (LLaMA-3 style): no normalizer (so any string round-trips; corpus text is
 * NFC-normalised before training instead), Sequence[Split(regex), ByteLevel(use_regex=false)],
 * a TemplateProcessing post-processor that prepends BOS when special tokens are requested (what HF
 * `transformers` does for LLaMA), ByteLevel decoder, BPE model with merges as "left right" strings
 * (the format every tokenizers version reads; byte-level tokens never contain a space).
 */
export function tokenizerJsonString(t: TrainedBpe): string {
  const bos = t.bosToken;
  const bosId = bos === null ? -1 : t.specialTokens.indexOf(bos);
  const postProcessor =
    bos === null
      ? null
      : {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [
            { SpecialToken: { id: bos, type_id: 0 } },
            { Sequence: { id: 'A', type_id: 0 } },
            { SpecialToken: { id: bos, type_id: 1 } },
            { Sequence: { id: 'B', type_id: 1 } },
          ],
          special_tokens: new Ordered([[bos, { id: bos, ids: [bosId], tokens: [bos] }]]),
        };
  const doc = new Ordered([
    ['version', '1.0'],
    ['truncation', null],
    ['padding', null],
    ['added_tokens', addedTokens(t)],
    ['normalizer', null],
    [
      'pre_tokenizer',
      {
        type: 'Sequence',
        pretokenizers: [
          { type: 'Split', pattern: { Regex: PRETOKENIZE_REGEX }, behavior: 'Isolated', invert: false },
          { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
        ],
      },
    ],
    ['post_processor', postProcessor],
    ['decoder', { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true }],
    [
      'model',
      new Ordered([
        ['type', 'BPE'],
        ['dropout', null],
        ['unk_token', null],
        ['continuing_subword_prefix', null],
        ['end_of_word_suffix', null],
        ['fuse_unk', false],
        ['byte_fallback', false],
        ['ignore_merges', false],
        ['vocab', new Ordered(t.tokens.map((tok, id) => [tok, id]))],
        ['merges', t.merges.map(([l, r]) => `${l} ${r}`)],
      ]),
    ],
  ]);
  // Depth: pretty down to one vocab entry / merge / added token per line, compact below that.
  return writeJson(doc, '', 3) + '\n';
}

export interface TokenizerConfigOptions {
  /** Context length recorded for HF `transformers` (default 2048). */
  modelMaxLength?: number;
}

/** `tokenizer_config.json` as HF `transformers` (PreTrainedTokenizerFast) and tokenizers.js read it. */
export function tokenizerConfig(t: TrainedBpe, opts: TokenizerConfigOptions = {}): Record<string, unknown> {
  const decoder: Record<string, unknown> = {};
  for (const a of addedTokens(t)) {
    decoder[String(a.id)] = { content: a.content, lstrip: a.lstrip, normalized: a.normalized, rstrip: a.rstrip, single_word: a.single_word, special: a.special };
  }
  return {
    added_tokens_decoder: decoder,
    bos_token: t.bosToken,
    // tokenizers.js defaults this to true, which rewrites " ." to "." and breaks decode(encode(x)) === x.
    clean_up_tokenization_spaces: false,
    eos_token: t.eosToken,
    model_input_names: ['input_ids', 'attention_mask'],
    model_max_length: opts.modelMaxLength ?? 2048,
    pad_token: t.padToken,
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
}

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await fsp.writeFile(tmp, text, 'utf8');
  await fsp.rename(tmp, file);
}

/** Write `tokenizer.json` and `tokenizer_config.json` into `dir` (created if needed; each file atomically). */
export async function saveTokenizer(dir: string, t: TrainedBpe, opts: TokenizerConfigOptions = {}): Promise<{ tokenizerPath: string; configPath: string }> {
  await fsp.mkdir(dir, { recursive: true });
  const tokenizerPath = path.join(dir, 'tokenizer.json');
  const configPath = path.join(dir, 'tokenizer_config.json');
  await writeAtomic(tokenizerPath, tokenizerJsonString(t));
  await writeAtomic(configPath, JSON.stringify(tokenizerConfig(t, opts), null, 2) + '\n');
  return { tokenizerPath, configPath };
}
