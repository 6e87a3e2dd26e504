/** Where runs compute, as the editor shows it: the "Run on" choices, and which worker computed each node. */
import type { EngineEvent } from '../../../src/shared/index';
import { foldCopies } from '../../../src/renderer/src/editor/branches';
import { emptyRunView, logLines, reduceRun } from '../../../src/renderer/src/editor/run-state';
import { joinWorkers, runPlace, runTargetChoices, showsWorkers, targetOption } from '../../../src/renderer/src/editor/run-target';

const ev = (e: Record<string, unknown>): EngineEvent => ({ runId: 'r1', time: 1, ...e }) as unknown as EngineEvent;
const QUEUE = 'redis://:***@10.0.0.5:6379 · store s3://lab/artifacts';

describe('run target', () => {
  test('"Run on" offers the workers only when the engine has them, by their display (no password)', () => {
    expect(runTargetChoices(null)).toEqual([]);
    expect(runTargetChoices('redis://:***@10.0.0.5:6379')).toEqual([
      { value: 'local', label: 'this machine' },
      { value: 'workers', label: 'workers (redis://:***@10.0.0.5:6379)' },
    ]);
    expect(targetOption('local')).toEqual({});
    expect(targetOption('workers')).toEqual({ target: 'workers' });
  });

  test('a run on workers: where it ran, the worker of each computed node, in the view and the log', () => {
    const run = [
      ev({ type: 'run-started', recipeName: 'x', plan: ['load', 'train'], noCache: false, workers: QUEUE }),
      ev({ type: 'node-cached', node: 'load', nodeType: 'Load', signature: 'sa', outputs: {}, metrics: {} }),
      ev({ type: 'node-started', node: 'train', nodeType: 'LoRA-Train', signature: 'sb' }),
      ev({ type: 'node-finished', node: 'train', nodeType: 'LoRA-Train', signature: 'sb', outputs: {}, metrics: {}, durationMs: 1500, worker: 'gpu-2' }),
    ];
    const view = run.reduce(reduceRun, emptyRunView());
    expect(view.workers).toBe(QUEUE);
    expect(runPlace(view)).toBe(`on workers ${QUEUE}`);
    expect(showsWorkers(view)).toBe(true);
    expect(view.nodes.train!.worker).toBe('gpu-2');
    expect(view.nodes.load!.worker).toBeUndefined();
    expect(logLines(run[0]!)[0]!.message).toBe(`Run r1 started: 2 nodes, on workers ${QUEUE}`);
    expect(logLines(run[3]!)[0]!.message).toBe('train: done in 1.5 s on worker gpu-2');
  });

  test('a run from the history: the workers come from run-finished\'s node summaries too', () => {
    const view = [
      ev({ type: 'run-started', recipeName: 'x', plan: ['a'], noCache: false, workers: QUEUE }),
      ev({ type: 'run-finished', ok: true, durationMs: 3, nodes: { a: { type: 'Load', status: 'done', signature: 's', worker: 'w1' } } }),
    ].reduce(reduceRun, emptyRunView());
    expect(view.nodes.a).toMatchObject({ status: 'done', worker: 'w1' });
  });

  test('a run on this machine says nothing about workers', () => {
    const view = [ev({ type: 'run-started', recipeName: 'x', plan: ['a'], noCache: false }), ev({ type: 'node-finished', node: 'a', nodeType: 'Load', signature: 's', outputs: {}, metrics: {}, durationMs: 5 })].reduce(reduceRun, emptyRunView());
    expect(runPlace(view)).toBeNull();
    expect(showsWorkers(view)).toBe(false);
    expect(logLines(ev({ type: 'node-finished', node: 'a', nodeType: 'Load', signature: 's', outputs: {}, metrics: {}, durationMs: 5 }))[0]!.message).toBe('a: done in 5 ms');
  });

  test("a swept node's card names every worker its branches ran on, once each", () => {
    expect(joinWorkers([{ worker: 'w2' }, {}, { worker: 'w1' }, { worker: 'w2' }])).toBe('w2, w1');
    expect(joinWorkers([{}, {}])).toBeUndefined();
    const folded = foldCopies([
      { status: 'done', series: {}, worker: 'w1' },
      { status: 'done', series: {}, worker: 'w2' },
      { status: 'cached', series: {} },
    ]);
    expect(folded.worker).toBe('w1, w2');
    expect(foldCopies([{ status: 'done', series: {} }, { status: 'cached', series: {} }])).not.toHaveProperty('worker');
  });
});
