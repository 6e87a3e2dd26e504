import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCorpus, splitDocuments } from '../../../src/loram/data/corpora';
import { buildContinuationItems, continuationChance, type ContinuationItem } from '../../../src/loram/data/multiple-choice';
import { splitSentences, truncateAtSentence, words } from '../../../src/loram/data/text-units';
import { loadMcDataset } from '../../../src/loram/eval/datasets';
import { registry, type NodeContext } from '../../../src/nodes/index';

const sotu = loadCorpus('sotu').map((d) => ({ id: d.id, text: truncateAtSentence(d.text, 4000) }));
const splits = splitDocuments(sotu, { valFraction: 0.1, testFraction: 0.1, seed: 0 });
const brown = loadCorpus('brown', { maxDocuments: 80 }).map((d) => ({ id: d.id, text: d.text }));
const squash = (s: string) => s.replace(/\s+/g, ' ');

describe('text units', () => {
  test('sentences end at . ! ? before a capital, not after abbreviations or initials', () => {
    expect(splitSentences('Mr. Smith went to Washington. He met Gen. Grant! Did the U.S. Senate agree? Yes.\n\nA new paragraph')).toEqual([
      'Mr. Smith went to Washington.',
      'He met Gen. Grant!',
      'Did the U.S. Senate agree?',
      'Yes.',
      'A new paragraph',
    ]);
    expect(splitSentences('John Q. Adams wrote "Liberty." Then he left.')).toEqual(['John Q. Adams wrote "Liberty."', 'Then he left.']);
    expect(words('  a  b\nc ')).toEqual(['a', 'b', 'c']);
  });

  test('truncateAtSentence cuts at the last sentence end within the limit', () => {
    const t = 'First sentence here. Second one is longer than that. Third.';
    expect(truncateAtSentence(t, 1000)).toBe(t);
    expect(truncateAtSentence(t, 30)).toBe('First sentence here.');
    expect(truncateAtSentence(t, 55)).toBe('First sentence here. Second one is longer than that.');
    expect(truncateAtSentence('Paragraph one\n\nparagraph two goes on', 20)).toBe('Paragraph one');
    expect(truncateAtSentence('averyveryverylongword and more words here', 25)).toBe('averyveryverylongword and');
    for (const d of sotu.slice(0, 50)) expect(d.text.length).toBeLessThanOrEqual(4000);
  });
});

describe('true-continuation multiple choice', () => {
  const items = buildContinuationItems(splits.test, brown, { seed: 2 });

  test('deterministic from the seed, independent of input order', () => {
    expect(buildContinuationItems(splits.test, brown, { seed: 2 })).toEqual(items);
    expect(buildContinuationItems([...splits.test].reverse(), [...brown].reverse(), { seed: 2 })).toEqual(items);
    const other = buildContinuationItems(splits.test, brown, { seed: 3 });
    expect(other).not.toEqual(items);
  });

  test('well-formed items: one answer, matched lengths, distinct choices, the true continuation of the context', () => {
    expect(items.length).toBeGreaterThan(100);
    const byId = new Map(splits.test.map((d) => [d.id, squash(d.text)]));
    for (const it of items) {
      expect(it.choices).toHaveLength(4);
      expect(new Set(it.choices).size).toBe(4);
      expect(it.kinds.filter((k) => k === 'answer')).toHaveLength(1);
      expect(it.kinds[it.answer]).toBe('answer');
      expect(it.kinds.filter((k) => k === 'general')).toHaveLength(1);
      expect(it.kinds.filter((k) => k === 'domain')).toHaveLength(2);
      for (const c of it.choices) {
        expect(words(c)).toHaveLength(10);
        expect(c).not.toMatch(/[!?]["')\]]*$/);
      }
      expect(words(it.context)).toHaveLength(40);
      // The context followed by the answer is a passage of the document, and the sentence goes on after it.
      expect(byId.get(it.doc)!).toContain(`${it.context} ${it.choices[it.answer]} `);
      // Domain distractors come from OTHER documents of the same split; general ones from the general corpus.
      it.kinds.forEach((k, i) => {
        if (k === 'domain') {
          expect(it.sources[i]).not.toBe(it.doc);
          expect(byId.has(it.sources[i]!)).toBe(true);
        }
        if (k === 'general') expect(it.sources[i]!.startsWith('brown/')).toBe(true);
      });
    }
    expect(new Set(items.map((i) => i.id)).size).toBe(items.length);
  });

  test('the answer position is balanced over the slots', () => {
    const counts = [0, 0, 0, 0];
    for (const it of items) counts[it.answer]!++;
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    // and not a fixed pattern: consecutive items do not cycle through slots in order
    const cycling = items.every((it, i) => it.answer === i % 4);
    expect(cycling).toBe(false);
  });

  test('no leakage: no held-out item text or source is in the training split', () => {
    const trainIds = new Set(splits.train.map((d) => d.id));
    const trainText = splits.train.map((d) => squash(d.text));
    for (const it of items) {
      expect(trainIds.has(it.doc)).toBe(false);
      for (const [i, s] of it.sources.entries()) if (it.kinds[i] !== 'general') expect(trainIds.has(s)).toBe(false);
    }
    // spot-check the text itself: contexts of held-out items are not passages of training documents
    for (const it of items.slice(0, 40)) for (const t of trainText) expect(t.includes(it.context)).toBe(false);
  });

  test('limits, options and errors', () => {
    const few = buildContinuationItems(splits.test, brown, { seed: 1, maxItems: 30, itemsPerDocument: 3 });
    expect(few).toHaveLength(30);
    const perDoc = new Map<string, number>();
    for (const it of few) perDoc.set(it.doc, (perDoc.get(it.doc) ?? 0) + 1);
    expect(Math.max(...perDoc.values())).toBeLessThanOrEqual(3);
    const noGeneral = buildContinuationItems(splits.test, [], { seed: 1, choices: 3, generalDistractors: 0, maxItems: 20 });
    expect(noGeneral.every((it) => it.choices.length === 3 && !it.kinds.includes('general'))).toBe(true);
    expect(() => buildContinuationItems(splits.test, brown, { seed: 1, choices: 2, generalDistractors: 2 })).toThrow(/at most choices − 1/);
    expect(() => buildContinuationItems(splits.test.slice(0, 1), brown, { seed: 1 })).toThrow(/at least two documents/);
    expect(() => buildContinuationItems([{ id: 'a', text: 'x' }, { id: 'a', text: 'y' }], [], { seed: 1, generalDistractors: 0 })).toThrow(/duplicate/);
    expect(continuationChance(4, 1)).toEqual({ chance: 0.25, styleOnly: 1 / 3 });
  });

  test('the JSONL is what the evaluator reads', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loram-mc-'));
    const file = path.join(dir, 'test.jsonl');
    writeFileSync(file, items.map((i) => JSON.stringify(i)).join('\n') + '\n');
    const ds = await loadMcDataset(file);
    expect(ds.items).toHaveLength(items.length);
    expect(ds.items[0]).toMatchObject({ id: items[0]!.id, context: items[0]!.context, choices: items[0]!.choices, answer: items[0]!.answer });
  });
});

describe('Dataset node: SotU documents and multiple choice from the same split', () => {
  function ctx(outDir: string): NodeContext {
    return {
      nodeId: 'n',
      signature: 'f'.repeat(64),
      outDir,
      signal: new AbortController().signal,
      progress: async () => undefined,
      log: () => undefined,
      output: (p = '') => ({ kind: 'store', artifact: 'f'.repeat(64), path: p }),
      resolve: (loc) => (loc.kind === 'external' ? loc.path : path.join(outDir, loc.path)),
      baseDir: outDir,
      cacheDir: outDir,
      fileHashes: {},
      sources: {},
    };
  }
  const def = registry.get('Dataset')!;
  const split = { source: 'sotu', maxDocumentChars: 4000, valFraction: 0.1, testFraction: 0.1, seed: 0 };

  test('text splits are cut to the limit; multiple-choice items never come from training documents', async () => {
    const a = mkdtempSync(path.join(os.tmpdir(), 'loram-dom-'));
    const b = mkdtempSync(path.join(os.tmpdir(), 'loram-dom-'));
    const docs = await def.run(ctx(a), {}, def.params.parse(split) as never);
    const mc = await def.run(ctx(b), {}, def.params.parse({ ...split, format: 'multiple-choice', mcMaxItems: 60 }) as never);
    const read = (dir: string, f: string) => readFileSync(path.join(dir, f), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const train = read(a, 'train.jsonl') as { id: string; text: string }[];
    expect(train.every((d) => d.text.length <= 4000)).toBe(true);
    expect(docs.outputs.dataset).toMatchObject({ format: 'documents' });
    expect(mc.outputs.dataset).toMatchObject({ format: 'multiple-choice', splits: { test: { path: 'test.jsonl', documents: 60 } } });
    expect(mc.metrics).toMatchObject({ choices: 4, chance: 0.25, testItems: 60 });
    const trainIds = new Set(train.map((d) => d.id));
    const testIds = new Set((read(a, 'test.jsonl') as { id: string }[]).map((d) => d.id));
    for (const it of read(b, 'test.jsonl') as ContinuationItem[]) {
      expect(trainIds.has(it.doc)).toBe(false);
      expect(testIds.has(it.doc)).toBe(true);
    }
    // text datasets keep their cache identity: the new optional fields are absent unless set
    expect(Object.keys(def.params.parse({ source: 'sotu' }) as object)).not.toContain('format');
  });

  test('multiple-choice options are refused on a text dataset', () => {
    const r = def.params.safeParse({ source: 'sotu', mcChoices: 4 });
    expect(r.success).toBe(false);
    expect(def.params.safeParse({ source: 'sotu', format: 'multiple-choice', mcChoices: 2, mcGeneralDistractors: 2 }).success).toBe(false);
  });
});
