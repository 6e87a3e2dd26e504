import { emptyRecipe, type EngineEvent, type Recipe } from '../../../src/shared/index';
import { emptyRunView, formatMetric, logLines, nodeStatuses, reduceRun } from '../../../src/renderer/src/editor/run-state';
import type { EditorSnapshot } from '../../../src/renderer/src/editor/controller';
import { nodeDecorations } from '../../../src/renderer/src/editor/flow';

const t = 1_700_000_000_000;
const ev = (e: Record<string, unknown>): EngineEvent => ({ runId: 'r1', time: t, ...e }) as unknown as EngineEvent;

function fold(events: EngineEvent[]) {
  return events.reduce(reduceRun, emptyRunView());
}

const doc: Recipe = {
  ...emptyRecipe('x'),
  nodes: ['a', 'b', 'c'].map((id) => ({ id, type: 'Load', version: 1, params: {}, position: { x: 0, y: 0 } })),
};

describe('run state', () => {
  test('a running node\'s phase is its latest info log line; the card shows it until the first step', () => {
    const started = [ev({ type: 'run-started', recipeName: 'x', plan: ['b'], noCache: false }), ev({ type: 'node-started', node: 'b', nodeType: 'LoRA-Train', signature: 'sb' })];
    let s = fold([...started, ev({ type: 'node-log', node: 'b', level: 'info', message: 'tokenizing the training text' })]);
    expect(s.nodes.b!.phase).toBe('tokenizing the training text');
    s = reduceRun(s, ev({ type: 'node-log', node: 'b', level: 'warn', message: 'slow disk' }));
    s = reduceRun(s, ev({ type: 'node-log', node: 'b', level: 'info', message: 'compiling the training graph for ONNX Runtime' }));
    expect(s.nodes.b!.phase).toBe('compiling the training graph for ONNX Runtime');
    const snap = (run: typeof s) => ({ doc: { ...doc, nodes: [{ id: 'b', type: 'LoRA-Train', version: 2, params: {}, position: { x: 0, y: 0 } }] }, errors: [], statuses: { b: 'running' }, cardRun: run, historical: false, running: true }) as unknown as EditorSnapshot;
    expect(nodeDecorations(snap(s)).get('b')).toMatchObject({ phase: 'compiling the training graph for ONNX Runtime', progress: null });
    s = reduceRun(s, ev({ type: 'node-progress', node: 'b', step: 1, total: 60, metrics: { loss: 5 } }));
    expect(nodeDecorations(snap(s)).get('b')).toMatchObject({ progress: { step: 1, total: 60 } });
    // A node that is not running has no phase to show (a late log line of a finished node changes nothing).
    s = reduceRun(s, ev({ type: 'node-finished', node: 'b', signature: 'sb', outputs: {}, metrics: {}, durationMs: 5 }));
    expect(reduceRun(s, ev({ type: 'node-log', node: 'b', level: 'info', message: 'late' }))).toBe(s);
  });

  test('events → per-node status, progress, live loss series', () => {
    const s = fold([
      ev({ type: 'run-started', recipeName: 'x', plan: ['a', 'b', 'c'], noCache: false }),
      ev({ type: 'node-cached', node: 'a', nodeType: 'Load', signature: 'sa', outputs: {}, metrics: { params: 10 } }),
      ev({ type: 'node-started', node: 'b', nodeType: 'LoRA-Train', signature: 'sb' }),
      ev({ type: 'node-progress', node: 'b', step: 1, total: 10, metrics: { loss: 3.2 } }),
      ev({ type: 'node-progress', node: 'b', step: 2, total: 10, metrics: { loss: 2.9, lr: 0.001 } }),
      ev({ type: 'node-log', node: 'b', level: 'info', message: 'hi' }),
    ]);
    expect(s.status).toBe('running');
    expect(s.nodes.a).toMatchObject({ status: 'cached', signature: 'sa' });
    expect(s.nodes.b).toMatchObject({ status: 'running', step: 2, total: 10, live: { loss: 2.9, lr: 0.001 } });
    expect(s.nodes.b!.series.loss).toEqual([
      { step: 1, value: 3.2 },
      { step: 2, value: 2.9 },
    ]);
    expect(s.nodes.c!.status).toBe('queued');
    expect(nodeStatuses(doc, s, null)).toEqual({ a: 'cached', b: 'running', c: 'queued' });
  });

  test('run end: statuses from the final map; pending becomes skipped (or cancelled)', () => {
    const base = [ev({ type: 'run-started', recipeName: 'x', plan: ['a', 'b', 'c'], noCache: false }), ev({ type: 'node-started', node: 'a', nodeType: 'Load', signature: 'sa' })];
    const failed = fold([
      ...base,
      ev({ type: 'node-failed', node: 'a', nodeType: 'Load', error: { message: 'boom' }, durationMs: 5 }),
      ev({ type: 'run-finished', ok: false, durationMs: 9, nodes: { a: { type: 'Load', status: 'failed', error: { message: 'boom' } }, b: { type: 'Load', status: 'skipped' }, c: { type: 'Load', status: 'pending' } } }),
    ]);
    expect(failed.status).toBe('failed');
    expect(failed.nodes.a).toMatchObject({ status: 'failed', error: { message: 'boom' } });
    expect(failed.nodes.b!.status).toBe('skipped');
    expect(failed.nodes.c!.status).toBe('skipped');
    const cancelled = fold([...base, ev({ type: 'node-failed', node: 'a', nodeType: 'Load', error: { message: 'cancelled', code: 'cancelled' }, durationMs: 5 }), ev({ type: 'run-cancelled', node: 'a', durationMs: 9, nodes: {} })]);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.nodes.a!.status).toBe('cancelled');
    expect(cancelled.nodes.b!.status).toBe('cancelled');
  });

  test('events of another run are ignored', () => {
    const s = fold([ev({ type: 'run-started', recipeName: 'x', plan: ['a'], noCache: false })]);
    const other = reduceRun(s, { ...ev({ type: 'node-started', node: 'a', nodeType: 'Load', signature: 's' }), runId: 'r2' } as EngineEvent);
    expect(other).toBe(s);
  });

  test('card status after a run: done / cached / stale / idle from the cache signatures', () => {
    const s = fold([
      ev({ type: 'run-started', recipeName: 'x', plan: ['a', 'b'], noCache: false }),
      ev({ type: 'node-finished', node: 'a', nodeType: 'Load', signature: 'sa', outputs: {}, metrics: {}, durationMs: 1 }),
      ev({ type: 'node-finished', node: 'b', nodeType: 'Load', signature: 'sb', outputs: {}, metrics: {}, durationMs: 1 }),
      ev({ type: 'run-finished', ok: true, durationMs: 3, nodes: { a: { type: 'Load', status: 'done', signature: 'sa' }, b: { type: 'Load', status: 'done', signature: 'sb' } } }),
    ]);
    // a unchanged; b's params changed (new signature, not cached); c never ran but its result is in the store
    const cache = { nodes: { a: { signature: 'sa', cached: true }, b: { signature: 'sb2', cached: false }, c: { signature: 'sc', cached: true } } };
    expect(nodeStatuses(doc, s, cache)).toEqual({ a: 'done', b: 'stale', c: 'cached' });
    expect(nodeStatuses(doc, emptyRunView(), { nodes: {} })).toEqual({ a: 'idle', b: 'idle', c: 'idle' });
    // no run this session, but a cached result was seen for an older signature → stale
    const cache2 = { nodes: { a: { signature: 'sa2', cached: false }, b: { signature: 'sb', cached: true }, c: { signature: 'sc', cached: false } } };
    expect(nodeStatuses(doc, emptyRunView(), cache2, { a: 'sa', b: 'sb' })).toEqual({ a: 'stale', b: 'cached', c: 'idle' });
  });

  test('log lines', () => {
    expect(logLines(ev({ type: 'run-started', recipeName: 'x', plan: ['a', 'b'], noCache: false, to: 'b' }), (id) => id.toUpperCase())[0]!.message).toBe('Run r1 started: 2 nodes (up to B)');
    expect(logLines(ev({ type: 'node-failed', node: 'a', nodeType: 'Load', error: { message: 'boom' }, durationMs: 5 }))[0]).toMatchObject({ level: 'error', message: 'a failed: boom' });
    expect(logLines(ev({ type: 'node-progress', node: 'a', step: 1, total: 2 }))).toEqual([]);
    expect(logLines(ev({ type: 'node-finished', node: 'a', nodeType: 'Load', signature: 's', outputs: {}, metrics: { perplexity: 12.345 }, durationMs: 1500 }))[0]!.message).toBe('a: done in 1.5 s (perplexity 12.345)');
  });

  test('metric formatting', () => {
    expect(formatMetric(0.000123)).toBe('1.23e-4');
    expect(formatMetric(2.34567)).toBe('2.346');
    expect(formatMetric(123456)).toBe('123,456');
    expect(formatMetric(null)).toBe('—');
  });
});
