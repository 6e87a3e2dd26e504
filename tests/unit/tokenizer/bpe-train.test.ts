import { Tokenizer } from '@huggingface/tokenizers';
import { loadCorpus } from '../../../src/loram/data/corpora';
import {
  DEFAULT_SPECIAL_TOKENS,
  bytesToUnicode,
  tokenizerConfig,
  tokenizerJsonString,
  trainBpe,
  type TrainedBpe,
} from '../../../src/loram/tokenizer/bpe-train';

// A ~400 kB slice of Moby Dick keeps this file to a couple of seconds.
const texts = loadCorpus('moby-dick', { maxChars: 400_000 }).map((d) => d.text);
const VOCAB = 1000;
let trained: TrainedBpe;
let json: string;

beforeAll(() => {
  trained = trainBpe(texts, { vocabSize: VOCAB });
  json = tokenizerJsonString(trained);
});

describe('bytesToUnicode', () => {
  it('is the GPT-2 table: a bijection onto 256 printable characters', () => {
    const t = bytesToUnicode();
    expect(new Set(t).size).toBe(256);
    expect(t[0x20]).toBe('Ġ'); // space
    expect(t[0x0a]).toBe('Ċ'); // newline
    expect(t[0x41]).toBe('A');
    expect(t[0xad]).toBe('\u0143'); // soft hyphen, the last remapped byte
    expect(t.every((c) => !/\s/u.test(c))).toBe(true);
  });
});

describe('trainBpe', () => {
  it('produces exactly the requested vocabulary, specials first, then bytes, then merges', () => {
    expect(trained.tokens.length).toBe(VOCAB);
    expect(new Set(trained.tokens).size).toBe(VOCAB);
    expect(trained.tokens.slice(0, 3)).toEqual([...DEFAULT_SPECIAL_TOKENS]);
    expect(trained.merges.length).toBe(VOCAB - 3 - 256);
    // Every merge joins two earlier tokens into the token with the next id.
    const idOf = new Map(trained.tokens.map((t, i) => [t, i]));
    trained.merges.forEach(([l, r], i) => {
      const id = 3 + 256 + i;
      expect(trained.tokens[id]).toBe(l + r);
      expect(idOf.get(l)!).toBeLessThan(id);
      expect(idOf.get(r)!).toBeLessThan(id);
    });
  });

  it('is deterministic: same input gives a byte-identical tokenizer.json', () => {
    const again = tokenizerJsonString(trainBpe(texts, { vocabSize: VOCAB }));
    expect(again).toBe(json);
  });

  it('learns frequent words as single tokens', () => {
    const tok = new Tokenizer(JSON.parse(json), tokenizerConfig(trained));
    for (const word of [' the', ' whale', ' and']) {
      expect(tok.encode(word, { add_special_tokens: false }).ids).toHaveLength(1);
    }
    // The first merges are the most frequent pairs in English text.
    expect(trained.merges.slice(0, 10).map(([l, r]) => l + r)).toContain('Ġt');
  });

  it('writes the Hugging Face tokenizer.json schema', () => {
    const j = JSON.parse(json);
    expect(Object.keys(j)).toEqual(['version', 'truncation', 'padding', 'added_tokens', 'normalizer', 'pre_tokenizer', 'post_processor', 'decoder', 'model']);
    expect(j.model.type).toBe('BPE');
    expect(Object.keys(j.model.vocab)).toHaveLength(VOCAB);
    expect(Object.values(j.model.vocab).sort((a, b) => (a as number) - (b as number))).toEqual([...Array(VOCAB).keys()]);
    expect(j.model.merges[0]).toMatch(/^\S+ \S+$/);
    expect(j.added_tokens.map((t: { id: number; content: string; special: boolean }) => [t.id, t.content, t.special])).toEqual([
      [0, '<|begin_of_text|>', true],
      [1, '<|end_of_text|>', true],
      [2, '<|pad|>', true],
    ]);
    expect(j.pre_tokenizer.pretokenizers.map((p: { type: string }) => p.type)).toEqual(['Split', 'ByteLevel']);
    expect(j.decoder.type).toBe('ByteLevel');
    expect(j.post_processor.special_tokens['<|begin_of_text|>'].ids).toEqual([0]);
  });

  it('keeps special-token strings out of the merges', () => {
    const withSpecials = texts.slice(0, 20).map((t) => `<|begin_of_text|>${t}<|end_of_text|>`);
    const t = trainBpe(withSpecials, { vocabSize: 600 });
    expect(t.merges.some(([l, r]) => (l + r).includes('<|'))).toBe(false);
  });

  it('honours custom special tokens and roles', () => {
    const t = trainBpe(texts.slice(0, 10), { vocabSize: 400, specialTokens: ['<s>', '</s>'], bosToken: '<s>', eosToken: '</s>', padToken: null });
    expect(t.tokens.slice(0, 2)).toEqual(['<s>', '</s>']);
    expect(t.tokens).toHaveLength(400);
    expect(tokenizerConfig(t).pad_token).toBeNull();
    expect(() => trainBpe(texts.slice(0, 1), { vocabSize: 400, bosToken: '<bos>' })).toThrow(/not one of the special tokens/);
  });

  it('rejects impossible sizes with a clear message', () => {
    expect(() => trainBpe(texts, { vocabSize: 100 })).toThrow(/vocabSize must be/);
    expect(() => trainBpe(['tiny text'], { vocabSize: 2000 })).toThrow(/supports only \d+ merges/);
  });

  it('reports progress and can be cancelled from the callback', () => {
    const seen: number[] = [];
    trainBpe(texts.slice(0, 30), { vocabSize: 900, onProgress: (done) => seen.push(done) });
    expect(seen.at(-1)).toBe(900 - 259);
    expect(() =>
      trainBpe(texts.slice(0, 30), {
        vocabSize: 900,
        onProgress: () => {
          throw new Error('cancelled');
        },
      }),
    ).toThrow('cancelled');
  });
});
