import {
  CORPUS_NAMES,
  detokenizeBrown,
  loadCorpus,
  normalizeText,
  splitDocuments,
  type CorpusDocument,
} from '../../../src/loram/data/corpora';

const corpora = Object.fromEntries(CORPUS_NAMES.map((n) => [n, loadCorpus(n)])) as Record<(typeof CORPUS_NAMES)[number], CorpusDocument[]>;

describe('loadCorpus', () => {
  it.each(CORPUS_NAMES)('%s: non-empty documents with unique, prefixed ids and normalised text', (name) => {
    const docs = corpora[name];
    expect(docs.length).toBeGreaterThan(100);
    expect(new Set(docs.map((d) => d.id)).size).toBe(docs.length);
    for (const d of docs) {
      expect(d.id.startsWith(`${name}/`)).toBe(true);
      expect(d.meta.corpus).toBe(name);
      expect(d.text.length).toBeGreaterThan(0);
      expect(d.text).toBe(d.text.normalize('NFC'));
      expect(d.text).toBe(d.text.trim());
      expect(d.text).not.toMatch(/\r|\n{3,}|[ \t]{2,}|[\u0000-\u0008\u000b-\u001f]/);
    }
  });

  it('moby-dick: chapters in book order with titles, no table of contents by default', () => {
    const docs = corpora['moby-dick'];
    expect(docs).toHaveLength(138);
    expect(docs[0]!.id).toBe('moby-dick/etymology');
    const ch1 = docs.find((d) => d.id === 'moby-dick/chapter_1')!;
    expect(ch1.meta.title).toBe('Loomings.');
    expect(ch1.text.startsWith('Call me Ishmael.')).toBe(true);
    expect(ch1.text).toContain('\n\n'); // paragraph breaks kept
    expect(docs.at(-1)!.id).toBe('moby-dick/epilogue');
    expect(loadCorpus('moby-dick', { includeContents: true, maxDocuments: 1 })[0]!.id).toBe('moby-dick/contents');
  });

  it('brown: running text, not tagged tokens, with categories', () => {
    const docs = corpora.brown;
    expect(docs).toHaveLength(500);
    const first = docs[0]!;
    expect(first.meta).toEqual({ corpus: 'brown', file: 'ca01', category: 'news' });
    expect(first.text.startsWith('The Fulton County Grand Jury said Friday an investigation of')).toBe(true);
    expect(first.text).toContain('produced "no evidence" that any irregularities took place.');
    for (const d of docs) expect(d.text).not.toMatch(/\/(at|nn|vbd|jj)\b|``/);
    // Punctuation is attached to the word before it; the few exceptions are gaps in the source itself
    // (numbers and formulas Brown left out, as in "each , Dick Stuart").
    const all = docs.map((d) => d.text).join('\n');
    expect(all.match(/ [,.;:?!]/g)?.length ?? 0).toBeLessThan(30);
    expect(all.match(/[,.;:?!]/g)!.length).toBeGreaterThan(100_000);
    const news = loadCorpus('brown', { categories: ['news'] });
    expect(news).toHaveLength(44);
    expect(news.every((d) => d.meta.category === 'news')).toBe(true);
  });

  it('sotu: one address per document with year, president and party', () => {
    const docs = corpora.sotu;
    expect(docs.length).toBeGreaterThan(200);
    expect(docs[0]!.meta).toEqual({ corpus: 'sotu', year: 1790, president: 'George Washington', party: 'none' });
    const clinton = docs.find((d) => d.id === 'sotu/2000_william_j_clinton_d')!;
    expect(clinton.meta).toEqual({ corpus: 'sotu', year: 2000, president: 'William J Clinton', party: 'Democratic' });
    const years = docs.map((d) => d.meta.year as number);
    expect(years).toEqual([...years].sort((a, b) => a - b));
  });

  it('limits by documents and by characters', () => {
    expect(loadCorpus('sotu', { maxDocuments: 3 })).toHaveLength(3);
    const some = loadCorpus('brown', { maxChars: 50_000 });
    const total = some.reduce((n, d) => n + d.text.length, 0);
    expect(total).toBeGreaterThanOrEqual(50_000);
    expect(total - some.at(-1)!.text.length).toBeLessThan(50_000);
  });

  it('rejects unknown names', () => {
    expect(() => loadCorpus('nope' as 'brown')).toThrow(/unknown corpus/);
  });
});

describe('normalizeText', () => {
  it('NFC, line endings, controls, whitespace runs, paragraph breaks', () => {
    expect(normalizeText('  e\u0301te\u0301  ')).toBe('été');
    expect(normalizeText('a\r\nb\rc')).toBe('a\nb\nc');
    expect(normalizeText('a\u0002b\u007fc\ufeff')).toBe('abc');
    expect(normalizeText('a \t\u00a0\u3000 b')).toBe('a b');
    expect(normalizeText('para one.  \n\n\n\n  para two.\nline two.')).toBe('para one.\n\npara two.\nline two.');
  });
});

describe('detokenizeBrown', () => {
  it('joins tokens, quotes and punctuation, and keeps paragraphs and headlines', () => {
    const tagged = [
      '',
      "\tHe/pps said/vbd ``/`` yes/rb ''/'' ,/, and/cc left/vbd (/( quickly/rb )/) ./.",
      'It/pps rained/vbd ;/. Mr./np Jr./np ./.',
      '',
      'Big/jj-hl News/nn-hl',
      'Then/rb it/pps ended/vbd !/.',
      '\tNew/jj paragraph/nn ?/.',
    ].join('\n');
    expect(detokenizeBrown(tagged)).toBe(
      'He said "yes", and left (quickly). It rained; Mr. Jr.\n\nBig News\n\nThen it ended!\n\nNew paragraph?',
    );
  });
});

describe('splitDocuments', () => {
  const docs = corpora['moby-dick'];
  const opts = { valFraction: 0.1, testFraction: 0.1, seed: 42 };

  it('partitions documents: every document in exactly one split, sizes from the fractions', () => {
    const s = splitDocuments(docs, opts);
    const ids = [...s.train, ...s.val, ...s.test].map((d) => d.id);
    expect(ids).toHaveLength(docs.length);
    expect(new Set(ids).size).toBe(docs.length);
    expect(s.test).toHaveLength(Math.round(docs.length * 0.1));
    expect(s.val).toHaveLength(Math.round(docs.length * 0.1));
    // Each split keeps input order.
    const pos = new Map(docs.map((d, i) => [d.id, i]));
    for (const part of [s.train, s.val, s.test]) {
      const p = part.map((d) => pos.get(d.id)!);
      expect(p).toEqual([...p].sort((a, b) => a - b));
    }
  });

  it('is deterministic, independent of input order, and changes with the seed', () => {
    const ids = (s: ReturnType<typeof splitDocuments<CorpusDocument>>) => [s.train, s.val, s.test].map((p) => p.map((d) => d.id).sort());
    const a = splitDocuments(docs, opts);
    expect(ids(splitDocuments(docs, opts))).toEqual(ids(a));
    expect(ids(splitDocuments([...docs].reverse(), opts))).toEqual(ids(a));
    expect(ids(splitDocuments(docs, { ...opts, seed: 43 }))).not.toEqual(ids(a));
  });

  it('gives a nonzero fraction at least one document, keeps one for training, and validates input', () => {
    const three = docs.slice(0, 3);
    const s = splitDocuments(three, { valFraction: 0.01, testFraction: 0.01, seed: 1 });
    expect([s.train.length, s.val.length, s.test.length]).toEqual([1, 1, 1]);
    const none = splitDocuments(three, { valFraction: 0, testFraction: 0, seed: 1 });
    expect(none.train).toHaveLength(3);
    expect(splitDocuments([], opts)).toEqual({ train: [], val: [], test: [] });
    expect(() => splitDocuments(docs, { ...opts, valFraction: 0.6, testFraction: 0.5 })).toThrow(RangeError);
    expect(() => splitDocuments(docs, { ...opts, testFraction: -0.1 })).toThrow(RangeError);
    expect(() => splitDocuments([docs[0]!, docs[0]!], opts)).toThrow(/duplicate/);
  });
});
