import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Engine } from '../../../src/engine/engine';
import { registry } from './fixtures/test-registry';
import type { EngineEvent, NodeStartedEvent } from '../../../src/shared';
import { cached, recipe, REGISTRY_MODULE, runCollect, started, tempHome, tempLeftovers, testEngine } from './helpers';

const chain = (add2 = 10) =>
  recipe(
    [
      { id: 'src', type: 'Source', params: { value: 1 } },
      { id: 'a1', type: 'Add', params: { add: 2 } },
      { id: 'a2', type: 'Add', params: { add: add2 } },
      { id: 'slow', type: 'Slow', params: { steps: 3, stepMs: 1 } },
    ],
    [
      ['src', 'out', 'a1', 'a'],
      ['a1', 'out', 'a2', 'a'],
      ['a2', 'out', 'slow', 'in'],
    ],
  );

describe('engine execution', () => {
  let engine: Engine;
  let home: string;
  beforeEach(() => {
    home = tempHome();
    engine = testEngine(home);
  });
  afterEach(async () => {
    await engine.close();
  });

  test('runs in order, emits events in order, and reuses every node on the second run', async () => {
    const first = await runCollect(engine, chain());
    expect(first.end.type).toBe('run-finished');
    expect(first.end.type === 'run-finished' && first.end.ok).toBe(true);
    expect(started(first.events)).toEqual(['src', 'a1', 'a2', 'slow']);
    // run-started first, the end event last; each node: started → progress* → finished.
    const types = first.events.map((e) => e.type);
    expect(types[0]).toBe('run-started');
    expect(types[types.length - 1]).toBe('run-finished');
    for (const id of ['src', 'a1', 'a2', 'slow']) {
      const mine = first.events.filter((e) => 'node' in e && e.node === id).map((e) => e.type);
      expect(mine[0]).toBe('node-started');
      expect(mine[mine.length - 1]).toBe('node-finished');
    }
    const progress = first.events.filter((e) => e.type === 'node-progress');
    expect(progress.map((e) => (e as { step: number }).step)).toEqual([1, 2, 3]);
    expect((progress[0] as { metrics?: Record<string, number> }).metrics?.loss).toBe(1);
    const end = first.end as Extract<EngineEvent, { type: 'run-finished' }>;
    expect(end.nodes.a2!.metrics!.value).toBe(13);
    expect(end.nodes.slow!.status).toBe('done');

    const second = await runCollect(engine, chain());
    expect(started(second.events)).toEqual([]);
    expect(cached(second.events)).toEqual(['src', 'a1', 'a2', 'slow']);
    const end2 = second.end as Extract<EngineEvent, { type: 'run-finished' }>;
    expect(end2.ok).toBe(true);
    expect(end2.nodes.a2!.metrics!.value).toBe(13);
    expect(Object.values(end2.nodes).every((n) => n.status === 'cached')).toBe(true);
  });

  test('changing one param re-runs only that node and its dependents', async () => {
    await runCollect(engine, chain(10));
    const again = await runCollect(engine, chain(20));
    expect(cached(again.events)).toEqual(['src', 'a1']);
    expect(started(again.events)).toEqual(['a2', 'slow']);
    const end = again.end as Extract<EngineEvent, { type: 'run-finished' }>;
    expect(end.nodes.slow!.metrics!.value).toBe(23);
  });

  test('omitting a param equal to its default does not change the signature', async () => {
    await runCollect(engine, recipe([{ id: 's', type: 'Source', params: { value: 1 } }], []));
    const again = await runCollect(engine, recipe([{ id: 's', type: 'Source', params: {} }], []));
    expect(cached(again.events)).toEqual(['s']);
  });

  test('identical upstream chains are computed once, whatever their node ids', async () => {
    const r = recipe(
      [
        { id: 'srcA', type: 'Source', params: { value: 5 } },
        { id: 'srcB', type: 'Source', params: { value: 5 } },
        { id: 'addA', type: 'Add', params: { add: 1 } },
        { id: 'addB', type: 'Add', params: { add: 1 } },
        { id: 'addC', type: 'Add', params: { add: 2 } },
        { id: 'sum', type: 'Sum', label: 'total' },
      ],
      [
        ['srcA', 'out', 'addA', 'a'],
        ['srcB', 'out', 'addB', 'a'],
        ['srcA', 'out', 'addC', 'a'],
        ['addA', 'out', 'sum', 'in'],
        ['addB', 'out', 'sum', 'in'],
        ['addC', 'out', 'sum', 'in'],
      ],
    );
    const { events, end } = await runCollect(engine, r);
    expect(started(events)).toEqual(['srcA', 'addA', 'addC', 'sum']);
    expect(cached(events)).toEqual(['srcB', 'addB']);
    const sigs = events.filter((e): e is NodeStartedEvent => e.type === 'node-started').map((e) => e.signature);
    expect(new Set(sigs).size).toBe(sigs.length);
    const fin = end as Extract<EngineEvent, { type: 'run-finished' }>;
    expect(fin.nodes.sum!.metrics!.value).toBe(6 + 6 + 7);
    expect(fin.nodes.sum!.metrics!.labels).toBe('addA,addB,addC');
  });

  test('noCache recomputes every node, but still only once per identical chain', async () => {
    await runCollect(engine, chain());
    const r = await runCollect(engine, chain(), { noCache: true });
    expect(started(r.events)).toEqual(['src', 'a1', 'a2', 'slow']);
    expect(cached(r.events)).toEqual([]);
  });

  test('independent branches compute at the same time on the worker pool', async () => {
    const e2 = new Engine({ home: tempHome(), registry, registryModule: REGISTRY_MODULE, concurrency: 2 });
    try {
      const r = recipe(
        [
          { id: 'src', type: 'Source', params: { value: 1 } },
          { id: 'slowA', type: 'Slow', params: { steps: 4, stepMs: 150 } },
          { id: 'slowB', type: 'Slow', params: { steps: 5, stepMs: 150 } },
        ],
        [['src', 'out', 'slowA', 'in'], ['src', 'out', 'slowB', 'in']],
      );
      const { events, end } = await runCollect(e2, r);
      expect(end.type === 'run-finished' && end.ok).toBe(true);
      const at = (type: string, node: string) => events.findIndex((e) => e.type === type && (e as { node?: string }).node === node);
      // Both started before either finished: they overlapped.
      expect(Math.max(at('node-started', 'slowA'), at('node-started', 'slowB'))).toBeLessThan(Math.min(at('node-finished', 'slowA'), at('node-finished', 'slowB')));
    } finally {
      await e2.close();
    }
  });

  test('run to a node runs only what it needs', async () => {
    const { events, end } = await runCollect(engine, chain(), { to: 'a1' });
    expect(started(events)).toEqual(['src', 'a1']);
    expect(Object.keys((end as { nodes: object }).nodes).sort()).toEqual(['a1', 'src']);
    const rest = await runCollect(engine, chain());
    expect(cached(rest.events)).toEqual(['src', 'a1']);
  });

  test('a failed node blocks its dependents only, and leaves nothing in the store', async () => {
    const r = recipe(
      [
        { id: 'src', type: 'Source' },
        { id: 'bad', type: 'Fail' },
        { id: 'after', type: 'Add' },
        { id: 'other', type: 'Add', params: { add: 3 } },
      ],
      [
        ['src', 'out', 'bad', 'in'],
        ['bad', 'out', 'after', 'a'],
        ['src', 'out', 'other', 'a'],
      ],
    );
    const { events, end } = await runCollect(engine, r);
    const fin = end as Extract<EngineEvent, { type: 'run-finished' }>;
    expect(fin.ok).toBe(false);
    expect(fin.nodes.bad!.status).toBe('failed');
    expect(fin.nodes.bad!.error!.message).toMatch(/always fails/);
    expect(fin.nodes.after!.status).toBe('skipped');
    expect(fin.nodes.other!.status).toBe('done');
    const failedEv = events.find((e) => e.type === 'node-failed') as { node: string };
    expect(failedEv.node).toBe('bad');
    const sig = events.find((e) => e.type === 'node-started' && e.node === 'bad') as NodeStartedEvent;
    expect(await engine.store.has(sig.signature)).toBe(false);
    expect(existsSync(path.join(home, 'artifacts', sig.signature))).toBe(false);
    expect(tempLeftovers(home)).toEqual([]);
  });

  test('an invalid recipe is refused with its errors', async () => {
    const r = await engine.run(recipe([{ id: 'a', type: 'Add' }], []));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toEqual([expect.objectContaining({ code: 'missing-input', node: 'a', field: 'inputs.a' })]);
    const t = await engine.run(chain(), { to: 'nope' });
    expect(t.ok).toBe(false);
    if (!t.ok) expect(t.errors[0]!.code).toBe('unknown-target');
  });

  test('run to a node ignores errors in parts it does not need', async () => {
    const r = recipe(
      [
        { id: 'src', type: 'Source' },
        { id: 'ok', type: 'Add' },
        { id: 'broken', type: 'Add', params: { add: 'x' } },
      ],
      [['src', 'out', 'ok', 'a']],
    );
    expect((await engine.run(r)).ok).toBe(false);
    const { end } = await runCollect(engine, r, { to: 'ok' });
    expect(end.type === 'run-finished' && end.ok).toBe(true);
  });

  test('run history keeps the recipe, events and metrics', async () => {
    const { runId, events } = await runCollect(engine, chain());
    const runs = await engine.listRuns();
    expect(runs[0]!.runId).toBe(runId);
    expect(runs[0]!.status).toBe('finished');
    expect(runs[0]!.counts.done).toBe(4);
    const rec = await engine.getRun(runId);
    expect(rec!.recipe.nodes.map((n) => n.id)).toEqual(['src', 'a1', 'a2', 'slow']);
    expect(rec!.events.map((e) => e.type)).toEqual(events.map((e) => e.type));
    expect(rec!.nodes.a2!.metrics!.value).toBe(13);
    const dir = path.join(home, 'runs', runId);
    expect(readdirSync(dir).sort()).toEqual(['events.jsonl', 'metrics.json', 'recipe.json', 'run.json']);
    expect(readFileSync(path.join(dir, 'events.jsonl'), 'utf8').trim().split('\n').length).toBe(events.length);
    expect((await engine.readMetrics(runId)).slow!.status).toBe('done');
    const fin = rec!.nodes.a2!.outputs!.out!;
    const content = await engine.readArtifact(fin.location);
    expect(content).toEqual({ kind: 'json', value: { label: '', scalars: { value: 13 } } });
  });

  test('cacheStatus tells which nodes would be reused', async () => {
    await runCollect(engine, chain(10), { to: 'a1' });
    const st = await engine.cacheStatus(chain(10));
    expect(Object.fromEntries(Object.entries(st.nodes).map(([k, v]) => [k, v.cached]))).toEqual({ src: true, a1: true, a2: false, slow: false });
  });
});

describe('cancel', () => {
  test('cancel mid-node stops it, leaves no artifact, and the next run reuses the cached upstream', async () => {
    const home = tempHome();
    const engine = testEngine(home);
    try {
      const r = recipe(
        [
          { id: 'src', type: 'Source', params: { value: 2 } },
          { id: 'add', type: 'Add', params: { add: 1 } },
          { id: 'slow', type: 'Slow', params: { steps: 200, stepMs: 20 } },
        ],
        [
          ['src', 'out', 'add', 'a'],
          ['add', 'out', 'slow', 'in'],
        ],
      );
      let slowSig = '';
      const t0 = Date.now();
      let cancelAt = 0;
      const { end, events } = await runCollect(engine, r, {}, (e, runId) => {
        if (e.type === 'node-started' && e.node === 'slow') slowSig = e.signature;
        if (e.type === 'node-progress' && e.node === 'slow' && e.step === 3) {
          cancelAt = Date.now();
          void engine.cancel(runId);
        }
      });
      expect(end.type).toBe('run-cancelled');
      if (end.type === 'run-cancelled') {
        expect(end.node).toBe('slow');
        expect(end.nodes.slow!.status).toBe('cancelled');
        expect(end.nodes.add!.status).toBe('done');
      }
      // Stopped at the next progress tick: within a step or two, far from the 200 planned.
      const steps = events.filter((e) => e.type === 'node-progress').map((e) => (e as { step: number }).step);
      expect(Math.max(...steps)).toBeLessThanOrEqual(5);
      expect(Date.now() - cancelAt).toBeLessThan(1500);
      expect(Date.now() - t0).toBeLessThan(20000);
      expect(engine.executor.terminations).toBe(0);
      expect(slowSig).not.toBe('');
      expect(await engine.store.has(slowSig)).toBe(false);
      expect(existsSync(path.join(home, 'artifacts', slowSig))).toBe(false);
      expect(tempLeftovers(home)).toEqual([]);
      expect((await engine.listRuns())[0]!.status).toBe('cancelled');

      const fast = structuredClone(r);
      (fast.nodes[2]!.params as Record<string, number>).steps = 2;
      const next = await runCollect(engine, fast);
      expect(cached(next.events)).toEqual(['src', 'add']);
      expect(started(next.events)).toEqual(['slow']);
      expect(next.end.type === 'run-finished' && next.end.ok).toBe(true);
    } finally {
      await engine.close();
    }
  });

  test('a node that never reports progress is stopped by terminating its worker after the grace period', async () => {
    const home = tempHome();
    const engine = testEngine(home, 300);
    try {
      const r = recipe(
        [
          { id: 'src', type: 'Source', params: { value: 7 } },
          { id: 'stuck', type: 'Stuck', params: { ms: 8000 } },
        ],
        [['src', 'out', 'stuck', 'in']],
      );
      let sig = '';
      let cancelAt = 0;
      const { end } = await runCollect(engine, r, {}, (e, runId) => {
        if (e.type === 'node-started' && e.node === 'stuck') {
          sig = e.signature;
          // Give the worker time to enter its busy loop.
          setTimeout(() => {
            cancelAt = Date.now();
            void engine.cancel(runId);
          }, 300);
        }
      });
      const took = Date.now() - cancelAt;
      expect(end.type).toBe('run-cancelled');
      expect(took).toBeLessThan(4000);
      expect(engine.executor.terminations).toBe(1);
      expect(await engine.store.has(sig)).toBe(false);
      expect(tempLeftovers(home)).toEqual([]);

      // A fresh worker serves the next run; the upstream is cached.
      const ok = recipe(
        [
          { id: 'src', type: 'Source', params: { value: 7 } },
          { id: 'add', type: 'Add', params: { add: 1 } },
        ],
        [['src', 'out', 'add', 'a']],
      );
      const next = await runCollect(engine, ok);
      expect(cached(next.events)).toEqual(['src']);
      expect(next.end.type === 'run-finished' && next.end.nodes.add!.metrics!.value).toBe(8);
    } finally {
      await engine.close();
    }
  });
});
