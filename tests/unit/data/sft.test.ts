/** Supervised rows: labels are the next token exactly where that token is a completion token, IGNORE_INDEX elsewhere. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chatTemplate, recordSegments } from '../../../src/loram/data/chat-template';
import { packSftRows, sftBatch, sftRow, sftRows, tokenizeSegments } from '../../../src/loram/data/sft';
import { IGNORE_INDEX } from '../../../src/loram/model/loss';
import { loadTokenizer, type LoadedTokenizer } from '../../../src/loram/tokenizer/tokenizer';

const MODELS = fileURLToPath(new URL('../../../models/tokenizer', import.meta.url));
let tok: LoadedTokenizer;
beforeAll(async () => {
  tok = await loadTokenizer(path.join(MODELS, 'tokenizer.json'));
});

const tokens = () => ({ bosToken: tok.bosToken, eosToken: tok.eosToken });
const record = { id: 'r', kind: 'chat' as const, messages: [{ role: 'user' as const, content: 'What is 3 plus 4?' }, { role: 'assistant' as const, content: '7' }] };

describe('labels masked exactly on prompt tokens', () => {
  test('a chat record: only " 7<eos>" is predicted, from the positions just before it', () => {
    const segs = recordSegments(chatTemplate(null, tokens()), record, tokens(), [tok.eosToken!]);
    const seq = tokenizeSegments(tok, segs);
    const prompt = tok.encode('<|begin_of_text|>Question: What is 3 plus 4?\nAnswer:');
    const answer = tok.encode(' 7<|end_of_text|>');
    expect(seq.ids).toEqual([...prompt, ...answer, ...tok.encode('\n')]);
    const seqLen = 32;
    const row = sftRow(seq, seqLen, tok.padId!);
    const expected = new Int32Array(seqLen).fill(IGNORE_INDEX);
    answer.forEach((id, j) => (expected[prompt.length - 1 + j] = id));
    expect(Array.from(row.labels)).toEqual(Array.from(expected));
    expect(Array.from(row.inputIds.subarray(0, seq.ids.length))).toEqual(seq.ids);
    expect(Array.from(row.inputIds.subarray(seq.ids.length)).every((i) => i === tok.padId)).toBe(true);
  });

  test('a prompt/completion record: BOS + prompt masked, completion + EOS trained', () => {
    const segs = recordSegments(chatTemplate(null, tokens()), { id: 'p', kind: 'completion', prompt: 'The sea is', completion: ' wide' }, tokens(), []);
    const row = sftRow(tokenizeSegments(tok, segs), 16, tok.padId!);
    const promptLen = tok.encode('<|begin_of_text|>The sea is').length;
    const targets = [...tok.encode(' wide'), tok.eosId!];
    const got = Array.from(row.labels);
    expect(got.slice(promptLen - 1, promptLen - 1 + targets.length)).toEqual(targets);
    expect(got.filter((l) => l !== IGNORE_INDEX)).toEqual(targets);
  });

  test('truncation to seqLen + 1 tokens is counted; an example with no completion token left is dropped and counted', () => {
    const t = tokens();
    const template = chatTemplate(null, t);
    const long = { id: 'l', kind: 'chat' as const, messages: [{ role: 'user' as const, content: 'word '.repeat(3) }, { role: 'assistant' as const, content: 'a long answer that goes on and on' }] };
    const tooLong = { id: 'x', kind: 'chat' as const, messages: [{ role: 'user' as const, content: 'word '.repeat(40) }, { role: 'assistant' as const, content: '1' }] };
    const r = sftRows(tok, [record, long, tooLong].map((x) => recordSegments(template, x, t, [t.eosToken!])), 24);
    expect(r.truncated).toBe(2);
    expect(r.dropped).toBe(1);
    expect(r.rows.length).toBe(2);
    const b = sftBatch(r.rows, 24);
    expect(b.batch).toBe(2);
    expect(b.labels.filter((l) => l !== IGNORE_INDEX).length).toBe(r.targetTokens);
  });
});

describe('packing (optional): several examples per row', () => {
  // One id per character, so lengths are easy to count.
  const chars = { encode: (t: string) => [...t].map((c) => c.charCodeAt(0)), padId: 0, eosId: 1 };
  const ex = (prompt: string, answer: string) => [{ text: prompt, train: false }, { text: answer, train: true }];
  const seqOf = (segs: ReturnType<typeof ex>) => tokenizeSegments(chars, segs);
  const targets = (labels: Int32Array) => Array.from(labels).filter((l) => l !== IGNORE_INDEX).length;

  test('labels masked exactly: each example keeps the labels it has alone, none crosses into the next', () => {
    const examples = [ex('Q:ab?', 'xy'), ex('Q:c?', 'z'), ex('Q:de?', 'uvw')];
    const packed = packSftRows(chars, examples, 32);
    expect(packed.rows).toHaveLength(1);
    const row = packed.rows[0]!;
    // First-fit decreasing: the longest (8 tokens) first, then 7, then 5.
    const order = [examples[2]!, examples[0]!, examples[1]!].map(seqOf);
    const expected = new Int32Array(32).fill(IGNORE_INDEX);
    const segments = new Int32Array(32);
    let pos = 0;
    order.forEach((seq, k) => {
      const alone = sftRow(seq, seq.ids.length - 1, 0).labels; // the example alone, as an unpacked row of its own length
      expected.set(alone, pos);
      segments.fill(k + 1, pos, pos + seq.ids.length);
      pos += seq.ids.length;
    });
    expect(Array.from(row.labels)).toEqual(Array.from(expected));
    expect(Array.from(row.segments!)).toEqual(Array.from(segments));
    expect(Array.from(row.inputIds.subarray(0, pos))).toEqual(order.flatMap((s) => s.ids));
    // The position before each example's first token (its prompt) predicts nothing.
    for (const boundary of [7, 14]) expect(row.labels[boundary]).toBe(IGNORE_INDEX);
    expect(packed.targetTokens).toBe(targets(row.labels));
    expect(packed.targetTokens).toBe(sftRows(chars, examples, 32).targetTokens);
  });

  test('lengths and counts: rows of at most seqLen + 1 tokens, first-fit decreasing; truncation and drops counted', () => {
    // Lengths 5, 9, 4, 7 (prompt + answer); rows hold seqLen + 1 = 13 tokens: [9, 4] and [7, 5].
    const examples = [ex('Q:a', 'bc'), ex('Q:abcd', 'efg'), ex('Q:', 'ab'), ex('Q:abc', 'de')];
    const p = packSftRows(chars, examples, 12);
    expect(p.rows.map((r) => Array.from(r.segments!).filter((s) => s > 0).length)).toEqual([12, 12]);
    expect(p.rows.map((r) => Math.max(...r.segments!))).toEqual([2, 2]);
    expect([p.examples, p.truncated, p.dropped]).toEqual([4, 0, 0]);
    expect(p.targetTokens).toBe(2 + 3 + 2 + 2);
    // A 20-token example is cut to 13 and counted; one whose answer starts past the cut is dropped and counted.
    const q = packSftRows(chars, [ex('Q:abcdefgh', 'ijklmnopqr'), ex('Q:abcdefghijklmnop', 'x'), ex('Q:', 'a')], 12);
    expect([q.examples, q.truncated, q.dropped]).toEqual([2, 2, 1]);
    expect(q.rows).toHaveLength(2);
    expect(q.targetTokens).toBe(3 + 1);
  });

  test('a packed batch carries the segments; an unpacked one does not', () => {
    const p = packSftRows(chars, [ex('Q:a', 'b'), ex('Q:c', 'd')], 16);
    const b = sftBatch(p.rows, 16);
    expect(Array.from(b.segments!.subarray(0, 10))).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 0, 0]);
    expect(sftBatch(sftRows(chars, [ex('Q:a', 'b')], 16).rows, 16).segments).toBeUndefined();
  });
});
