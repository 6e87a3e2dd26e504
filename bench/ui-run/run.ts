/**
 * A UI run against a headless one: the quickstart recipe from an empty LORAM_HOME, once with `loram run` and once
 * from the web shell (`loram serve` + Debian's chromium driven by playwright-core: open the recipe, press Run, wait
 * for "finished"). Reports wall time, the engine's own run duration, the CPU seconds of the server process and of
 * the page's main thread (Chrome's Performance metrics), and the events the page received.
 *
 *   npx tsx bench/ui-run/run.ts [--rounds N] [--recipe graphs/quickstart.json] [--only ui|headless]
 *
 * Writes bench/results/ui-run.json. Each round runs UI then headless, each on a fresh LORAM_HOME.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findChromium, launch, REPO, startShell } from '../../tests/e2e/harness';
import { printTable, writeResults } from '../common';

interface Measure {
  mode: 'headless' | 'ui';
  wallS: number;
  engineS: number | null;
  serverCpuS: number;
  pageCpuS: number | null;
  /** Of the page's main thread: script, style and layout seconds (the rest is paint, parsing, idle tasks). */
  pageScriptS: number | null;
  pageStyleLayoutS: number | null;
  /** Every chromium process (browser, renderer, GPU/compositor) together. */
  browserCpuS: number | null;
  events: number | null;
  eventKiB: number | null;
}

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : dflt;
};
const RECIPE = path.resolve(REPO, opt('recipe', 'graphs/quickstart.json'));
const ROUNDS = Number(opt('rounds', '1'));
const ONLY = opt('only', '');
const TICK = 100; // clock ticks per second on Linux

/** CPU seconds (user + system) of a live process, its threads included (the engine's worker is a thread). */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14])) / TICK;
}

/** CPU seconds of every descendant of `root` except the `skip` subtree (chromium's processes under this one). */
function treeCpuSeconds(root: number, skip: number): number {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(f.slice(f.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const under = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) {
      if (p === skip) return false;
      if (p === root) return true;
    }
    return false;
  };
  let sum = 0;
  for (const pid of parent.keys()) {
    if (pid === skip || !under(pid)) continue;
    try {
      sum += cpuSeconds(pid);
    } catch {
      // gone meanwhile
    }
  }
  return sum;
}

/** The engine's duration of the newest run in a LORAM_HOME (its events.jsonl's run-finished). */
function engineSeconds(home: string): number | null {
  const runs = path.join(home, 'runs');
  const dirs = readdirSync(runs).sort();
  const last = dirs[dirs.length - 1];
  if (!last) return null;
  const lines = readFileSync(path.join(runs, last, 'events.jsonl'), 'utf8').trim().split('\n');
  const end = JSON.parse(lines[lines.length - 1]!) as { type: string; durationMs?: number };
  return end.type === 'run-finished' && end.durationMs !== undefined ? end.durationMs / 1000 : null;
}

async function headless(): Promise<Measure> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'loram-bench-home-'));
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'TIME %e %U %S', process.execPath, path.join(REPO, 'bin/loram.mjs'), 'run', RECIPE], { cwd: REPO, env: { ...process.env, LORAM_HOME: home }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += String(d)));
    child.on('exit', (code) => (code === 0 ? resolve(err) : reject(new Error(`loram run exited ${code}\n${err}`))));
  });
  const [wall, user, sys] = /TIME ([\d.]+) ([\d.]+) ([\d.]+)/.exec(out)!.slice(1).map(Number) as [number, number, number];
  return { mode: 'headless', wallS: wall, engineS: engineSeconds(home), serverCpuS: user + sys, pageCpuS: null, pageScriptS: null, pageStyleLayoutS: null, browserCpuS: null, events: null, eventKiB: null };
}

async function ui(chromium: string): Promise<Measure> {
  const shell = await startShell();
  const { context, page } = await launch(chromium);
  try {
    await page.goto(shell.url);
    await page.locator('[data-testid="palette-Load"]').waitFor({ timeout: 60_000 });
    await page.evaluate((p) => (window as unknown as { __loram: { open(p: string): Promise<boolean> } }).__loram.open(p), RECIPE);
    // Count what the page receives, as the editor does (one listener on the engine's event stream).
    await page.evaluate(() => {
      const w = window as unknown as { __events: { n: number; bytes: number }; __loram: { engine: { subscribe(l: (e: unknown) => void): void } } };
      w.__events = { n: 0, bytes: 0 };
      w.__loram.engine.subscribe((e) => {
        w.__events.n++;
        w.__events.bytes += JSON.stringify(e).length;
      });
    });
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
    const server0 = cpuSeconds(shell.child.pid!);
    const browser0 = treeCpuSeconds(process.pid, shell.child.pid!);
    const page0 = await metrics();
    const t0 = performance.now();
    await page.locator('[data-testid="btn-run"]').click();
    await page.waitForFunction(() => /finished|failed|cancelled/.test(document.querySelector('[data-testid="run-status"]')?.textContent ?? ''), null, { timeout: 600_000, polling: 100 });
    const wallS = (performance.now() - t0) / 1000;
    const status = await page.locator('[data-testid="run-status"]').textContent();
    if (status !== 'finished') throw new Error(`the UI run ended ${status}`);
    const serverCpuS = cpuSeconds(shell.child.pid!) - server0;
    const browserCpuS = treeCpuSeconds(process.pid, shell.child.pid!) - browser0;
    const page1 = await metrics();
    const d = (k: string) => (page1[k] ?? 0) - (page0[k] ?? 0);
    const ev = await page.evaluate(() => (window as unknown as { __events: { n: number; bytes: number } }).__events);
    return { mode: 'ui', wallS, engineS: engineSeconds(shell.home), serverCpuS, pageCpuS: d('TaskDuration'), pageScriptS: d('ScriptDuration'), pageStyleLayoutS: d('RecalcStyleDuration') + d('LayoutDuration'), browserCpuS, events: ev.n, eventKiB: Math.round(ev.bytes / 1024) };
  } finally {
    await context.close().catch(() => undefined);
    await shell.stop();
  }
}

async function main(): Promise<void> {
  const chromium = findChromium();
  if (!chromium) throw new Error('no chromium (/usr/bin/chromium or LORAM_CHROMIUM)');
  const results: Measure[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (ONLY !== 'headless') results.push(await ui(chromium));
    if (ONLY !== 'ui') results.push(await headless());
  }
  const fmt = (v: number | null, d = 2) => (v === null ? '' : v.toFixed(d));
  printTable(results.map((m) => ({ mode: m.mode, 'wall s': fmt(m.wallS), 'engine s': fmt(m.engineS), 'server/CLI CPU s': fmt(m.serverCpuS), 'page CPU s': fmt(m.pageCpuS), 'script s': fmt(m.pageScriptS), 'style+layout s': fmt(m.pageStyleLayoutS), 'chromium CPU s': fmt(m.browserCpuS), events: m.events ?? '', 'event KiB': m.eventKiB ?? '' })));
  const walls = (mode: Measure['mode']) => results.filter((m) => m.mode === mode).map((m) => m.wallS);
  const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
  const ratio = mean(walls('ui')) / mean(walls('headless'));
  // On a shared machine another process's load lands on one run or the other: the per-round ratios and the ratio
  // of the best runs say more than the mean alone.
  const perRound = walls('ui').map((u, i) => u / walls('headless')[i]!);
  const bestOf = Math.min(...walls('ui')) / Math.min(...walls('headless'));
  console.log(`\nUI / headless wall time: mean ${ratio.toFixed(3)}, per round ${perRound.map((r) => r.toFixed(3)).join(', ')}, best of each ${bestOf.toFixed(3)} (goal ≤ 1.10)`);
  if (ONLY) return; // a one-sided diagnostic run does not replace the comparison
  writeResults('ui-run', { recipe: path.relative(REPO, RECIPE), machine: { cpus: os.cpus().length, loadavg: os.loadavg() }, runs: results, uiOverHeadless: ratio, uiOverHeadlessPerRound: perRound, uiOverHeadlessBestOf: bestOf });
}

await main();
