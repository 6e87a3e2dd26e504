/** LoRA dropout masks: a function of (seed, module) alone, with the asked drop rate, independent across modules. */
import { dropoutKeepMask, dropoutScaleMask } from '../../../src/loram/lora/dropout';

test('the same seed and module give the same mask; another seed or module another one', () => {
  const a = dropoutKeepMask(7, 'model.layers.0.self_attn.q_proj', 4096, 0.1);
  expect(dropoutKeepMask(7, 'model.layers.0.self_attn.q_proj', 4096, 0.1)).toEqual(a);
  const diff = (b: Uint8Array) => b.reduce((n, v, i) => n + (v !== a[i] ? 1 : 0), 0);
  expect(diff(dropoutKeepMask(8, 'model.layers.0.self_attn.q_proj', 4096, 0.1))).toBeGreaterThan(400);
  expect(diff(dropoutKeepMask(7, 'model.layers.0.self_attn.k_proj', 4096, 0.1))).toBeGreaterThan(400);
});

test.each([0, 0.05, 0.3, 0.9])('drop rate %p holds over a million draws; the scale mask is keep / (1 − p)', (rate) => {
  const n = 1_000_001;
  const keep = dropoutKeepMask(3, 'lm_head', n, rate);
  const dropped = n - keep.reduce((s, v) => s + v, 0);
  expect(Math.abs(dropped / n - rate)).toBeLessThan(0.002);
  const scale = dropoutScaleMask(3, 'lm_head', 10, rate);
  const k = dropoutKeepMask(3, 'lm_head', 10, rate);
  scale.forEach((v, i) => expect(v).toBeCloseTo(k[i]! / (1 - rate), 6));
});

test('a rate outside [0, 1) is refused', () => {
  expect(() => dropoutKeepMask(0, 'x', 4, 1)).toThrow(/dropout rate must be in \[0, 1\), got 1/);
});

test('a mask drawn into a reused buffer is the fresh mask, in that buffer; a buffer of the wrong size is refused', () => {
  const buf = new Uint8Array(1001).fill(7);
  const drawn = dropoutKeepMask(5, 'model.layers.1.mlp.up_proj', 1001, 0.2, buf);
  expect(drawn).toBe(buf);
  expect(drawn).toEqual(dropoutKeepMask(5, 'model.layers.1.mlp.up_proj', 1001, 0.2));
  expect(dropoutKeepMask(6, 'model.layers.1.mlp.up_proj', 1001, 0.2, buf)).toEqual(dropoutKeepMask(6, 'model.layers.1.mlp.up_proj', 1001, 0.2));
  expect(() => dropoutKeepMask(5, 'x', 1000, 0.2, buf)).toThrow(/1001 elements, expected 1000/);
});
