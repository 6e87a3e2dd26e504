/** The Dataset node's benchmark params: each misuse is refused on the field it concerns, with what it needs. */
import { datasetParams } from '../../../src/nodes/dataset';

const issues = (p: Record<string, unknown>) => {
  const r = datasetParams.safeParse(p);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

test('mcShape needs format multiple-choice and a .jsonl file; field names only with "fields"; continuation settings refused', () => {
  expect(issues({ source: 'file', path: 'arc.jsonl', format: 'multiple-choice', mcShape: 'arc' })).toEqual([]);
  expect(issues({ source: 'file', path: 'x.jsonl', format: 'multiple-choice', mcShape: 'fields', mcContextField: 'stem', mcAnswerField: 'key', skipInvalid: true })).toEqual([]);
  expect(issues({ source: 'file', path: 'arc.jsonl', mcShape: 'arc' })).toContain('mcShape: only used with format "multiple-choice"');
  expect(issues({ source: 'sotu', format: 'multiple-choice', mcShape: 'piqa' })).toContain('mcShape: a benchmark is read from a .jsonl file: source must be "file"');
  expect(issues({ source: 'file', path: 'arc.txt', format: 'multiple-choice', mcShape: 'arc' })).toContain('path: a multiple-choice benchmark must be a .jsonl file');
  expect(issues({ source: 'file', path: 'arc.jsonl', format: 'multiple-choice', mcShape: 'arc', mcContextField: 'q' })).toContain('mcContextField: only used with mcShape "fields"');
  expect(issues({ source: 'file', path: 'arc.jsonl', format: 'multiple-choice', mcShape: 'arc', mcChoices: 4 })).toContain('mcChoices: only used for the true-continuation test, not with a benchmark file (mcShape)');
  expect(issues({ source: 'sotu', mcAnswerField: 'key' })).toContain('mcAnswerField: only used with mcShape "fields"');
});

test('packing: instruction data only (the arithmetic task or an instruction .jsonl)', () => {
  expect(issues({ source: 'arithmetic', packing: true })).toEqual([]);
  expect(issues({ source: 'file', path: 'chat.jsonl', format: 'instruction', packing: true })).toEqual([]);
  expect(issues({ source: 'sotu', packing: true })).toEqual(['packing: only used with format "instruction" (documents are already cut into full sequences)']);
  expect(issues({ source: 'sotu', format: 'multiple-choice', packing: false })).toContain('packing: only used with format "instruction" (documents are already cut into full sequences)');
});
