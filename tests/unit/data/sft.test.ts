/** Supervised rows: labels are the next token exactly where that token is a completion token, IGNORE_INDEX elsewhere. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chatTemplate, recordSegments } from '../../../src/loram/data/chat-template';
import { sftBatch, sftRow, sftRows, tokenizeSegments } from '../../../src/loram/data/sft';
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
