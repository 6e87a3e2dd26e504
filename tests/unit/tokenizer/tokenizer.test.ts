import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { documentsText, loadCorpus, splitDocuments } from '../../../src/loram/data/corpora';
import { saveTokenizer, trainBpe } from '../../../src/loram/tokenizer/bpe-train';
import { loadTokenizer, loadTokenizerSync, type LoadedTokenizer } from '../../../src/loram/tokenizer/tokenizer';
import { Rng } from '../../../src/loram/util/rng';

let tmp: string;
let dir: string;
let tok: LoadedTokenizer;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'loram-tok-'));
  dir = path.join(tmp, 'small');
  const texts = loadCorpus('moby-dick', { maxChars: 300_000 }).map((d) => d.text);
  await saveTokenizer(dir, trainBpe(texts, { vocabSize: 800 }), { modelMaxLength: 512 });
  tok = await loadTokenizer(dir);
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const FIXED = [
  '',
  ' ',
  '   ',
  'a',
  'Call me Ishmael.',
  '  leading spaces',
  'trailing spaces   ',
  '\n\nblank lines\n\n\n',
  'tabs\tand\r\nCRLF\rCR',
  "don't WE'LL it's 'quoted' \"double\" — em dash … ellipsis",
  'numbers 0 12 345 6789 3.14159 1,000,000',
  'emoji 👍 👍🏽 👨‍👩‍👧 🏳️‍🌈 🇫🇷',
  'CJK 日本語のテキスト 中文 한국어',
  'combining: e\u0301 a\u0308 n\u0303 Z\u0351\u0352 and precomposed é ä ñ',
  'RTL עברית العربية',
  'controls \u0000\u0001\u0007\u001b\u007f\u0085 zero-width \u200b\u200d BOM \ufeff nbsp \u00a0 ideographic \u3000',
  'symbols ∑∫√∞ ≠ ≤ ≥ ©®™ €£¥',
  'mixed<|pad|>specials<|end_of_text|> and a fake <|not_special|>',
  'x'.repeat(1000),
  '🐋'.repeat(50),
];

/** Random valid Unicode (no lone surrogates): ASCII-heavy so the pre-tokenizer sees words and spaces. */
function randomString(rng: Rng, len: number): string {
  const ranges: [number, number][] = [
    [0x20, 0x7e],
    [0x00, 0x1f],
    [0x80, 0x7ff],
    [0x800, 0xd7ff],
    [0xe000, 0xfffd],
    [0x10000, 0x10ffff],
  ];
  const weights = [0.6, 0.05, 0.1, 0.1, 0.05, 0.1];
  let s = '';
  for (let i = 0; i < len; i++) {
    let u = rng.next();
    let r = 0;
    while (r < weights.length - 1 && u >= weights[r]!) u -= weights[r++]!;
    const [lo, hi] = ranges[r]!;
    s += String.fromCodePoint(lo + rng.int(hi - lo + 1));
  }
  return s;
}

describe('loadTokenizer', () => {
  it('loads a directory or the file itself and exposes ids', () => {
    expect(tok.vocabSize).toBe(800);
    expect([tok.bosId, tok.eosId, tok.padId]).toEqual([0, 1, 2]);
    expect([tok.bosToken, tok.eosToken, tok.padToken]).toEqual(['<|begin_of_text|>', '<|end_of_text|>', '<|pad|>']);
    expect(tok.tokenToId('<|pad|>')).toBe(2);
    expect(tok.tokenToId('Ġthe')).toBeGreaterThan(258);
    expect(tok.idToToken(0)).toBe('<|begin_of_text|>');
    const byFile = loadTokenizerSync(path.join(dir, 'tokenizer.json'));
    expect(byFile.encode('Call me Ishmael.')).toEqual(tok.encode('Call me Ishmael.'));
  });

  it('round-trips fixed strings: decode(encode(x)) === x', () => {
    for (const s of FIXED) expect(tok.decode(tok.encode(s))).toBe(s);
  });

  it('round-trips 300 random strings from a seed', () => {
    const rng = new Rng(1234);
    for (let i = 0; i < 300; i++) {
      const s = randomString(rng, 1 + rng.int(80));
      const ids = tok.encode(s);
      expect(ids.every((id) => Number.isInteger(id) && id >= 0 && id < tok.vocabSize)).toBe(true);
      expect(tok.decode(ids)).toBe(s);
    }
  });

  it('handles BOS/EOS and skipping specials', () => {
    const s = ' Some text. ';
    const ids = tok.encode(s, { addBos: true, addEos: true });
    expect(ids[0]).toBe(0);
    expect(ids.at(-1)).toBe(1);
    expect(tok.decode(ids)).toBe(`<|begin_of_text|>${s}<|end_of_text|>`);
    expect(tok.decode(ids, { skipSpecial: true })).toBe(s);
    expect(tok.encode('')).toEqual([]);
    expect(tok.decode([])).toBe('');
    expect(tok.decode([0, 1, 2], { skipSpecial: true })).toBe('');
  });

  it('encodes each special token to a single id', () => {
    expect(tok.encode('<|begin_of_text|>')).toEqual([0]);
    expect(tok.encode('<|end_of_text|>')).toEqual([1]);
    expect(tok.encode('<|pad|>')).toEqual([2]);
    expect(tok.encode('a<|pad|>b')).toContain(2);
  });

  it('loads through @huggingface/tokenizers directly, with BOS from the post-processor', () => {
    const raw = new Tokenizer(
      JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')),
      JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')),
    );
    const s = 'The whale , the sea .';
    const enc = raw.encode(s);
    expect(enc.ids[0]).toBe(0);
    expect(enc.ids.slice(1)).toEqual(tok.encode(s));
    // The config turns off clean_up_tokenization_spaces, so " ," survives.
    expect(raw.decode(enc.ids, { skip_special_tokens: true })).toBe(s);
  });

  it('rejects ids outside the vocabulary', () => {
    expect(() => tok.decode([800])).toThrow(/not in the vocabulary/);
    expect(() => tok.decode([-1])).toThrow(/not in the vocabulary/);
    expect(() => tok.decode([1.5])).toThrow(/not in the vocabulary/);
  });

  it('names the path in errors for missing or malformed files', async () => {
    const missing = path.join(tmp, 'nope');
    await expect(loadTokenizer(missing)).rejects.toThrow(missing);
    const emptyDir = path.join(tmp, 'empty');
    fs.mkdirSync(emptyDir);
    expect(() => loadTokenizerSync(emptyDir)).toThrow(path.join(emptyDir, 'tokenizer.json'));
    const bad = path.join(tmp, 'bad.json');
    fs.writeFileSync(bad, '{ not json');
    expect(() => loadTokenizerSync(bad)).toThrow(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid JSON`));
    const noModel = path.join(tmp, 'nomodel.json');
    fs.writeFileSync(noModel, '{"added_tokens": []}');
    expect(() => loadTokenizerSync(noModel)).toThrow(/has no "model"/);
    const badModel = path.join(tmp, 'badmodel.json');
    fs.writeFileSync(badModel, '{"model": {"type": "Nonsense"}}');
    expect(() => loadTokenizerSync(badModel)).toThrow(badModel);
  });
});

describe('4096-token vocabulary on Moby Dick + Brown', () => {
  it('compresses held-out English to more than 3 characters per token', () => {
    const { train, test } = splitDocuments(loadCorpus('brown'), { valFraction: 0, testFraction: 0.1, seed: 7 });
    const texts = [...loadCorpus('moby-dick'), ...train].map((d) => d.text);
    const trained = trainBpe(texts, { vocabSize: 4096 });
    const file = path.join(tmp, 'big', 'tokenizer.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    return saveTokenizer(path.dirname(file), trained).then(() => {
      const big = loadTokenizerSync(file);
      expect(big.vocabSize).toBe(4096);
      const heldOut = documentsText([...test, ...loadCorpus('sotu', { maxDocuments: 5 })]);
      const ids = big.encode(heldOut);
      const charsPerToken = heldOut.length / ids.length;
      expect(charsPerToken).toBeGreaterThan(3);
      expect(big.decode(ids)).toBe(heldOut);
    });
  });
});
