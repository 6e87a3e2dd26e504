/**
 * A run on a queue of workers from the editor, in Debian's chromium against the web shell: redis-server (Debian's
 * package) with a password, an S3 store (s3rver), one `loram worker`, and `loram serve` with LORAM_QUEUE and
 * LORAM_STORE. "Run on: workers" in the toolbar runs graphs/quickstart.json there; Results says where the run
 * computed and which worker computed each node; the queue's password never reaches the page.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { spawnWorker } from '../helpers/loram-worker';
import { redisServerPath, startRedis, type RedisServer } from '../helpers/redis-server';
import { startS3Server, type S3TestServer } from '../helpers/s3-server';
import { closeEditor, findChromium, openEditor, REPO, shot, type Shell } from './harness';

const chromiumPath = findChromium();
const haveRedis = redisServerPath() !== null;
if (!chromiumPath) console.warn(`workers e2e test skipped: no chromium at ${process.env.LORAM_CHROMIUM || '/usr/bin/chromium'} (apt-get install -y chromium; a browser is never downloaded)`);
if (!haveRedis) console.warn('workers e2e test skipped: redis-server is not installed (apt-get install -y redis-server; .ci/run installs it)');
const describeE2E = chromiumPath && haveRedis ? describe : describe.skip;

let shell: Shell | undefined;
let context: BrowserContext | undefined;
let page: Page;
let redis: RedisServer | null = null;
let s3: S3TestServer | undefined;
let worker: { proc: ChildProcess; out: string } | undefined;
let tmp: string;
const pageErrors: string[] = [];

/** `loram worker --name w1` on its own LORAM_HOME; resolves once it takes jobs. */
function startWorker(queue: string, store: string) {
  return spawnWorker({ queue, store, name: 'w1', env: { ...process.env, ...s3!.env, LORAM_HOME: path.join(tmp, 'w1') } });
}

describeE2E('Run on: workers (web shell, chromium, redis, s3rver, one worker)', () => {
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'loram-e2e-workers-'));
    redis = await startRedis();
    if (!redis) throw new Error('redis-server vanished between the check and the start');
    s3 = await startS3Server();
    const store = s3.storeUrl('e2e');
    worker = await startWorker(redis.url, store);
    ({ shell, context, page } = await openEditor(chromiumPath!, pageErrors, undefined, { ...s3.env, LORAM_QUEUE: redis.url, LORAM_STORE: store }));
  }, 180_000);

  afterAll(async () => {
    await closeEditor(shell, context);
    worker?.proc.kill('SIGKILL');
    await redis?.stop();
    await s3?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  test('the quickstart on the worker: every node finishes, each computed one names w1', async () => {
    const picker = page.locator('[data-testid="run-target"]');
    await picker.waitFor();
    expect(await picker.locator('option').allTextContents()).toEqual(['this machine', expect.stringMatching(/^workers \(redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\)$/)]);
    await page.evaluate((p) => (window as unknown as { __loram: { open(p: string): Promise<boolean> } }).__loram.open(p), path.join(REPO, 'graphs/quickstart.json'));
    await page.locator('.react-flow__node[data-id="train"]').waitFor();
    await picker.selectOption('workers');
    await page.locator('[data-testid="btn-run"]').click();
    await page.waitForFunction(() => /finished|failed|cancelled/.test(document.querySelector('[data-testid="run-status"]')?.textContent ?? ''), null, { timeout: 240_000 });
    const status = await page.locator('[data-testid="run-status"]').textContent();
    if (status !== 'finished') throw new Error(`the run ended ${status}:\n${await page.locator('[data-testid="log"]').textContent().catch(() => '')}\n${worker!.out.slice(-3000)}`);

    await page.locator('[data-testid="tab-results"]').click();
    expect(await page.locator('[data-testid="run-place"]').textContent()).toMatch(/on workers redis:\/\/:\*\*\*@127\.0\.0\.1:\d+/);
    const workers = await page.locator('[data-testid="node-worker"]').allTextContents();
    const statuses = await page.locator('.node-results .node-status').allTextContents();
    expect(statuses.length).toBeGreaterThan(3);
    expect(statuses.every((s) => s === 'done' || s === 'cached')).toBe(true);
    // Every node this run computed was computed by the one worker.
    statuses.forEach((s, i) => expect({ s, worker: workers[i] }).toEqual({ s, worker: s === 'done' ? 'w1' : '' }));
    expect(statuses).toContain('done');
    await shot(page, 'workers-01-run-on-workers');
    await page.locator('[data-testid="node-results"]').scrollIntoViewIfNeeded();
    await shot(page, 'workers-02-node-workers');

    // The run history keeps where the run computed.
    await page.locator('[data-testid="tab-runs"]').click();
    expect(await page.locator('[data-testid="runs"] .worker-tag').first().getAttribute('title')).toMatch(/^computed on workers redis:\/\/:\*\*\*@127\.0\.0\.1:\d+$/);

    // The queue's password stays on the server: not in the page, not in the run history it shows.
    expect(await page.content()).not.toContain(redis!.password);
    expect(pageErrors).toEqual([]);
  }, 300_000);
});
