import type { EngineEvent, Recipe } from '../../../src/shared/index';
import { emptyRecipe } from '../../../src/shared/index';
import { EditorController } from '../../../src/renderer/src/editor/controller';
import { FakeEngine } from '../server/fake-engine';
import { FakeHost } from './fake-host';

const tick = () => new Promise((r) => setTimeout(r, 0));

async function setup(opts: { initial?: Recipe } = {}) {
  const engine = new FakeEngine();
  const host = new FakeHost();
  if (opts.initial) {
    engine.files.set('/work/recipes/q.json', opts.initial);
    host.initialFile = '/work/recipes/q.json';
  }
  const c = new EditorController(engine, host, { validateDelayMs: 0, autosaveDelayMs: 0 });
  await c.init();
  await tick();
  return { engine, host, c };
}

describe('EditorController', () => {
  test('starts with the catalogue and an empty, clean document', async () => {
    const { c } = await setup();
    const s = c.getSnapshot();
    expect(s.phase).toBe('ready');
    expect(s.specs.length).toBeGreaterThan(5);
    expect(s.doc.nodes).toEqual([]);
    expect(s.dirty).toBe(false);
  });

  test('undo/redo of add, connect, delete and a parameter edit — one step each', async () => {
    const { c } = await setup();
    const load = c.addNode('Load', { x: 0, y: 0 })!;
    const prune = c.addNode('Prune', { x: 300, y: 0 })!;
    expect(c.connect({ from: { node: load, port: 'model' }, to: { node: prune, port: 'model' } }).ok).toBe(true);
    // typing "0.25" in the ratio field: four commits, one step
    for (const v of [0, 0, 0.2, 0.25]) c.setParam(prune, 'ratio', v);
    c.seal();
    c.deleteElements([load]);
    let s = c.getSnapshot();
    expect(s.doc.nodes.map((n) => n.id)).toEqual([prune]);
    expect(s.doc.edges).toEqual([]);

    c.undo(); // delete
    s = c.getSnapshot();
    expect(s.doc.nodes).toHaveLength(2);
    expect(s.doc.edges).toHaveLength(1);
    c.undo(); // param edit
    expect(c.doc.nodes[1]!.params.ratio).toBe(0.5);
    c.undo(); // connect
    expect(c.doc.edges).toHaveLength(0);
    c.undo(); // add prune
    c.undo(); // add load
    expect(c.doc.nodes).toHaveLength(0);
    expect(c.getSnapshot().canUndo).toBe(false);
    for (let i = 0; i < 5; i++) c.redo();
    expect(c.doc.nodes.map((n) => n.id)).toEqual([prune]);
    expect(c.doc.nodes[0]!.params.ratio).toBe(0.25);
  });

  test('a drag is one step (positions committed once when it ends)', async () => {
    const { c } = await setup();
    const a = c.addNode('Load', { x: 0, y: 0 })!;
    const b = c.addNode('Dataset', { x: 0, y: 200 })!;
    c.moveNodes({ [a]: { x: 100, y: 50 }, [b]: { x: 100, y: 250 } });
    expect(c.getSnapshot().undoLabel).toBe('Move 2 nodes');
    c.undo();
    expect(c.doc.nodes.map((n) => n.position)).toEqual([
      { x: 0, y: 0 },
      { x: 0, y: 200 },
    ]);
  });

  test('a refused connection changes nothing and says why', async () => {
    const { c } = await setup();
    const d = c.addNode('Dataset', { x: 0, y: 0 })!;
    const p = c.addNode('Prune', { x: 300, y: 0 })!;
    const before = c.doc;
    const r = c.connect({ from: { node: d, port: 'dataset' }, to: { node: p, port: 'model' } });
    expect(r.ok).toBe(false);
    expect(c.doc).toBe(before);
    const n = c.getSnapshot().notice!;
    expect(n.kind).toBe('refused');
    expect(n.text).toMatch(/a dataset output cannot feed a model input/);
  });

  test('paste of a branch is one step and selects fresh ids', async () => {
    const { c } = await setup();
    const a = c.addNode('Load', { x: 0, y: 0 })!;
    const b = c.addNode('Prune', { x: 300, y: 0 })!;
    c.connect({ from: { node: a, port: 'model' }, to: { node: b, port: 'model' } });
    c.copy([a, b]);
    const r = c.paste()!;
    expect(r.nodeIds).toEqual(['load2', 'prune2']);
    expect(c.doc.edges).toHaveLength(2);
    c.undo();
    expect(c.doc.nodes).toHaveLength(2);
    expect(c.doc.edges).toHaveLength(1);
  });

  test('validation errors are pinned to nodes before running; run refuses an invalid recipe', async () => {
    const { c, engine } = await setup();
    engine.validationErrors = [{ code: 'missing-input', node: 'prune1', field: 'inputs.model', message: 'connect a model' }];
    c.addNode('Prune', { x: 0, y: 0 });
    await c.check();
    expect(c.getSnapshot().errors).toEqual(engine.validationErrors);
    engine.runAnswer = { ok: false, errors: engine.validationErrors };
    expect(await c.run()).toBe(false);
    expect(c.getSnapshot().running).toBe(false);
    expect(c.getSnapshot().notice!.text).toMatch(/Not run: 1 problem/);
    // The UI opens the Problems tab on this subject, not on the wording.
    expect(c.getSnapshot().notice!.about).toBe('run-refused');
  });

  test('run, run to here, events → statuses and log; cancel', async () => {
    const { c, engine } = await setup();
    const a = c.addNode('Load', { x: 0, y: 0 })!;
    c.addNode('Prune', { x: 300, y: 0 });
    engine.runAnswer = { ok: true, runId: 'r9' };
    const started = c.run(a);
    const ev = (e: Record<string, unknown>) => engine.emit({ runId: 'r9', time: 1, ...e } as unknown as EngineEvent);
    ev({ type: 'run-started', recipeName: 'untitled', plan: [a], noCache: false, to: a });
    expect(await started).toBe(true);
    expect(engine.callsOf('run')[0]!.args[1]).toEqual({ to: a, baseDir: '/work/recipes' });
    ev({ type: 'node-started', node: a, nodeType: 'Load', signature: 's' });
    ev({ type: 'node-progress', node: a, step: 1, total: 4, metrics: { loss: 2 } });
    // Progress is shown at the next flush (many a second while training, one render per flush)…
    expect(c.getSnapshot().run.nodes[a]!.series.loss).toBeUndefined();
    await new Promise((r) => setTimeout(r, 120));
    let s = c.getSnapshot();
    expect(s.running).toBe(true);
    expect(s.statuses[a]).toBe('running');
    expect(s.run.nodes[a]!.series.loss).toEqual([{ step: 1, value: 2 }]);
    await c.cancel();
    expect(engine.callsOf('cancel')[0]!.args).toEqual(['r9']);
    ev({ type: 'node-failed', node: a, nodeType: 'Load', error: { message: 'cancelled', code: 'cancelled' }, durationMs: 3 });
    ev({ type: 'run-cancelled', node: a, durationMs: 4, nodes: { [a]: { type: 'Load', status: 'cancelled' } } });
    s = c.getSnapshot();
    expect(s.running).toBe(false);
    expect(s.run.status).toBe('cancelled');
    expect(s.log.map((l) => l.message)).toEqual([`Run r9 started: 1 node (up to ${a})`, `${a}: started`, `${a}: cancelled`, 'Run r9 cancelled after 4 ms (while running load1)']);
    // events of runs this editor did not start are ignored
    engine.emit({ runId: 'other', time: 1, type: 'run-started', recipeName: 'x', plan: [], noCache: false });
    expect(c.getSnapshot().run.runId).toBe('r9');
  });

  test('Run on: no choice without workers; with them, the choice is passed as the run\'s target', async () => {
    const local = await setup();
    local.c.addNode('Load', { x: 0, y: 0 });
    expect(local.c.getSnapshot().workers).toBeNull();
    local.c.setRunTarget('workers'); // the engine has none: ignored
    expect(local.c.getSnapshot().runTarget).toBe('local');
    await local.c.run();
    expect(local.engine.callsOf('run')[0]!.args[1]).not.toHaveProperty('target');

    const engine = new FakeEngine();
    engine.targets = { workers: 'redis://:***@queue.lab:6379' };
    const c = new EditorController(engine, new FakeHost(), { validateDelayMs: 0, autosaveDelayMs: 0 });
    await c.init();
    c.addNode('Load', { x: 0, y: 0 });
    expect(c.getSnapshot()).toMatchObject({ workers: 'redis://:***@queue.lab:6379', runTarget: 'local' });
    c.setRunTarget('workers');
    engine.runAnswer = { ok: true, runId: 'w1' };
    await c.run();
    expect(engine.callsOf('run')[0]!.args[1]).toMatchObject({ target: 'workers' });
    // The choice stays for the next run…
    engine.emit({ runId: 'w1', time: 2, type: 'run-finished', ok: true, durationMs: 1, nodes: {} });
    engine.runAnswer = { ok: true, runId: 'w2' };
    await c.run();
    expect(engine.callsOf('run')[1]!.args[1]).toMatchObject({ target: 'workers' });
    // …until the server comes back without workers: Run computes here again.
    engine.targets = { workers: null };
    c.setServerConnected(false);
    c.setServerConnected(true);
    await tick();
    expect(c.getSnapshot()).toMatchObject({ workers: null, runTarget: 'local' });
  });

  test('workers that cannot be reached: said in a notice, nothing pinned on the nodes', async () => {
    const { c, engine } = await setup();
    c.addNode('Load', { x: 0, y: 0 });
    await c.check();
    engine.runAnswer = { ok: false, errors: [{ code: 'workers-unavailable', node: null, field: 'target', message: 'cannot reach the queue at redis://q:6379' }] };
    expect(await c.run()).toBe(false);
    expect(c.getSnapshot()).toMatchObject({ running: false, errors: [] });
    expect(c.getSnapshot().notice).toMatchObject({ kind: 'error', text: 'Not run: the workers cannot be reached (cannot reach the queue at redis://q:6379)' });
  });

  test('cache markers: cached from the store, stale once the parameters change', async () => {
    const { c, engine } = await setup();
    const a = c.addNode('Load', { x: 0, y: 0 })!;
    engine.cache = { nodes: { [a]: { signature: 's1', cached: true } } };
    await c.check();
    expect(c.getSnapshot().statuses[a]).toBe('cached');
    c.setParam(a, 'source', 'builtin:small');
    engine.cache = { nodes: { [a]: { signature: 's2', cached: false } } };
    await c.check();
    expect(c.getSnapshot().statuses[a]).toBe('stale');
    c.undo();
    engine.cache = { nodes: { [a]: { signature: 's1', cached: true } } };
    await c.check();
    expect(c.getSnapshot().statuses[a]).toBe('cached');
  });

  test('metrics files of finished nodes are fetched for the plots', async () => {
    const { c, engine } = await setup();
    engine.artifacts.set('sig/comparison.json', { kind: 'json', value: { label: 'C', scalars: {}, table: { columns: [], rows: [] } } });
    engine.runAnswer = { ok: true, runId: 'r1' };
    const p = c.run();
    engine.emit({ runId: 'r1', time: 1, type: 'run-started', recipeName: 'x', plan: ['cmp'], noCache: false });
    await p;
    engine.emit({
      runId: 'r1',
      time: 2,
      type: 'node-finished',
      node: 'cmp',
      nodeType: 'Compare',
      signature: 'sig',
      durationMs: 1,
      metrics: {},
      outputs: { metrics: { type: 'metrics', location: { kind: 'store', artifact: 'sig', path: 'comparison.json' }, label: 'C', summary: {} } },
    });
    await tick();
    expect(c.getSnapshot().files['store:sig/comparison.json']).toMatchObject({ label: 'C' });
  });

  test('save / open / dirty marker in the title / recent files', async () => {
    const { c, engine, host } = await setup();
    c.addNode('Load', { x: 0, y: 0 });
    await tick();
    expect(c.getSnapshot().dirty).toBe(true);
    expect(host.dirty).toBe(true);
    expect(await c.save()).toBe(false); // no file yet: the UI asks for one
    expect(await c.saveAs('/work/recipes/mine.json')).toBe(true);
    expect(c.getSnapshot().dirty).toBe(false);
    expect(host.title).toBe('mine.json — LoRAM Studio');
    expect(host.dirty).toBe(false);
    expect(engine.files.get('/work/recipes/mine.json')!.nodes).toHaveLength(1);
    await tick();
    expect(host.recent).toEqual(['/work/recipes/mine.json']);
    // undo back to the saved state is clean again
    c.setParam('load1', 'source', 'builtin:small');
    expect(c.getSnapshot().dirty).toBe(true);
    c.undo();
    expect(c.getSnapshot().dirty).toBe(false);
    c.newDocument();
    expect(c.doc.nodes).toHaveLength(0);
    expect(await c.open('/work/recipes/mine.json')).toBe(true);
    expect(c.doc.nodes[0]!.type).toBe('Load');
    expect(c.getSnapshot().canUndo).toBe(false);
    expect(await c.open('/nope.json')).toBe(false);
    expect(c.getSnapshot().notice!.kind).toBe('error');
  });

  test('opens the initial file; autosave writes and clears the recovery file; recovered work is offered', async () => {
    const initial: Recipe = { ...emptyRecipe('q'), nodes: [{ id: 'load', type: 'Load', version: 1, params: {}, position: { x: 0, y: 0 } }] };
    const { c, host } = await setup({ initial });
    expect(c.getSnapshot().filePath).toBe('/work/recipes/q.json');
    expect(c.doc.nodes[0]!.id).toBe('load');
    c.setParam('load', 'source', 'builtin:small');
    await c.autosave();
    expect(host.recovery).toMatchObject({ path: '/work/recipes/q.json', recipe: { nodes: [{ params: { source: 'builtin:small' } }] } });
    c.undo();
    await c.autosave();
    expect(host.recovery).toBeNull();

    // a new session finds unsaved work
    const engine2 = new FakeEngine();
    const host2 = new FakeHost();
    host2.recovery = { savedAt: 5, path: null, recipe: initial };
    const c2 = new EditorController(engine2, host2, { validateDelayMs: 0, autosaveDelayMs: 0 });
    await c2.init();
    expect(c2.getSnapshot().recovery).not.toBeNull();
    c2.restoreRecovery();
    expect(c2.doc.nodes[0]!.id).toBe('load');
    expect(c2.getSnapshot().dirty).toBe(true);
  });
});

describe('EditorController: newcomer findings', () => {
  test('Open and New do not keep the previous recipe\'s run in Results', async () => {
    const { c, engine } = await setup();
    const a = c.addNode('Load', { x: 0, y: 0 })!;
    engine.runAnswer = { ok: true, runId: 'r1' };
    const started = c.run();
    const ev = (e: Record<string, unknown>) => engine.emit({ runId: 'r1', time: 1, ...e } as unknown as EngineEvent);
    ev({ type: 'run-started', recipeName: 'untitled', plan: [a], noCache: false });
    await started;
    ev({ type: 'node-finished', node: a, nodeType: 'Load', signature: 's', outputs: {}, metrics: { params: 1 }, durationMs: 1 });
    ev({ type: 'run-finished', ok: true, durationMs: 2, nodes: { [a]: { type: 'Load', status: 'done' } } });
    expect(c.getSnapshot().run.runId).toBe('r1');
    c.newDocument();
    expect(c.getSnapshot().run.runId).toBeNull();
    expect(c.getSnapshot().statuses).toEqual({});
    engine.files.set('/work/recipes/other.json', { ...emptyRecipe('other'), nodes: [{ id: a, type: 'Load', version: 1, params: {}, position: { x: 0, y: 0 } }] });
    expect(await c.open('/work/recipes/other.json')).toBe(true);
    expect(c.getSnapshot().run.runId).toBeNull();
    expect(c.getSnapshot().statuses[a]).not.toBe('done');
  });

  test('Save as names an untitled recipe after its file (a named one keeps its name)', async () => {
    const { c } = await setup();
    c.addNode('Load', { x: 0, y: 0 });
    expect(await c.saveAs('/work/recipes/my-sweep.json')).toBe(true);
    expect(c.doc.name).toBe('my-sweep');
    expect(c.getSnapshot().dirty).toBe(false);
    expect(await c.saveAs('/work/recipes/copy.json')).toBe(true);
    expect(c.doc.name).toBe('my-sweep');
  });

  test('server gone: the snapshot says so, and whether the unsaved work is in the recovery file or only in the page', async () => {
    const { c, host } = await setup();
    c.addNode('Load', { x: 0, y: 0 });
    await c.autosave();
    expect(c.getSnapshot().keptInRecovery).toBe(c.doc);
    c.setServerConnected(false);
    expect(c.getSnapshot().serverDown).toBe(true);
    // An edit while the server is away cannot be written: the page holds the only copy.
    host.writeRecovery = async () => {
      throw new Error('the LoRAM Studio server is not reachable');
    };
    c.addNode('Prune', { x: 300, y: 0 });
    await c.autosave();
    expect(c.getSnapshot().keptInRecovery).not.toBe(c.doc);
    // Back: written at once.
    host.writeRecovery = async (d) => void (host.recovery = structuredClone(d));
    c.setServerConnected(true);
    await new Promise((r) => setTimeout(r, 0));
    expect(c.getSnapshot().serverDown).toBe(false);
    expect(c.getSnapshot().keptInRecovery).toBe(c.doc);
    expect(host.recovery!.recipe.nodes).toHaveLength(2);
  });

  test('a burst of progress events is one render; any other event shows everything at once', async () => {
    const { c, engine } = await setup();
    const a = c.addNode('Load', { x: 0, y: 0 })!;
    engine.runAnswer = { ok: true, runId: 'r7' };
    const started = c.run();
    const ev = (e: Record<string, unknown>) => engine.emit({ runId: 'r7', time: 1, ...e } as unknown as EngineEvent);
    ev({ type: 'run-started', recipeName: 'untitled', plan: [a], noCache: false });
    await started;
    ev({ type: 'node-started', node: a, nodeType: 'Load', signature: 's' });
    await new Promise((r) => setTimeout(r, 20)); // the edit's validation and autosave settle first
    let renders = 0;
    const off = c.subscribe(() => renders++);
    for (let step = 1; step <= 50; step++) ev({ type: 'node-progress', node: a, step, total: 50, metrics: { loss: 5 - step / 20 } });
    ev({ type: 'node-log', node: a, level: 'info', message: 'half way' });
    expect(renders).toBe(0);
    await new Promise((r) => setTimeout(r, 120));
    expect(renders).toBe(1);
    expect(c.getSnapshot().run.nodes[a]).toMatchObject({ step: 50, phase: 'half way' });
    expect(c.getSnapshot().log.at(-1)!.message).toBe(`${a}: half way`);
    ev({ type: 'node-progress', node: a, step: 51, total: 51 });
    ev({ type: 'node-finished', node: a, nodeType: 'Load', signature: 's', outputs: {}, metrics: {}, durationMs: 5 });
    expect(c.getSnapshot().run.nodes[a]).toMatchObject({ status: 'done', step: 51 });
    off();
  });
});
