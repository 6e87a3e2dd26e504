/**
 * The artifact store from the editor's Runs tab, as `loram cache ls | gc` shows it: its size and what a clean-up
 * would remove; "Clean up" removes the artifacts no run in the history used and the numbers follow.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { closeEditor, findChromium, openEditor, REPO, shot, type Shell } from './harness';

const chromiumPath = findChromium();
const describeE2E = chromiumPath ? describe : describe.skip;

let shell: Shell;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

/** A one-node recipe run by the CLI on the shell's LORAM_HOME: one artifact per distinct `maxDocuments`. */
function runDataset(maxDocuments: number): void {
  const file = path.join(shell.home, `..`, `data-${maxDocuments}.json`);
  writeFileSync(file, JSON.stringify({ format: 'loram-recipe', version: 2, name: `data ${maxDocuments}`, nodes: [{ id: 'data', type: 'Dataset', version: 1, params: { source: 'sotu', maxDocuments } }], edges: [] }));
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin/loram.mjs'), 'run', file], { env: { ...process.env, LORAM_HOME: shell.home }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stdout + r.stderr);
}

describeE2E('the artifact store in the Runs tab (web shell, chromium)', () => {
  beforeAll(async () => {
    ({ shell, context, page } = await openEditor(chromiumPath!, pageErrors));
    runDataset(10);
    runDataset(12);
    // Forget the first run: its artifact is now used by no run in the history.
    const runs = readdirSync(path.join(shell.home, 'runs')).sort();
    rmSync(path.join(shell.home, 'runs', runs[0]!), { recursive: true, force: true });
  }, 180_000);

  afterAll(async () => closeEditor(shell, context), 30_000);

  test('size and unused artifacts shown; Clean up removes the unused one', async () => {
    await page.locator('[data-testid="tab-runs"]').click();
    const bar = page.locator('[data-testid="store-bar"]');
    await bar.waitFor();
    expect(await page.locator('[data-testid="store-size"]').textContent()).toMatch(/^\d+(\.\d)? (B|KiB|MiB) in 2 artifacts$/);
    expect(await bar.textContent()).toMatch(/1 used by no run in the history/);
    await shot(page, 'store-01-runs-tab');
    await page.locator('[data-testid="store-clean"]').click();
    await page.waitForFunction(() => /in 1 artifact$/.test(document.querySelector('[data-testid="store-size"]')?.textContent ?? ''));
    expect(await bar.textContent()).toMatch(/every artifact belongs to a run in the history/);
    expect(await page.locator('[data-testid="toast-success"]').first().textContent()).toMatch(/Removed 1 artifact/);
    expect(readdirSync(path.join(shell.home, 'artifacts')).filter((d) => !d.startsWith('.'))).toHaveLength(1);
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
