/** The CLI's run summary says where the results are: the outputs of Recover / Export nodes, as absolute paths. */
import { productLines } from '../../../src/cli/format';
import type { Location, NodeRunSummary } from '../../../src/shared';

const resolve = (loc: Location) => (loc.kind === 'store' ? `/home/store/${loc.artifact}/${loc.path}` : loc.path);
const adapter = (artifact: string): NodeRunSummary => ({
  type: 'Recover',
  status: 'done',
  outputs: { adapter: { type: 'adapter', location: { kind: 'store', artifact, path: 'adapter' }, rank: 8, alpha: 16, targets: ['q_proj'], base: { origin: { id: 'h', name: 'builtin:large' }, transforms: [] }, recovered: true } },
});

describe('productLines', () => {
  test('lists each Recover / Export output with its resolved path, skipping other nodes', () => {
    const lines = productLines(
      {
        load: { type: 'Load', status: 'cached', outputs: { model: { type: 'model', location: { kind: 'external', path: '/models/large' }, lineage: { origin: { id: 'h', name: 'builtin:large' }, transforms: [] }, summary: { layers: 4, hiddenSize: 128, vocabSize: 2048, params: 1 } } } },
        recover: { ...adapter('abc'), status: 'cached' },
        eval: { type: 'Evaluate', status: 'done', metrics: { perplexity: 56.6 } },
      },
      resolve,
    );
    expect(lines).toEqual(['  recover adapter: /home/store/abc/adapter']);
  });

  test('nothing for failed products, and nothing when there are too many to list', () => {
    expect(productLines({ r: { ...adapter('x'), status: 'failed' } }, resolve)).toEqual([]);
    const many = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`r${i}`, adapter(String(i))]));
    expect(productLines(many, resolve)).toEqual([]);
    expect(productLines(many, resolve, 5)).toHaveLength(5);
  });
});
