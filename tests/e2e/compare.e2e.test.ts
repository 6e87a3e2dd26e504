/**
 * Comparing strategies end to end, in Debian's chromium against the web shell and the real engine: build a
 * 2-axis sweep (strategy × ratio) by hand and run it; group and ungroup nodes; open a 17-branch comparison run
 * (the compare-pruning graph with the committed report's perplexities) and read its verdict in the Compare view;
 * the Results view at 17 and at 40 branches with no label or legend overlapping (checked on bounding boxes).
 * Screenshots of every checked state go to tests/artifacts/e2e/.
 */
import type { BrowserContext, Page } from 'playwright-core';
import type { Recipe } from '../../src/shared/index';
import { evalIds, paperLikeNumbers, realRecipe } from '../unit/report/fixture';
import { closeEditor, findChromium, openEditor, shot, type Shell } from './harness';
import { wideRecipe, writeFinishedRun } from './wide-comparison';

const chromiumPath = findChromium();
const describeE2E = chromiumPath ? describe : describe.skip;

let shell: Shell;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

const doc = (): Promise<Recipe> => page.evaluate(() => (window as unknown as { __loram: { doc: Recipe } }).__loram.doc);
const handle = (node: string, port: string, side: 'source' | 'target') => page.locator(`.react-flow__handle.${side}[data-nodeid="${node}"][data-handleid="${port}"]`);

async function center(sel: ReturnType<typeof handle>): Promise<{ x: number; y: number }> {
  const b = (await sel.boundingBox())!;
  return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
}
async function connect(from: [string, string], to: [string, string]): Promise<void> {
  const a = await center(handle(from[0], from[1], 'source'));
  const b = await center(handle(to[0], to[1], 'target'));
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move(b.x, b.y, { steps: 8 });
  await page.mouse.up();
}
async function select(id: string): Promise<void> {
  await page.locator(`[data-testid="node-${id}"] .node-head`).click();
}
async function setParam(node: string, key: string, value: string): Promise<void> {
  await select(node);
  const field = page.locator(`[data-testid="inspector"] [data-field="${key}"]`);
  if ((await field.locator('select').count()) > 0) await field.locator('select').selectOption(value);
  else {
    await field.locator('input').first().fill(value);
    await field.locator('input').first().press('Enter');
  }
}
type Box = { x: number; y: number; width: number; height: number };
const overlaps = (a: Box, b: Box) => a.x < b.x + b.width - 0.5 && b.x < a.x + a.width - 0.5 && a.y < b.y + b.height - 0.5 && b.y < a.y + a.height - 0.5;
const inside = (a: Box, b: Box) => a.x >= b.x - 0.5 && a.y >= b.y - 0.5 && a.x + a.width <= b.x + b.width + 0.5 && a.y + a.height <= b.y + b.height + 0.5;
type TextBox = Box & { axis: string; text: string };

/** A screenshot with the bottom panel pulled up to show the whole Results view (then the layout as it was). */
async function shotResults(name: string): Promise<void> {
  const size = page.viewportSize()!;
  await page.setViewportSize({ width: size.width, height: 3000 });
  const s = (await page.locator('.splitter').boundingBox())!;
  const drag = async (from: number, to: number) => {
    await page.mouse.move(s.x + s.width / 2, from);
    await page.mouse.down();
    await page.mouse.move(s.x + s.width / 2, to, { steps: 4 });
    await page.mouse.up();
  };
  await drag(s.y + 2, 300);
  await shot(page, name);
  await drag(300, s.y + 2);
  await page.setViewportSize(size);
}

/**
 * Scrolled sideways, the Compare tables keep the branch column and its header cell together at the left edge
 * (checked in a narrow window, where the tables overflow).
 */
async function checkStickyBranchColumn(): Promise<void> {
  const size = page.viewportSize()!;
  await page.setViewportSize({ width: 1000, height: size.height });
  const table = page.locator('[data-testid="verdict-table"]');
  const scroller = page.locator('.table-scroll', { has: table });
  const geometry = () =>
    scroller.evaluate((el) => {
      const box = (q: string) => el.querySelector(q)!.getBoundingClientRect();
      return { overflow: el.scrollWidth - el.clientWidth, left: el.getBoundingClientRect().left + el.clientLeft, head: box('thead th:first-child'), cell: box('tbody td:first-child'), second: box('thead th:nth-child(2)') };
    });
  expect((await geometry()).overflow).toBeGreaterThan(100);
  await scroller.evaluate((el) => el.scrollTo({ left: 100 }));
  await scroller.evaluate((el) => el.scrollIntoView({ block: 'start' }));
  const g = await geometry();
  expect(Math.abs(g.head.left - g.left)).toBeLessThan(1);
  expect(Math.abs(g.cell.left - g.left)).toBeLessThan(1);
  expect(Math.abs(g.head.width - g.cell.width)).toBeLessThan(1);
  // The other header cells scrolled with their columns.
  expect(g.second.left).toBeLessThan(g.head.right);
  // …and the branch column is drawn on top of them, not under.
  const onTop = await page.evaluate(({ x, y }) => document.elementFromPoint(x, y)?.closest('th')?.textContent, { x: g.head.left + 4, y: g.head.top + g.head.height / 2 });
  expect(onTop).toBe('Branch');
  await shot(page, 'compare-02b-scrolled-sideways');
  await scroller.evaluate((el) => el.scrollTo({ left: 0 }));
  await page.setViewportSize(size);
}

/** Open a run of the history in the Results tab. */
async function showPastRun(runId: string): Promise<void> {
  await page.locator('[data-testid="tab-runs"]').click();
  await page.locator('[data-testid="runs"] tr', { hasText: runId }).click();
  await page.locator('[data-testid="results"]').waitFor();
}

/** The axis labels each ranked chart of a result card drew (canvas text, located by the page's chart probe). */
async function rankedLabels(chart: string): Promise<{ card: Box; charts: TextBox[][] }> {
  const card = (await page.locator('.result-card', { has: page.locator(`[data-testid="${chart}"]`) }).boundingBox())!;
  const charts = await page.locator(`[data-testid="${chart}"] canvas`).evaluateAll((canvases) =>
    canvases.map((c) => (window as unknown as { __loramChartText(c: HTMLCanvasElement): TextBox[] }).__loramChartText(c as HTMLCanvasElement)),
  );
  return { card, charts };
}

/**
 * The Results view at `branches` branches: every ranked chart names every branch; no two labels of a chart overlap;
 * every label and the loss legend stay inside their card.
 */
async function checkResultsLayout(recipe: Recipe): Promise<void> {
  const branches = recipe.nodes.filter((n) => n.type === 'Evaluate').length;
  const trained = recipe.nodes.filter((n) => n.type === 'LoRA-Train').length;
  await page.locator('[data-testid="ppl-chart"] canvas').first().waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="ppl-chart"] canvas').length > 0 && (window as unknown as { __loramChartText(c: Element): unknown[] }).__loramChartText(document.querySelector('[data-testid="ppl-chart"] canvas')!).length > 0);
  for (const chart of ['ppl-chart', 'acc-chart', 'mem-chart']) {
    const { card, charts } = await rankedLabels(chart);
    expect(charts.length).toBeGreaterThan(0);
    for (const boxes of charts) {
      const names = boxes.filter((b) => b.axis === 'y');
      expect([chart, names.length]).toEqual([chart, chart === 'mem-chart' ? trained : branches]);
      expect(boxes.filter((b) => b.axis === 'values').length).toBe(names.length);
      for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) expect([chart, boxes[i]!.text, boxes[j]!.text, overlaps(boxes[i]!, boxes[j]!)]).toEqual([chart, boxes[i]!.text, boxes[j]!.text, false]);
      for (const b of boxes) expect([chart, b.text, inside(b, card)]).toEqual([chart, b.text, true]);
    }
  }
  // The loss legend stays inside the loss card, and its entries do not overlap.
  const lossCard = (await page.locator('.result-card', { has: page.locator('[data-testid="loss-chart"]') }).boundingBox())!;
  const legend = page.locator('[data-testid="loss-chart"] [data-testid="chart-legend"]');
  expect(inside((await legend.boundingBox())!, lossCard)).toBe(true);
  const entries = await legend.locator('li').evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => ({ x: r.x, y: r.y, width: r.width, height: r.height })));
  expect(entries.length).toBe(trained);
  for (let i = 0; i < entries.length; i++) for (let j = i + 1; j < entries.length; j++) expect(overlaps(entries[i]!, entries[j]!)).toBe(false);
}

describeE2E('comparing strategies (web shell, chromium)', () => {
  beforeAll(async () => {
    ({ shell, context, page } = await openEditor(chromiumPath!, pageErrors, { width: 1600, height: 1000 }));
  }, 180_000);

  afterAll(async () => closeEditor(shell, context), 30_000);

  test('build a strategy × ratio sweep by hand and run it: one card per node, four branches', async () => {
    for (const [type, x, y] of [['Load', 200, 120], ['Dataset', 200, 360], ['Prune', 560, 200]] as const) {
      await page.dragAndDrop(`[data-testid="palette-${type}"]`, '.react-flow__pane', { targetPosition: { x, y } });
    }
    await connect(['load1', 'model'], ['prune1', 'model']);
    await connect(['dataset1', 'dataset'], ['prune1', 'calibration']);
    await setParam('load1', 'source', 'builtin:small');
    await setParam('dataset1', 'maxDocuments', '12');
    await setParam('prune1', 'calibrationSamples', '4');
    await setParam('prune1', 'calibrationTokens', '32');
    // Sweep strategy (starts with the first two choices: rand, stru), then ratio over 0.3, 0.5.
    await select('prune1');
    await page.locator('[data-testid="sweep-param"]').selectOption('strategy');
    await page.locator('[data-testid="sweep-add"]').click();
    await page.locator('[data-testid="sweep-param"]').selectOption('ratio');
    await page.locator('[data-testid="sweep-add"]').click();
    await page.locator('[data-testid="sweep-values-ratio"]').fill('0.3, 0.5');
    await page.locator('[data-testid="sweep-values-ratio"]').press('Tab');
    await page.locator('[data-testid="sweep-prune1"]').waitFor();
    expect(await page.locator('[data-testid="sweep-prune1"]').textContent()).toBe('strategy × 2 · ratio × 2');
    expect((await doc()).nodes.find((n) => n.id === 'prune1')!.sweep).toEqual({ mode: 'product', values: { strategy: ['rand', 'stru'], ratio: [0.3, 0.5] } });
    expect(await page.locator('.react-flow__node').count()).toBe(3);
    await shot(page, 'sweep-01-built');

    await page.locator('[data-testid="btn-run"]').click();
    await page.waitForFunction(() => /finished|failed/.test(document.querySelector('[data-testid="run-status"]')?.textContent ?? ''), null, { timeout: 240_000 });
    expect(await page.locator('[data-testid="run-status"]').textContent()).toBe('finished');
    expect(await page.locator('[data-testid="node-prune1"]').getAttribute('data-status')).toBe('done');
    expect(await page.locator('.react-flow__node').count()).toBe(3);
    await page.locator('[data-testid="tab-results"]').click();
    const rows = await page.locator('.node-results tbody td:first-child').allTextContents();
    expect(rows.filter((r) => r.startsWith('prune1 · ')).sort()).toEqual([
      'prune1 · strategy=rand · ratio=0.3',
      'prune1 · strategy=rand · ratio=0.5',
      'prune1 · strategy=stru · ratio=0.3',
      'prune1 · strategy=stru · ratio=0.5',
    ]);
    await shot(page, 'sweep-02-ran-four-branches');
  }, 300_000);

  test('group and ungroup: one frame, moved as one (one undo step), collapsed, saved in the recipe', async () => {
    await page.locator('.react-flow__pane').click({ position: { x: 900, y: 40 } });
    await select('load1');
    await page.locator('[data-testid="node-dataset1"] .node-head').click({ modifiers: ['Control'] });
    await page.locator('[data-testid="btn-group"]').click();
    await page.locator('[data-testid="group-group1"]').waitFor();
    let d = await doc();
    expect(d.groups).toEqual([{ id: 'group1', title: 'Group', color: '#4f8cff' }]);
    expect(d.nodes.filter((n) => n.group === 'group1').map((n) => n.id).sort()).toEqual(['dataset1', 'load1']);
    await page.locator('[data-testid="group-group1"] .group-title').fill('Model and data');
    await page.locator('[data-testid="group-group1"] .group-title').press('Tab');
    await shot(page, 'group-01-grouped');

    const before = Object.fromEntries((await doc()).nodes.map((n) => [n.id, n.position]));
    const h = (await page.locator('[data-testid="group-head-group1"]').boundingBox())!;
    await page.mouse.move(h.x + h.width - 60, h.y + h.height / 2);
    await page.mouse.down();
    await page.mouse.move(h.x + h.width - 60, h.y + h.height / 2 + 120, { steps: 8 });
    await page.mouse.up();
    d = await doc();
    const dy = d.nodes.find((n) => n.id === 'load1')!.position.y - before.load1!.y;
    expect(dy).toBeGreaterThan(40);
    expect(d.nodes.find((n) => n.id === 'dataset1')!.position.y - before.dataset1!.y).toBe(dy);
    expect(d.nodes.find((n) => n.id === 'prune1')!.position).toEqual(before.prune1);
    await shot(page, 'group-02-moved');
    await page.keyboard.press('Control+Z');
    d = await doc();
    expect(d.nodes.find((n) => n.id === 'load1')!.position).toEqual(before.load1);
    expect(d.nodes.find((n) => n.id === 'dataset1')!.position).toEqual(before.dataset1);
    expect(d.groups![0]!.title).toBe('Model and data');

    await page.locator('[data-testid="group-toggle-group1"]').click();
    await page.waitForFunction(() => !document.querySelector('[data-testid="node-load1"]'));
    expect(await page.locator('.react-flow__node').count()).toBe(1);
    await shot(page, 'group-03-collapsed');
    await page.locator('[data-testid="group-toggle-group1"]').click();
    await page.locator('[data-testid="node-load1"]').waitFor();
    await page.locator('[data-testid="group-ungroup-group1"]').click();
    await page.waitForFunction(() => !document.querySelector('[data-testid="group-group1"]'));
    d = await doc();
    expect(d.groups).toBeUndefined();
    expect(d.nodes.every((n) => !n.group)).toBe(true);
    await shot(page, 'group-04-ungrouped');
  }, 120_000);

  test('a 17-branch comparison: Results readable (no overlapping labels, legends in their cards), the Compare view leads with the verdict', async () => {
    // The compare-pruning graph with the perplexities of the committed report (docs/compare-pruning).
    const recipe = realRecipe();
    const n = paperLikeNumbers(recipe);
    const ids = evalIds(recipe);
    Object.assign(n.ppl, { eval_large: 67.34, eval_small0: 83.23, eval_small: 66.02, eval_full: 53.25, eval_rand: 55.88, eval_stru: 55.80, eval_semi: 56.08, eval_unst: 56.05, eval_q: 55.86 });
    ids.noAlign.forEach((e, i) => (n.ppl[e] = [57.62, 57.01, 56.3, 56.4][i]!));
    ids.noRec.forEach((e, i) => (n.ppl[e] = [58.75, 57.07, 56.9, 57.2][i]!));
    const runId = '20991231-000000-000-compar';
    writeFinishedRun(shell.home, recipe, runId, n);
    await showPastRun(runId);
    expect(evalIds(recipe).all.length).toBe(17);
    await checkResultsLayout(recipe);
    // Memory: the one training run planned more than 10% off its measurement is warned about, inside its card.
    const gapNotes = page.locator('[data-testid="mem-notes"] li.gap');
    expect(await gapNotes.allTextContents()).toEqual([expect.stringContaining('planned 205.0 MiB vs measured 180.0 MiB: +14%, more than 10% apart')]);
    const memCard = (await page.locator('.result-card', { has: page.locator('[data-testid="mem-chart"]') }).boundingBox())!;
    expect(inside((await gapNotes.first().boundingBox())!, memCard)).toBe(true);
    await shot(page, 'compare-01-results-17-branches');

    await page.locator('[data-testid="tab-compare"]').click();
    const headline = page.locator('[data-testid="verdict-headline"]');
    await headline.waitFor({ timeout: 30_000 });
    expect(await headline.textContent()).toBe('Held-out perplexity: LoRAM-Stru is best (55.80); tied within 0.5%: LoRAM-Rand, LoRAM-Unst, QLoRAM-Stru.');
    const text = (await page.locator('[data-testid="verdict"]').textContent())!;
    expect(text).toContain('Every variant (5) beats large, untuned (baseline): 16.7–17.1% lower perplexity.');
    expect(text).toContain('LoRAM beats the untuned large model');
    // Baselines are marked and never best, even the full-model LoRA with the lowest perplexity.
    const full = page.locator('[data-testid="verdict-table"] tr', { hasText: 'large + LoRA (full model)' });
    expect(await full.locator('.role-tag').textContent()).toBe('baseline');
    expect(await full.locator('td.best').count()).toBe(0);
    expect(await page.locator('[data-testid="verdict-table"] th').allTextContents()).toEqual(expect.arrayContaining(['memory measured (MiB) ↓', 'memory planned (MiB)', 'training time ↓']));
    expect(await page.locator('[data-testid="verdict-table"] td.mem-gap').allTextContents()).toEqual(['205.0 ⚠']);
    await page.locator('[data-testid="open-report"]').waitFor();
    await shot(page, 'compare-02-verdict');
    await checkStickyBranchColumn();
    expect(pageErrors).toEqual([]);
  }, 120_000);

  test('a 40-branch comparison: every ranked chart names all 40 branches, nothing overlaps, everything stays in its card', async () => {
    const runId = '20991231-000000-000-wide40';
    const recipe = wideRecipe(40);
    writeFinishedRun(shell.home, recipe, runId);
    await showPastRun(runId);
    await checkResultsLayout(recipe);
    await shotResults('compare-03-results-40-branches');
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
