/**
 * `loram report`: a run of the run history → report.md (tables + Mermaid charts), report.html (self-contained,
 * Chart.js inlined), report.json (the model both are rendered from) and recipe.json (the snapshot that ran).
 */
import { promises as fsp } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loramHome } from '../engine/home';
import { canonicalJson, type Location, type NodeRunSummary, type Recipe } from '../shared';
import { buildReportModel, type RunInput } from './build';
import { renderHtml } from './html';
import { renderMarkdown } from './markdown';
import type { ReportModel } from './types';

export type { ReportModel } from './types';
export { buildReportModel } from './build';
export { computeClaims } from './claims';
export { renderMarkdown } from './markdown';
export { renderHtml } from './html';

export class ReportError extends Error {}

async function exists(p: string): Promise<boolean> {
  return fsp.access(p).then(() => true, () => false);
}

/** A run id (under LORAM_HOME/runs), "latest", or a run folder → the run folder and the home it belongs to. */
export async function resolveRun(ref: string, home = loramHome()): Promise<{ runDir: string; home: string; runId: string }> {
  const asDir = path.resolve(ref);
  if (await exists(path.join(asDir, 'recipe.json'))) {
    const parent = path.dirname(asDir);
    const runHome = path.basename(parent) === 'runs' && (await exists(path.join(path.dirname(parent), 'artifacts'))) ? path.dirname(parent) : home;
    return { runDir: asDir, home: runHome, runId: path.basename(asDir) };
  }
  const runs = path.join(home, 'runs');
  if (ref === 'latest') {
    const names = (await fsp.readdir(runs).catch(() => [] as string[])).filter((n) => !n.startsWith('.')).sort();
    if (!names.length) throw new ReportError(`no runs in ${runs}`);
    return { runDir: path.join(runs, names[names.length - 1]!), home, runId: names[names.length - 1]! };
  }
  if (!/^[0-9A-Za-z_.-]+$/.test(ref) || ref.startsWith('.')) throw new ReportError(`"${ref}" is neither a run folder nor a run id`);
  const dir = path.join(runs, ref);
  if (!(await exists(path.join(dir, 'recipe.json')))) throw new ReportError(`no run "${ref}" in ${runs} (and no run folder at ${asDir})`);
  return { runDir: dir, home, runId: ref };
}

/** Read a run folder into the builder's input (artifacts are read lazily from the home's store). */
export async function loadRunInput(runDir: string, home: string, runId: string): Promise<RunInput> {
  const readJson = async <T>(f: string): Promise<T | null> => {
    try {
      return JSON.parse(await fsp.readFile(f, 'utf8')) as T;
    } catch {
      return null;
    }
  };
  const recipe = await readJson<Recipe>(path.join(runDir, 'recipe.json'));
  if (!recipe) throw new ReportError(`${runDir}/recipe.json is missing or not JSON`);
  const summary = (await readJson<RunInput['summary']>(path.join(runDir, 'run.json'))) ?? { status: 'unknown' };
  let nodes = await readJson<Record<string, NodeRunSummary>>(path.join(runDir, 'metrics.json'));
  if (!nodes) {
    // A run still going (or killed): rebuild what is known from its events.
    nodes = {};
    const text = await fsp.readFile(path.join(runDir, 'events.jsonl'), 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const e = JSON.parse(line) as { type: string; node?: string; nodeType?: string; signature?: string; outputs?: never; metrics?: never; durationMs?: number };
        if (!e.node) continue;
        if (e.type === 'node-finished' || e.type === 'node-cached') nodes[e.node] = { type: e.nodeType ?? '', status: e.type === 'node-cached' ? 'cached' : 'done', signature: e.signature, outputs: e.outputs, metrics: e.metrics, ...(e.durationMs !== undefined ? { durationMs: e.durationMs } : {}) };
        else if (e.type === 'node-failed') nodes[e.node] = { type: e.nodeType ?? '', status: 'failed' };
      } catch {
        // a line cut short
      }
    }
  }
  const artifacts = path.join(home, 'artifacts');
  const locate = (loc: Location, rel = ''): string | null => {
    if (loc.kind === 'external') return path.join(loc.path, rel);
    if (!/^[0-9a-f]{16,128}$/.test(loc.artifact)) return null;
    return path.join(artifacts, loc.artifact, loc.path, rel);
  };
  return {
    runId,
    summary,
    recipe,
    nodes,
    readText: async (loc, rel) => {
      const f = locate(loc, rel);
      return f ? fsp.readFile(f, 'utf8').catch(() => null) : null;
    },
    artifactDurationMs: async (sig) => {
      if (!/^[0-9a-f]{16,128}$/.test(sig)) return null;
      const rec = await readJson<{ meta?: { durationMs?: number } }>(path.join(artifacts, sig, 'outputs.json'));
      return typeof rec?.meta?.durationMs === 'number' ? rec.meta.durationMs : null;
    },
  };
}

/** Relative to the working directory when inside it, else absolute. */
export function shortPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

function checkoutRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** graphs/<file>.json of the checkout whose recipe equals the snapshot (so the reproduce command names it). */
async function findRecipeFile(recipe: Recipe): Promise<string | null> {
  const root = checkoutRoot();
  const dir = path.join(root, 'graphs');
  const { parseRecipe, sweptFrom } = await import('../shared');
  const want = canonicalJson(sweptFrom(recipe));
  for (const f of (await fsp.readdir(dir).catch(() => [] as string[])).filter((x) => x.endsWith('.json')).sort()) {
    try {
      const r = parseRecipe(JSON.parse(await fsp.readFile(path.join(dir, f), 'utf8')));
      if (r.recipe && canonicalJson(r.recipe) === want) return shortPath(path.join(dir, f));
    } catch {
      // not a recipe
    }
  }
  return null;
}

/** The checkout's commit, read from .git without running git. */
async function readCommit(): Promise<string | null> {
  const git = path.join(checkoutRoot(), '.git');
  try {
    const head = (await fsp.readFile(path.join(git, 'HEAD'), 'utf8')).trim();
    if (!head.startsWith('ref: ')) return head.slice(0, 12);
    const ref = head.slice(5);
    const direct = await fsp.readFile(path.join(git, ref), 'utf8').catch(() => null);
    if (direct) return direct.trim().slice(0, 12);
    const packed = await fsp.readFile(path.join(git, 'packed-refs'), 'utf8').catch(() => '');
    const line = packed.split('\n').find((l) => l.endsWith(` ${ref}`));
    return line ? line.slice(0, 12) : null;
  } catch {
    return null;
  }
}

/** Chart.js's UMD build (self-contained), to inline into the HTML. */
export async function chartJsSource(): Promise<string> {
  const req = createRequire(import.meta.url);
  const main = req.resolve('chart.js');
  return fsp.readFile(path.join(path.dirname(main), 'chart.umd.min.js'), 'utf8');
}

/** The report model of a run in `home` (what the editor's Compare view shows). */
export async function reportOfRun(runId: string, home: string): Promise<ReportModel> {
  const r = await resolveRun(runId, home);
  const input = await loadRunInput(r.runDir, r.home, r.runId);
  return buildReportModel(input, { recipeFile: await findRecipeFile(input.recipe), outDirForCommand: shortPath(path.join(r.runDir, 'report')), commit: await readCommit() });
}

/** Write a run's report into its folder (for the editor's "Open the full report"). */
export async function writeRunReport(runId: string, home: string): Promise<{ dir: string; htmlPath: string; html: string }> {
  const r = await writeReport(runId, { home });
  return { dir: r.outDir, htmlPath: r.files.html, html: await fsp.readFile(r.files.html, 'utf8') };
}

export interface WriteReportResult {
  outDir: string;
  files: { markdown: string; html: string; json: string; recipe: string };
  model: ReportModel;
}

export async function writeReport(ref: string, opts: { outDir?: string; home?: string } = {}): Promise<WriteReportResult> {
  const { runDir, home, runId } = await resolveRun(ref, opts.home);
  const input = await loadRunInput(runDir, home, runId);
  const outDir = path.resolve(opts.outDir ?? path.join(runDir, 'report'));
  const model = await buildReportModel(input, {
    recipeFile: await findRecipeFile(input.recipe),
    outDirForCommand: shortPath(outDir),
    commit: await readCommit(),
  });
  await fsp.mkdir(outDir, { recursive: true });
  const { atomicWriteFile } = await import('../loram/io/atomic');
  const { serializeRecipe } = await import('../shared');
  const files = {
    markdown: path.join(outDir, 'report.md'),
    html: path.join(outDir, 'report.html'),
    json: path.join(outDir, 'report.json'),
    recipe: path.join(outDir, 'recipe.json'),
  };
  await atomicWriteFile(files.recipe, serializeRecipe(input.recipe));
  await atomicWriteFile(files.json, JSON.stringify(model, null, 2) + '\n');
  await atomicWriteFile(files.markdown, renderMarkdown(model));
  await atomicWriteFile(files.html, renderHtml(model, await chartJsSource()));
  return { outDir, files, model };
}
