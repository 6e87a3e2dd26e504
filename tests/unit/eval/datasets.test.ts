/** Acceptance: malformed dataset lines → errors with file:line, or skipped and counted. */
import os from 'node:os';
import path from 'node:path';
import { promises as fsp } from 'node:fs';
import { loadLmDataset, loadMcDataset, loadPrompts } from '../../../src/loram/eval/datasets';

let tmp: string;
beforeAll(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'loram-eval-data-'));
});
afterAll(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});

async function file(name: string, lines: string[]): Promise<string> {
  const p = path.join(tmp, name);
  await fsp.writeFile(p, lines.join('\n'));
  return p;
}

describe('LM datasets', () => {
  const lines = [
    '{"text": "hello there"}', // 1 ok
    '{"text": "unterminated', // 2 invalid JSON
    '{"txt": "typo"}', // 3 missing field
    '{"text": "   "}', // 4 empty text
    '[1, 2]', // 5 not an object
    '{"text": 5}', // 6 wrong type
    '', // 7 blank: ignored
    '{"text": "world", "source": "extra keys are fine"}\r', // 8 ok (CRLF)
  ];

  test('the first malformed line fails the load with file:line and the reason', async () => {
    const p = await file('lm.jsonl', lines);
    await expect(loadLmDataset(p)).rejects.toThrow(`${p}:2: invalid JSON`);
    await expect(loadLmDataset(await file('lm3.jsonl', [lines[0]!, lines[2]!]))).rejects.toThrow(/lm3\.jsonl:2: missing field "text"/);
    await expect(loadLmDataset(await file('lm4.jsonl', [lines[3]!]))).rejects.toThrow(/lm4\.jsonl:1: field "text" is empty/);
    await expect(loadLmDataset(await file('lm5.jsonl', ['', lines[4]!]))).rejects.toThrow(/lm5\.jsonl:2: expected a JSON object, got an array/);
    await expect(loadLmDataset(await file('lm6.jsonl', [lines[5]!]))).rejects.toThrow(/lm6\.jsonl:1: field "text" must be a string, got number/);
  });

  test('skipInvalid skips and counts them', async () => {
    const d = await loadLmDataset(await file('lm-skip.jsonl', lines), { skipInvalid: true });
    expect(d.documents).toEqual(['hello there', 'world']);
    expect(d.skipped).toBe(5);
    expect(d.invalid.map((i) => i.line)).toEqual([2, 3, 4, 5, 6]);
    expect(d.invalid[2]!.reason).toMatch(/empty/);
    expect(d.format).toBe('jsonl');
  });

  test('a text file is one document; an empty one or an all-invalid JSONL is an error', async () => {
    const d = await loadLmDataset(await file('book.txt', ['Call me Ishmael.', '', 'Some years ago.']));
    expect(d).toMatchObject({ format: 'text', documents: ['Call me Ishmael.\n\nSome years ago.'], skipped: 0 });
    await expect(loadLmDataset(await file('empty.txt', ['  ']))).rejects.toThrow(/empty/);
    await expect(loadLmDataset(await file('bad.jsonl', ['{', '{"t": 1}']), { skipInvalid: true })).rejects.toThrow(/no valid \{"text"\} records \(2 malformed lines skipped\)/);
    await expect(loadLmDataset(path.join(tmp, 'missing.jsonl'))).rejects.toThrow(/cannot read dataset/);
  });
});

describe('multiple-choice datasets', () => {
  const lines = [
    '{"context": "2 + 2 =", "choices": ["3", "4"], "answer": 1, "id": "q1"}', // 1 ok
    '{"question": "Capital of France?", "choices": ["Paris", "Rome", "Oslo"], "answer": 0}', // 2 ok (question)
    '{"context": "x", "choices": ["a", "b", "c"], "answer": 3}', // 3 out of range
    '{"context": "x", "answer": 0}', // 4 missing choices
    '{"choices": ["a", "b"], "answer": 0}', // 5 missing context
    '{"context": "x", "choices": ["a", "b"]}', // 6 missing answer
    '{"context": "x", "choices": ["a", "b"], "answer": -1}', // 7 out of range (negative)
    '{"context": "x", "choices": ["a", "b"], "answer": 0.5}', // 8 not an integer
    '{"context": "x", "choices": ["a"], "answer": 0}', // 9 too few choices
    '{"context": "x", "choices": ["a", ""], "answer": 0}', // 10 empty choice
    'not json', // 11
  ];

  test('each kind of malformed line names the file, the line and the problem', async () => {
    const expected: [number, RegExp][] = [
      [3, /answer index 3 is out of range for 3 choices/],
      [4, /missing field "choices"/],
      [5, /missing field "context" \(or "question"\)/],
      [6, /missing field "answer"/],
      [7, /answer index -1 is out of range for 2 choices/],
      [8, /"answer" must be an integer index, got 0\.5/],
      [9, /needs at least 2 choices/],
      [10, /choices\[1\] is empty/],
      [11, /invalid JSON/],
    ];
    for (const [line, re] of expected) {
      const p = await file(`mc-${line}.jsonl`, [lines[0]!, lines[line - 1]!]);
      const err = await loadMcDataset(p).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message.startsWith(`${p}:2: `)).toBe(true);
      expect((err as Error).message).toMatch(re);
    }
  });

  test('skipInvalid keeps the good items with their line numbers and counts the rest', async () => {
    const d = await loadMcDataset(await file('mc.jsonl', lines), { skipInvalid: true });
    expect(d.items).toEqual([
      { id: 'q1', line: 1, context: '2 + 2 =', choices: ['3', '4'], answer: 1 },
      { id: 'line-2', line: 2, context: 'Capital of France?', choices: ['Paris', 'Rome', 'Oslo'], answer: 0 },
    ]);
    expect(d.skipped).toBe(9);
    expect(d.invalid.map((i) => i.line)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const limited = await loadMcDataset(await file('mc-limit.jsonl', lines), { skipInvalid: true, limit: 1 });
    expect(limited.items).toHaveLength(1);
    await expect(loadMcDataset(await file('mc.txt', ['x']))).rejects.toThrow(/must be JSONL/);
  });

  test('prompts: text lines or JSONL {"prompt"}', async () => {
    expect((await loadPrompts(await file('p.txt', ['Once upon', '', 'a time']))).prompts).toEqual(['Once upon', 'a time']);
    const j = await loadPrompts(await file('p.jsonl', ['{"prompt": "hi"}', '{"prompt": ""}', '{"text": "yo"}']), { skipInvalid: true });
    expect(j).toMatchObject({ prompts: ['hi', 'yo'], skipped: 1 });
  });
});
