/**
 * Local multiple-choice benchmarks read as lm-evaluation-harness's task definitions read them: ARC's
 * "Question: …\nAnswer:" and label lookup, HellaSwag's preprocessing (its first validation item, and a WikiHow
 * item with brackets), PIQA, named fields with index or letter answers; bad lines name file and line.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hellaswagPreprocess, mcItemFrom, pyCapitalize, readMcBenchmark } from '../../../src/loram/data/mc-benchmarks';

test('ARC: the harness prompt, choices.text, and the answer as the index of answerKey among the labels', () => {
  const rec = { id: 'Mercury_7175875', question: 'An astronomer observes that a planet rotates faster after a meteorite impact. Which is the most likely effect of this increase in rotation?', choices: { text: ['Planetary density will decrease.', 'Planetary years will become longer.', 'Planetary days will become shorter.', 'Planetary gravity will become stronger.'], label: ['A', 'B', 'C', 'D'] }, answerKey: 'C' };
  expect(mcItemFrom('arc', rec, 1)).toEqual({
    id: 'Mercury_7175875',
    line: 1,
    context: 'Question: An astronomer observes that a planet rotates faster after a meteorite impact. Which is the most likely effect of this increase in rotation?\nAnswer:',
    choices: rec.choices.text,
    answer: 2,
  });
  // Some ARC items label their choices 1–4.
  expect(mcItemFrom('arc', { ...rec, choices: { ...rec.choices, label: ['1', '2', '3', '4'] }, answerKey: '4' }, 2).answer).toBe(3);
  expect(() => mcItemFrom('arc', { ...rec, answerKey: 'E' }, 3)).toThrow(/answerKey "E" is not among the labels A, B, C, D/);
});

test('HellaSwag: activity label, ctx_a and a capitalised ctx_b as the query; endings preprocessed; gold = int(label)', () => {
  const rec = {
    ind: 24,
    activity_label: 'Roof shingle removal',
    ctx_a: 'A man is sitting on a roof.',
    ctx_b: 'he',
    endings: ['is using wrap to wrap a pair of skis.', 'is ripping level tiles off.', "is holding a rubik's cube.", 'starts pulling up roofing on a roof.'],
    label: '3',
  };
  expect(mcItemFrom('hellaswag', rec, 1)).toEqual({ id: '24', line: 1, context: 'Roof shingle removal: A man is sitting on a roof. He', choices: rec.endings, answer: 3 });
  // WikiHow items: [header]/[title]/[step] artifacts handled as the harness's preprocess does, quirks included
  // (the expected string is Python's output for the harness's function on this input).
  expect(hellaswagPreprocess(' [header] How to clean a grill [title] Heat the grill.  [step] Scrub it. ')).toBe(' How to clean a grill. Heat the grill.  Scrub it.');
  // Python's capitalize lowers the rest of the string.
  expect(pyCapitalize('tHE Man')).toBe('The man');
});

test('PIQA and named fields (index or letter answers)', () => {
  expect(mcItemFrom('piqa', { goal: 'How do I ready a guinea pig cage for its new occupants?', sol1: 'Provide the guinea pig with a cage full of a few inches of bedding made of ripped paper strips.', sol2: 'Provide the guinea pig with a cage full of a few inches of bedding made of ripped jeans material.', label: 0 }, 5)).toMatchObject({
    context: 'Question: How do I ready a guinea pig cage for its new occupants?\nAnswer:',
    answer: 0,
    id: 'line-5',
  });
  const fields = { context: 'stem', choices: 'options', answer: 'key' };
  expect(mcItemFrom('fields', { stem: 'Two plus two is', options: ['three', 'four'], key: 'B' }, 1, fields)).toMatchObject({ context: 'Two plus two is', choices: ['three', 'four'], answer: 1 });
  expect(mcItemFrom('fields', { stem: 'x', options: ['a', 'b', 'c'], key: 2 }, 1, fields).answer).toBe(2);
  expect(() => mcItemFrom('fields', { stem: 'x', options: ['a', 'b'], key: 'C' }, 1, fields)).toThrow(/field "key" 2 is out of range for 2 choices/);
  expect(() => mcItemFrom('fields', { stem: 'x', options: 'a', key: 0 }, 1, fields)).toThrow(/field "options" must be an array of strings/);
});

test('a broken line is a file:line error, or skipped and counted', async () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'loram-mc-')), 'piqa.jsonl');
  const ok = (i: number) => JSON.stringify({ goal: `goal ${i}`, sol1: 'a', sol2: 'b', label: i % 2 });
  writeFileSync(file, [ok(1), '{"goal": "no solutions"}', ok(2), 'not json'].join('\n'));
  await expect(readMcBenchmark(file, 'piqa', { context: '', choices: '', answer: '' }, false)).rejects.toThrow(`${file}:2: missing field "sol1"`);
  const r = await readMcBenchmark(file, 'piqa', { context: '', choices: '', answer: '' }, true);
  expect(r.items.map((it) => it.context)).toEqual(['Question: goal 1\nAnswer:', 'Question: goal 2\nAnswer:']);
  expect(r.skipped).toBe(2);
  expect(r.invalid.map((x) => x.line)).toEqual([2, 4]);
});
