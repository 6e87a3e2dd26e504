/**
 * e2e harness: starts the real web shell (`loram serve`, the real engine) in a child process and drives Debian's
 * chromium through playwright-core. Never downloads a browser: when /usr/bin/chromium (or LORAM_CHROMIUM) is
 * missing, the tests are skipped with the reason printed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const ARTIFACTS = path.join(REPO, 'tests/artifacts/e2e');

/** LORAM_CHROMIUM names the browser to use (only that one); else Debian's /usr/bin/chromium. */
export function findChromium(): string | null {
  const candidates = process.env.LORAM_CHROMIUM ? [process.env.LORAM_CHROMIUM] : ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((c) => existsSync(c)) ?? null;
}

export interface Shell {
  url: string;
  origin: string;
  work: string;
  home: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `loram serve --port 0` in a fresh working folder with a fresh LORAM_HOME; `env` adds to its environment. */
export async function startShell(env: NodeJS.ProcessEnv = {}): Promise<Shell> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'loram-e2e-'));
  const home = path.join(work, '.home');
  const child = spawn(process.execPath, [path.join(REPO, 'bin/loram.mjs'), 'serve', '--port', '0', '--home', home], {
    cwd: work,
    env: { ...process.env, ...env, LORAM_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += String(d)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`loram serve did not print its URL within 120 s\n${out}\n${err}`)), 120_000);
    child.stdout!.on('data', (d) => {
      out += String(d);
      const m = /http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
    child.on('exit', (code) => reject(new Error(`loram serve exited (${code})\n${out}\n${err}`)));
  });
  return {
    url,
    origin: new URL(url).origin,
    work,
    home,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        child.kill('SIGINT');
      }),
  };
}

export async function launch(chromiumPath: string): Promise<{ context: BrowserContext; page: Page }> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(path.join(os.tmpdir(), 'loram-chromium-'));
  // A fresh --user-data-dir (playwright's userDataDir); headless adds --headless.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    viewport: { width: 1440, height: 900 },
    colorScheme: 'dark',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}

export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, `${name}.png`);
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: artifactPath(name) });
}

/** The web shell on its own LORAM_HOME and chromium on its page, the editor loaded; page errors go to `pageErrors`. */
export async function openEditor(chromiumPath: string, pageErrors: string[], viewport?: { width: number; height: number }, env?: NodeJS.ProcessEnv): Promise<{ shell: Shell; context: BrowserContext; page: Page }> {
  const shell = await startShell(env);
  const { context, page } = await launch(chromiumPath);
  if (viewport) await page.setViewportSize(viewport);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(shell.url);
  await page.locator('[data-testid="palette-Load"]').waitFor({ timeout: 30_000 });
  return { shell, context, page };
}

export async function closeEditor(shell: Shell | undefined, context: BrowserContext | undefined): Promise<void> {
  await context?.close().catch(() => undefined);
  await shell?.stop();
}

/** Wait until the Chart.js chart under `selector` has drawn its axes (canvas text, read through the page's chart probe). */
export async function waitForChart(page: Page, selector: string, timeout = 20_000): Promise<void> {
  await page.waitForFunction(
    (sel) => {
      const c = document.querySelector(`${sel} canvas`);
      const probe = (window as unknown as { __loramChartText?: (c: Element) => unknown[] }).__loramChartText;
      return !!c && !!probe && probe(c).length > 0;
    },
    selector,
    { timeout },
  );
}
