import type { EngineEvent, MetricsFile } from '../../../src/shared/index';
import { compareView, evaluationRows, locationKey, lossSeries, memoryRows, seriesKeys } from '../../../src/renderer/src/editor/results';
import { emptyRunView, reduceRun } from '../../../src/renderer/src/editor/run-state';

const ev = (e: Record<string, unknown>): EngineEvent => ({ runId: 'r', time: 0, ...e }) as unknown as EngineEvent;
const loc = (artifact: string) => ({ kind: 'store' as const, artifact, path: 'metrics.json' });

function run() {
  return [
    ev({ type: 'run-started', recipeName: 'x', plan: ['train', 'eval1', 'eval2', 'cmp'], noCache: false }),
    ev({ type: 'node-started', node: 'train', nodeType: 'LoRA-Train', signature: 's' }),
    ev({ type: 'node-progress', node: 'train', step: 1, total: 3, metrics: { loss: 4 } }),
    ev({ type: 'node-progress', node: 'train', step: 2, total: 3, metrics: { loss: 3 } }),
    ev({
      type: 'node-finished',
      node: 'train',
      nodeType: 'LoRA-Train',
      signature: 's',
      durationMs: 1,
      outputs: { metrics: { type: 'metrics', location: loc('t'), label: 'train', summary: { finalLoss: 2.5 } } },
      metrics: { peakMemoryBytes: 2 * 2 ** 20, plannedMemoryBytes: 3 * 2 ** 20, finalLoss: 2.5 },
    }),
    ev({ type: 'node-finished', node: 'eval1', nodeType: 'Evaluate', signature: 's1', durationMs: 1, outputs: {}, metrics: { perplexity: 20, accuracy: 0.4 } }),
    ev({ type: 'node-finished', node: 'eval2', nodeType: 'Evaluate', signature: 's2', durationMs: 1, outputs: {}, metrics: { perplexity: 30 } }),
    ev({ type: 'node-finished', node: 'cmp', nodeType: 'Compare', signature: 's3', durationMs: 1, outputs: { metrics: { type: 'metrics', location: loc('c'), label: 'Comparison', summary: { branches: 2 } } }, metrics: { branches: 2 } }),
  ].reduce(reduceRun, emptyRunView());
}

describe('results panel data', () => {
  test('loss: the metrics file curve wins over the live series', () => {
    const r = run();
    expect(lossSeries(null, r, {})).toEqual([{ name: 'train', points: [{ x: 1, y: 4 }, { x: 2, y: 3 }] }]);
    const file: MetricsFile = { label: 'train', scalars: {}, curves: { loss: { x: [0, 10, 20], y: [5, 4, 3.5] } } };
    expect(lossSeries(null, r, { [locationKey(loc('t'))]: file })[0]!.points).toHaveLength(3);
  });

  test('evaluation bars and memory bars (MiB, measured before planned)', () => {
    const r = run();
    const evs = evaluationRows(null, r, {});
    expect(evs.perplexityKeys).toEqual(['perplexity']);
    expect(evs.accuracyKeys).toEqual(['accuracy']);
    expect(evs.rows.map((x) => [x.label, x.perplexity])).toEqual([
      ['eval1', 20],
      ['eval2', 30],
    ]);
    expect(evs.exactMatchKeys).toEqual([]);
    const withTask = reduceRun(r, ev({ type: 'node-finished', node: 'task1', nodeType: 'Evaluate', signature: 's4', durationMs: 1, outputs: {}, metrics: { answerPerplexity: 1.2, exactMatch: 0.8, exactMatchStderr: 0.05 } }));
    const et = evaluationRows(null, withTask, {});
    expect(et.exactMatchKeys).toEqual(['exactMatch']);
    expect(et.rows.find((x) => x.node === 'task1')).toMatchObject({ exactMatch: 0.8 });
    const mem = memoryRows(null, r, {});
    expect(mem.keys).toEqual(['measured', 'planned']);
    expect(mem.rows[0]).toMatchObject({ label: 'train', measured: 2, planned: 3 });
    // Recorded without the runtime each figure is for: labelled, not compared.
    expect(mem.notes).toEqual([{ node: 'train', label: 'train', kind: 'incomparable', text: expect.stringMatching(/^not comparable/) }]);
    expect(mem.includes.train!.measured).toMatch(/older run/);
  });

  const trainRun = (metrics: Record<string, number | string | null>) =>
    [
      ev({ type: 'run-started', recipeName: 'x', plan: ['train'], noCache: false }),
      ev({ type: 'node-finished', node: 'train', nodeType: 'LoRA-Train', signature: 's', durationMs: 1, outputs: {}, metrics }),
    ].reduce(reduceRun, emptyRunView());
  const MiB = 2 ** 20;
  const ort = { measuredMemoryRuntime: 'onnxruntime-cpu', plannedMemoryRuntime: 'onnxruntime-cpu' };

  test.each([
    [100, 109, null],
    [100, 91, null],
    [100, 111, '+11%'],
    [100, 80, '-20%'],
  ])('memory: measured %p MiB, planned %p MiB for the same runtime → warning %p', (measured, planned, warn) => {
    const mem = memoryRows(null, trainRun({ trainMemoryBytes: measured * MiB, plannedMemoryBytes: planned * MiB, ...ort }), {});
    expect(mem.rows[0]).toMatchObject({ measured, planned });
    if (warn === null) expect(mem.notes).toEqual([]);
    else expect(mem.notes).toEqual([{ node: 'train', label: 'train', kind: 'gap', text: `planned ${planned.toFixed(1)} MiB vs measured ${measured.toFixed(1)} MiB: ${warn}, more than 10% apart` }]);
    // The tooltip says what each figure includes.
    expect(mem.includes.train!.planned).toMatch(/weights in their stored precision.*LoRA.*AdamW.*runtime/);
    expect(mem.includes.train!.measured).toMatch(/fresh process.*peak resident size/);
  });

  test('memory: a tfjs measurement next to the ORT plan is labelled as another runtime, never warned as a gap', () => {
    const mem = memoryRows(null, trainRun({ trainMemoryBytes: 10 * MiB, plannedMemoryBytes: 80 * MiB, measuredMemoryRuntime: 'tfjs', plannedMemoryRuntime: 'onnxruntime-cpu', memoryGapPct: null }), {});
    expect(mem.notes).toEqual([{ node: 'train', label: 'train', kind: 'incomparable', text: 'not comparable: planned for ONNX Runtime (CPU), measured on TensorFlow.js' }]);
    expect(mem.includes.train!.measured).toMatch(/tensor bytes/);
  });

  test('compare view: table, best per column, overlaid curves', () => {
    const file: MetricsFile = {
      label: 'Pruning strategies',
      scalars: { branches: 2 },
      table: {
        columns: ['perplexity', 'accuracy'],
        rows: [
          { label: 'Stru', values: { perplexity: 20, accuracy: 0.5 }, curves: { loss: { x: [1, 2], y: [3, 2] } } },
          { label: 'Rand', values: { perplexity: 25, accuracy: 0.6 }, curves: { loss: { x: [1, 2], y: [3.5, 2.8] } } },
        ],
      },
    };
    const v = compareView(file)!;
    expect(v.best).toEqual({ perplexity: 'Stru', accuracy: 'Rand' });
    expect(v.curves.loss!.map((s) => s.name)).toEqual(['Stru', 'Rand']);
    expect(v.curves.loss!.map((s) => s.points)).toEqual([
      [{ x: 1, y: 3 }, { x: 2, y: 2 }],
      [{ x: 1, y: 3.5 }, { x: 2, y: 2.8 }],
    ]);
    // One legend entry per line, even when two branches share a name.
    expect(seriesKeys([...v.curves.loss!, v.curves.loss![0]!])).toEqual(['Stru', 'Rand', 'Stru (2)']);
    expect(compareView({ label: 'x', scalars: {} })).toBeNull();
    // Counts are not ranked: no "best" token count.
    const counts = compareView({ ...file, table: { columns: ['perplexity', 'tokens'], rows: file.table!.rows.map((r, i) => ({ ...r, values: { perplexity: 20 + i, tokens: 100 * (i + 1) } })) } })!;
    expect(counts.best).toEqual({ perplexity: 'Stru' });
    // Exact match: higher is better; standard errors are not ranked.
    const em = compareView({ ...file, table: { columns: ['exactMatch', 'exactMatchStderr'], rows: file.table!.rows.map((r, i) => ({ ...r, values: { exactMatch: 0.5 + i / 10, exactMatchStderr: 0.05 - i / 100 } })) } })!;
    expect(em.best).toEqual({ exactMatch: 'Rand' });
  });
});
