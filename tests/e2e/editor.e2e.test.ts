/**
 * The editor end to end, in Debian's chromium against the web shell (`loram serve`) and the real engine:
 * build the quickstart graph from an empty canvas by drag and drop, connect, edit parameters, see a mismatched
 * connection refused with its reason, run to completion, see the plots, save, reload, reopen the same graph;
 * undo/redo of add, connect, delete and a parameter edit; copy/paste of a branch; cancel a training run.
 * Every test saves screenshots of the states it checks under tests/artifacts/e2e/.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import type { Recipe } from '../../src/shared/index';
import { closeEditor, findChromium, openEditor, shot, waitForChart, type Shell } from './harness';

const chromiumPath = findChromium();
if (!chromiumPath) {
  console.warn(`e2e tests skipped: no chromium at ${process.env.LORAM_CHROMIUM || '/usr/bin/chromium'} (install it with apt-get install -y chromium; a browser is never downloaded)`);
}
const describeE2E = chromiumPath ? describe : describe.skip;

let shell: Shell;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

/** The quickstart recipe's shape, with small parameters so the real run takes seconds. */
const NODES: [type: string, id: string, x: number, y: number][] = [
  ['Load', 'load1', 120, 60],
  ['Dataset', 'dataset1', 120, 250],
  ['Dataset', 'dataset2', 120, 440],
  ['Prune', 'prune1', 350, 60],
  ['LoRA-Train', 'lora-train1', 560, 250],
  ['Recover', 'recover1', 560, 40],
  ['Evaluate', 'evaluate1', 770, 200],
];
const EDGES: [string, string, string, string][] = [
  ['load1', 'model', 'prune1', 'model'],
  ['dataset1', 'dataset', 'prune1', 'calibration'],
  ['prune1', 'model', 'lora-train1', 'model'],
  ['dataset2', 'dataset', 'lora-train1', 'dataset'],
  ['lora-train1', 'adapter', 'recover1', 'adapter'],
  ['load1', 'model', 'recover1', 'model'],
  ['load1', 'model', 'evaluate1', 'model'],
  ['recover1', 'adapter', 'evaluate1', 'adapter'],
  ['dataset2', 'dataset', 'evaluate1', 'dataset'],
];
const PARAMS: [string, string, string][] = [
  ['load1', 'source', 'builtin:small'],
  ['dataset1', 'source', 'brown'],
  ['dataset1', 'maxDocuments', '12'],
  ['dataset2', 'maxDocuments', '12'],
  ['prune1', 'ratio', '0.4'],
  ['prune1', 'calibrationSamples', '4'],
  ['prune1', 'calibrationTokens', '32'],
  ['lora-train1', 'steps', '8'],
  ['lora-train1', 'seqLen', '32'],
  ['lora-train1', 'batchSize', '2'],
  ['lora-train1', 'warmupSteps', '1'],
  ['evaluate1', 'seqLen', '64'],
  ['evaluate1', 'maxTokens', '1024'],
];

const doc = (): Promise<Recipe> => page.evaluate(() => (window as unknown as { __loram: { doc: Recipe } }).__loram.doc);
const ids = async () => (await doc()).nodes.map((n) => n.id).sort();
const edgeList = async () => (await doc()).edges.map((e) => `${e.from.node}.${e.from.port}>${e.to.node}.${e.to.port}`).sort();
const mod = 'Control';

async function waitIdle(ms = 250): Promise<void> {
  await page.waitForTimeout(ms);
}

async function dropNode(type: string, x: number, y: number): Promise<void> {
  await page.dragAndDrop(`[data-testid="palette-${type}"]`, '.react-flow__pane', { targetPosition: { x, y } });
}

function handle(node: string, port: string, side: 'source' | 'target') {
  return page.locator(`.react-flow__handle.${side}[data-nodeid="${node}"][data-handleid="${port}"]`);
}

async function center(l: ReturnType<typeof handle>): Promise<{ x: number; y: number }> {
  const b = await l.boundingBox();
  if (!b) throw new Error('element not visible');
  return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
}

/** Drag from an output handle to an input handle; `beforeRelease` runs while hovering the target. */
async function drag(from: [string, string], to: [string, string], beforeRelease?: () => Promise<void>): Promise<void> {
  const a = await center(handle(from[0], from[1], 'source'));
  const b = await center(handle(to[0], to[1], 'target'));
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 6 });
  await page.mouse.move(b.x, b.y, { steps: 6 });
  await beforeRelease?.();
  await page.mouse.up();
}

async function select(id: string, add = false): Promise<void> {
  await page.locator(`[data-testid="node-${id}"] .node-head`).click(add ? { modifiers: [mod] } : {});
}

async function setParam(node: string, key: string, value: string): Promise<void> {
  await select(node);
  const field = page.locator(`[data-testid="inspector"] [data-field="${key}"]`);
  await field.waitFor();
  if ((await field.locator('select').count()) > 0) await field.locator('select').selectOption(value);
  else {
    const input = field.locator('input').first();
    await input.fill(value);
    await input.press('Enter');
  }
}

async function clickPane(): Promise<void> {
  const b = (await page.locator('.react-flow__pane').boundingBox())!;
  await page.mouse.click(b.x + b.width - 40, b.y + 20);
}

async function fit(): Promise<void> {
  await clickPane();
  await page.keyboard.press('Shift+!');
  await waitIdle(400);
}

describeE2E('LoRAM Studio editor (web shell, chromium)', () => {
  beforeAll(async () => {
    ({ shell, context, page } = await openEditor(chromiumPath!, pageErrors));
  }, 180_000);

  afterAll(async () => closeEditor(shell, context), 30_000);

  test('build the quickstart graph from an empty canvas by drag and drop, connect, edit parameters', async () => {
    expect(await ids()).toEqual([]);
    await shot(page, '01-empty-canvas');
    // The token left the address bar once read.
    expect(page.url()).not.toMatch(/token=/);

    // zoom out one step so the whole recipe fits while building it
    await page.locator('.react-flow__controls-zoomout').click();
    for (const [type, , x, y] of NODES) await dropNode(type, x, y);
    expect(await ids()).toEqual(NODES.map((n) => n[1]).sort());
    await fit();
    for (const [f, fp, t, tp] of EDGES) await drag([f, fp], [t, tp]);
    expect(await edgeList()).toEqual(EDGES.map(([f, fp, t, tp]) => `${f}.${fp}>${t}.${tp}`).sort());
    await shot(page, '02-quickstart-built');

    for (const [node, key, value] of PARAMS) await setParam(node, key, value);
    const d = await doc();
    const p = (id: string) => d.nodes.find((n) => n.id === id)!.params;
    expect(p('load1').source).toBe('builtin:small');
    expect(p('prune1').ratio).toBe(0.4);
    expect(p('lora-train1').steps).toBe(8);
    expect(p('dataset1').source).toBe('brown');
    await select('prune1');
    await shot(page, '03-parameters-edited-inspector');

    // an out-of-range value gets an inline error from the schema (and nothing breaks)
    await setParam('prune1', 'ratio', '1.5');
    await page.locator('[data-field="ratio"] .field-error').first().waitFor();
    expect(await page.locator('[data-field="ratio"] .field-error').first().textContent()).toMatch(/at most 0.99/);
    await page.waitForFunction(() => document.querySelector('[data-testid="node-prune1"]')?.classList.contains('has-errors'));
    await shot(page, '04-inline-error-pinned-to-node');
    await setParam('prune1', 'ratio', '0.4');
    await page.waitForFunction(() => !document.querySelector('[data-testid="node-prune1"]')?.classList.contains('has-errors'));

    // text that is not a number is not ignored: the field says which field, what it takes, and what was kept
    const ratio = page.locator('[data-testid="inspector"] [data-field="ratio"] input').first();
    await ratio.fill('abc');
    const typed = page.locator('[data-field="ratio"] [data-testid="typed-error"]');
    expect(await typed.textContent()).toBe('Ratio: "abc" is not a number; expected a number 0 – 0.99');
    expect(await ratio.getAttribute('aria-invalid')).toBe('true');
    await ratio.press('Enter');
    expect(await typed.textContent()).toBe('Ratio: "abc" is not a number; expected a number 0 – 0.99; kept 0.4');
    expect((await doc()).nodes.find((n) => n.id === 'prune1')!.params.ratio).toBe(0.4);
    await shot(page, '04b-typed-text-not-a-number');
  });

  test('a mismatched connection is refused, with its reason', async () => {
    const before = await edgeList();
    await drag(['dataset1', 'dataset'], ['lora-train1', 'model'], async () => {
      await page.locator('.connection-hint').waitFor();
      expect(await page.locator('.connection-hint').textContent()).toMatch(/a dataset output cannot feed a model input/);
      await shot(page, '05-refused-while-dragging');
    });
    const toast = page.locator('[data-testid="toast-refused"]');
    await toast.waitFor();
    expect(await toast.textContent()).toMatch(/Connection refused: a dataset output cannot feed a model input/);
    expect(await edgeList()).toEqual(before);
    await shot(page, '06-refused-toast');
  });

  test('run to completion (the real engine) and see the results plots', async () => {
    await clickPane();
    await page.locator('[data-testid="btn-run"]').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="run-status"]')?.textContent?.includes('running'), null, { timeout: 30_000 });
    await page.waitForSelector('[data-testid="node-lora-train1"][data-status="running"], [data-testid="node-lora-train1"][data-status="done"]', { timeout: 120_000 });
    await shot(page, '07-running');
    await page.waitForFunction(() => /finished|failed/.test(document.querySelector('[data-testid="run-status"]')?.textContent ?? ''), null, { timeout: 180_000 });
    const status = await page.locator('[data-testid="run-status"]').textContent();
    if (status !== 'finished') {
      await shot(page, '08-run-failed');
      const log = await page.evaluate(() => (window as unknown as { __loram: { getSnapshot(): { log: { message: string }[] } } }).__loram.getSnapshot().log.map((l) => l.message).join('\n'));
      throw new Error(`the run did not finish:\n${log}`);
    }
    for (const [, id] of NODES) expect(await page.locator(`[data-testid="node-${id}"]`).getAttribute('data-status')).toBe('done');
    await page.locator('[data-testid="tab-results"]').click();
    await waitForChart(page, '[data-testid="loss-chart"]');
    await waitForChart(page, '[data-testid="ppl-chart"]');
    await shot(page, '08-finished-results');
    await page.locator('[data-testid="tab-log"]').click();
    expect(await page.locator('[data-testid="log"]').textContent()).toMatch(/perplexity/);
    await shot(page, '09-log');
    await page.locator('[data-testid="tab-results"]').click();
  });

  test('save, reload, and get the same graph', async () => {
    const saved = await doc();
    await page.locator('[data-testid="btn-saveAs"]').click();
    await page.locator('[data-testid="file-dialog"]').waitFor();
    await page.locator('[data-testid="file-name"]').fill('e2e-quickstart.json');
    await shot(page, '10-save-dialog');
    await page.locator('[data-testid="file-ok"]').click();
    await page.locator('[data-testid="toast-success"]', { hasText: 'Saved e2e-quickstart.json' }).waitFor();
    await page.waitForFunction(() => !document.querySelector('[data-testid="dirty-marker"]'));
    expect(await page.locator('[data-testid="file-title"]').textContent()).toBe('e2e-quickstart.json');
    const file = path.join(shell.work, 'e2e-quickstart.json');
    const onDisk = JSON.parse(readFileSync(file, 'utf8')) as Recipe;
    expect(onDisk.nodes.map((n) => n.id).sort()).toEqual(NODES.map((n) => n[1]).sort());

    await page.reload();
    await page.locator('[data-testid="palette-Load"]').waitFor();
    expect(await ids()).toEqual([]);
    await page.locator('[data-testid="btn-open"]').click();
    await page.locator('[data-testid="file-dialog"] li.file', { hasText: 'e2e-quickstart.json' }).dblclick();
    await page.locator('[data-testid="node-evaluate1"]').waitFor();
    const reopened = await doc();
    expect(reopened).toEqual(onDisk);
    // The same graph; Save as named the untitled recipe after its file.
    expect({ ...JSON.parse(JSON.stringify(saved)), name: 'e2e-quickstart' }).toEqual(reopened);
    // the results of the unchanged graph come from the cache
    await page.waitForSelector('[data-testid="node-evaluate1"][data-status="cached"]', { timeout: 20_000 });
    // and the results panel shows that recipe's last run from the history
    await page.locator('[data-testid="tab-results"]').click();
    await waitForChart(page, '[data-testid="loss-chart"]');
    expect(await page.locator('[data-testid="results"] .results-head').textContent()).toMatch(/from the run history/);
    await waitIdle(300);
    await shot(page, '11-reopened-same-graph');
  });

  test('undo/redo of add, connect, delete and a parameter edit — one step each', async () => {
    const base = { ids: await ids(), edges: await edgeList() };
    // add (quick add: "/" then search)
    const pane = (await page.locator('.react-flow__pane').boundingBox())!;
    await clickPane();
    await page.mouse.move(pane.x + pane.width * 0.45, pane.y + pane.height * 0.78);
    await page.keyboard.press('/');
    await page.locator('[data-testid="quick-add-input"]').fill('compare');
    await shot(page, '12-quick-add');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="node-compare1"]').waitFor();
    // connect
    await drag(['evaluate1', 'metrics'], ['compare1', 'metrics']);
    expect(await edgeList()).toContain('evaluate1.metrics>compare1.metrics');
    // parameter edit (typing several characters is one step)
    await select('compare1');
    const title = page.locator('[data-testid="inspector"] [data-field="title"] input');
    await title.fill('');
    await title.pressSequentially('Strategies', { delay: 10 });
    await title.press('Enter');
    expect((await doc()).nodes.find((n) => n.id === 'compare1')!.params.title).toBe('Strategies');
    // delete
    await select('recover1');
    await page.keyboard.press('Delete');
    expect(await ids()).not.toContain('recover1');
    await shot(page, '13-after-add-connect-edit-delete');

    const undo = () => page.keyboard.press(`${mod}+z`);
    const redo = () => page.keyboard.press(`${mod}+Shift+z`);
    await clickPane();
    await undo(); // delete
    expect(await ids()).toContain('recover1');
    expect((await edgeList()).filter((e) => e.includes('recover1'))).toHaveLength(3);
    await undo(); // parameter edit
    expect((await doc()).nodes.find((n) => n.id === 'compare1')!.params.title).toBe('Comparison');
    await undo(); // connect
    expect(await edgeList()).not.toContain('evaluate1.metrics>compare1.metrics');
    await undo(); // add
    expect(await ids()).toEqual(base.ids);
    expect(await edgeList()).toEqual(base.edges);
    await shot(page, '14-undone-to-start');
    await redo();
    await redo();
    await redo();
    await redo();
    expect(await ids()).not.toContain('recover1');
    expect(await ids()).toContain('compare1');
    expect((await doc()).nodes.find((n) => n.id === 'compare1')!.params.title).toBe('Strategies');
    expect(await edgeList()).toContain('evaluate1.metrics>compare1.metrics');
    await shot(page, '15-redone');
    // back to the saved graph for the next tests
    for (let i = 0; i < 4; i++) await undo();
    expect(await ids()).toEqual(base.ids);

    // dragging a node is one step, however many pixels it moved through
    const pos = async () => (await doc()).nodes.find((n) => n.id === 'dataset2')!.position;
    const before = await pos();
    const head = (await page.locator('[data-testid="node-dataset2"] .node-head').boundingBox())!;
    await page.mouse.move(head.x + 20, head.y + 8);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(head.x + 20 + i * 8, head.y + 8 + i * 3);
    await page.mouse.up();
    const after = await pos();
    expect(after).not.toEqual(before);
    await undo();
    expect(await pos()).toEqual(before);
    await redo();
    expect(await pos()).toEqual(after);
    await undo();
    expect(await page.locator('[data-testid="dirty-marker"]').count()).toBe(0);
  });

  test('copy/paste of a branch', async () => {
    await select('prune1');
    await select('lora-train1', true);
    await page.keyboard.press(`${mod}+c`);
    await clickPane();
    // paste where the pointer is: an empty part of the canvas
    const pane = (await page.locator('.react-flow__pane').boundingBox())!;
    await page.mouse.move(pane.x + pane.width * 0.3, pane.y + pane.height * 0.78);
    await page.keyboard.press(`${mod}+v`);
    await page.locator('[data-testid="node-lora-train2"]').waitFor();
    expect(await ids()).toEqual(expect.arrayContaining(['prune2', 'lora-train2']));
    expect(await edgeList()).toContain('prune2.model>lora-train2.model');
    const d = await doc();
    expect(d.nodes.find((n) => n.id === 'lora-train2')!.params).toEqual(d.nodes.find((n) => n.id === 'lora-train1')!.params);
    await shot(page, '16-pasted-branch');
    await page.keyboard.press(`${mod}+z`); // the whole paste is one step
    expect(await ids()).not.toContain('prune2');
    expect(await ids()).not.toContain('lora-train2');
  });

  test('cancel stops a training run (and edited nodes are marked stale first)', async () => {
    await setParam('lora-train1', 'steps', '200000'); // long enough that cancel always lands mid-training
    // the trained result no longer matches the parameters: it and everything downstream are stale
    for (const id of ['lora-train1', 'recover1', 'evaluate1']) await page.waitForSelector(`[data-testid="node-${id}"][data-status="stale"]`, { timeout: 10_000 });
    for (const id of ['load1', 'prune1', 'dataset2']) expect(await page.locator(`[data-testid="node-${id}"]`).getAttribute('data-status')).toBe('cached');
    await shot(page, '17a-stale-markers');
    await clickPane();
    await page.locator('[data-testid="btn-run"]').click();
    await page.waitForSelector('[data-testid="node-lora-train1"][data-status="running"]', { timeout: 60_000 });
    await page.waitForFunction(() => !!document.querySelector('[data-testid="node-lora-train1"] .node-live .loss'), null, { timeout: 60_000 });
    await waitIdle(600);
    await shot(page, '17b-training-live-loss');
    await page.locator('[data-testid="btn-cancel"]').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="run-status"]')?.textContent === 'cancelled', null, { timeout: 30_000 });
    expect(await page.locator('[data-testid="node-lora-train1"]').getAttribute('data-status')).toBe('cancelled');
    await shot(page, '18-cancelled');
  });

  test('run to here on a Compare node: only what it needs runs, and the Compare view shows the branches', async () => {
    await setParam('lora-train1', 'steps', '8'); // back to the cached training
    await page.locator('[data-testid="palette-search"]').fill('compare');
    const pane = (await page.locator('.react-flow__pane').boundingBox())!;
    await dropNode('Compare', pane.width * 0.55, pane.height * 0.8);
    await page.locator('[data-testid="palette-search"]').fill('');
    await page.locator('[data-testid="node-compare1"]').waitFor();
    await drag(['evaluate1', 'metrics'], ['compare1', 'metrics']);
    await drag(['lora-train1', 'metrics'], ['compare1', 'metrics']);
    expect((await edgeList()).filter((e) => e.endsWith('compare1.metrics'))).toHaveLength(2);
    await select('compare1');
    await page.locator('[data-testid="btn-runToHere"]').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="run-status"]')?.textContent === 'finished', null, { timeout: 60_000 });
    await page.waitForSelector('[data-testid="node-compare1"][data-status="done"]', { timeout: 10_000 });
    expect(await page.locator('[data-testid="node-lora-train1"]').getAttribute('data-status')).toBe('cached');
    await page.locator('[data-testid="tab-compare"]').click();
    await page.locator('[data-testid="compare"] .compare-table:not(.verdict-table) tbody tr').nth(1).waitFor();
    expect(await page.locator('[data-testid="compare"] .compare-table:not(.verdict-table) tbody tr').count()).toBe(2);
    await waitForChart(page, '[data-testid="compare"]');
    await shot(page, '19-compare-view');
    await page.locator('[data-testid="tab-results"]').click();
    await shot(page, '20-results-after-run-to-here');

    // unsaved changes: New asks first; Cancel keeps the work
    expect(await page.locator('[data-testid="dirty-marker"]').count()).toBe(1);
    await page.locator('[data-testid="btn-new"]').click();
    await page.locator('[data-testid="confirm-discard"]').waitFor();
    await shot(page, '21-unsaved-changes-prompt');
    await page.locator('[data-testid="confirm-discard"] button', { hasText: 'Cancel' }).click();
    expect(await ids()).toContain('compare1');
    expect(pageErrors).toEqual([]);
  });
});
