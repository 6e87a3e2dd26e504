/**
 * The built-in instruction task: single-digit addition asked in a few phrasings, answered with the sum in digits
 * ("What is 3 plus 4?" → "7"). Every (a, b, phrasing) is one item, so the set is small, offline and checkable by
 * exact match; which items are train / val / test is decided by the Dataset's seeded split.
 */
import type { InstructRecord } from './instruct-records';

export const ARITHMETIC_PHRASINGS: readonly ((a: number, b: number) => string)[] = [
  (a, b) => `What is ${a} plus ${b}?`,
  (a, b) => `Add ${a} and ${b}.`,
  (a, b) => `${a} + ${b} = ?`,
];

/** All items in a fixed order (a, b, phrasing); ids "add-a-b-k". */
export function arithmeticTask(): InstructRecord[] {
  const out: InstructRecord[] = [];
  for (let a = 0; a <= 9; a++)
    for (let b = 0; b <= 9; b++)
      ARITHMETIC_PHRASINGS.forEach((q, k) => {
        out.push({ id: `add-${a}-${b}-${k}`, kind: 'chat', messages: [{ role: 'user', content: q(a, b) }, { role: 'assistant', content: String(a + b) }] });
      });
  return out;
}
