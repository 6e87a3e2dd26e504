import { describeStore, formatBytes } from '../../../src/renderer/src/editor/store-summary';

test('bytes in binary units; the store described with what a clean-up would remove and the limits', () => {
  expect([formatBytes(512), formatBytes(2048), formatBytes(3.5 * 2 ** 20), formatBytes(12 * 2 ** 30)]).toEqual(['512 B', '2.0 KiB', '3.5 MiB', '12 GiB']);
  const s = { dir: '/h/artifacts', bytes: 3 * 2 ** 20, artifacts: 4, unusedArtifacts: 1, unusedBytes: 2 ** 20, damaged: { count: 2, bytes: 2048, dir: '/h/damaged' }, capBytes: 2 ** 30, keepRuns: 5 };
  expect(describeStore(s)).toEqual({
    size: '3.0 MiB in 4 artifacts',
    unused: '1 used by no run in the history (1.0 MiB)',
    limits: 'cap 1.0 GiB; the 5 newest runs are always kept',
    damaged: '2 damaged artifacts kept for inspection in /h/damaged (2.0 KiB)',
  });
  expect(describeStore({ ...s, artifacts: 1, unusedArtifacts: 0, damaged: { ...s.damaged, count: 0 }, capBytes: null })).toMatchObject({ size: '3.0 MiB in 1 artifact', unused: 'every artifact belongs to a run in the history', damaged: null });
});
