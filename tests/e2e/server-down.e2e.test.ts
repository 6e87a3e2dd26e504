/**
 * The server going away, as a newcomer meets it (Ctrl+C in the terminal of `loram serve`): the editor says so in a
 * banner, with how to start it again and where the unsaved work is — not only a header pill turning red.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { closeEditor, findChromium, openEditor, shot, type Shell } from './harness';

const chromiumPath = findChromium();
const describeE2E = chromiumPath ? describe : describe.skip;

let shell: Shell;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

type Snap = { dirty: boolean; keptInRecovery: unknown; doc: unknown };
const snapshot = () => page.evaluate(() => {
  const s = (window as unknown as { __loram: { getSnapshot(): Snap } }).__loram.getSnapshot();
  return { dirty: s.dirty, kept: s.keptInRecovery !== null && s.keptInRecovery === s.doc };
});

describeE2E('the server stops (web shell, chromium)', () => {
  beforeAll(async () => {
    ({ shell, context, page } = await openEditor(chromiumPath!, pageErrors));
  }, 180_000);

  afterAll(async () => closeEditor(shell, context), 30_000);

  test('a banner says the server stopped, how to restart it, and that the unsaved work is in the recovery file', async () => {
    expect(await page.locator('[data-testid="server-down-banner"]').count()).toBe(0);
    await page.dragAndDrop('[data-testid="palette-Load"]', '.react-flow__pane', { targetPosition: { x: 300, y: 200 } });
    // The recovery file is written a moment after the edit.
    await page.waitForFunction(() => {
      const s = (window as unknown as { __loram: { getSnapshot(): Snap } }).__loram.getSnapshot();
      return s.dirty && s.keptInRecovery === s.doc;
    });
    await shell.stop();
    const banner = page.locator('[data-testid="server-down-banner"]');
    await banner.waitFor({ timeout: 15_000 });
    const text = (await banner.textContent())!;
    expect(text).toContain('The LoRAM Studio server stopped');
    expect(text).toContain('npx loram serve');
    expect(text).toContain('Your unsaved changes were kept in the recovery file');
    await shot(page, 'server-01-stopped-banner');

    // An edit made now lives only in the page: the banner says so.
    await page.dragAndDrop('[data-testid="palette-Prune"]', '.react-flow__pane', { targetPosition: { x: 600, y: 200 } });
    await page.waitForFunction(() => /only in this tab/.test(document.querySelector('[data-testid="server-down-banner"]')?.textContent ?? ''), null, { timeout: 10_000 });
    expect(await snapshot()).toEqual({ dirty: true, kept: false });
  }, 60_000);
});
