/** Exact match as lm-evaluation-harness scores generate_until tasks: GSM8K-shaped answers, presets, stderr, few-shot draws. */
import { ANSWER_PRESETS, answerRegex, exactMatchSummary, extractAnswer, fewShotIndices, scoreItem } from '../../../src/loram/eval/exact-match';

const gsm8k = answerRegex(ANSWER_PRESETS.gsm8k);

describe('GSM8K-shaped lines', () => {
  const gold = 'Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips altogether.\n#### 72';
  test('the gold answer is the number after "####"', () => {
    expect(extractAnswer(gold, gsm8k)).toBe('72');
    expect(extractAnswer('so #### 1,234.', gsm8k)).toBe('1234');
    expect(extractAnswer('#### -5', gsm8k)).toBe('-5');
  });
  test('a generation without "####" has no answer (strict match), one with it is compared after normalization', () => {
    expect(scoreItem('a', 'q', 'She sold 72 clips.', gold, gsm8k)).toMatchObject({ extracted: null, gold: '72', correct: false });
    expect(scoreItem('b', 'q', 'She sold 48+24 = 72.\n#### 72\n\nQuestion: next', gold, gsm8k)).toMatchObject({ extracted: '72', correct: true });
    expect(scoreItem('c', 'q', '#### 71', gold, gsm8k).correct).toBe(false);
  });
  test('first-number and none presets', () => {
    const first = answerRegex(ANSWER_PRESETS['first-number']);
    expect(scoreItem('d', 'q', ' 12<eos>\nQuestion: 3', '12', first).correct).toBe(true);
    expect(scoreItem('e', 'q', ' ag', '12', first)).toMatchObject({ extracted: null, correct: false });
    expect(scoreItem('f', 'q', '  Paris. ', 'Paris', answerRegex(ANSWER_PRESETS.none)).correct).toBe(true);
    expect(() => answerRegex('(')).toThrow(/does not compile/);
  });
});

test('exact match and its standard error (sample sd / √n, as the harness)', () => {
  const items = [true, true, false, false].map((c, i) => ({ id: `${i}`, prompt: '', generated: '', extracted: null, gold: '', correct: c }));
  const s = exactMatchSummary(items);
  expect(s.exactMatch).toBe(0.5);
  expect(s.stderr).toBeCloseTo(Math.sqrt(((4 * 0.25) / 3) / 4), 12);
  expect(s.n).toBe(4);
});

test('few-shot indices: distinct within an item, reproducible by seed, checked against the pool', () => {
  const a = fewShotIndices(5, 10, 3, 7);
  expect(a).toEqual(fewShotIndices(5, 10, 3, 7));
  expect(a).not.toEqual(fewShotIndices(5, 10, 3, 8));
  for (const s of a) expect(new Set(s).size).toBe(3);
  expect(fewShotIndices(2, 0, 0, 1)).toEqual([[], []]);
  expect(() => fewShotIndices(2, 2, 3, 1)).toThrow(/at least 3 examples/);
});
