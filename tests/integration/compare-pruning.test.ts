/**
 * graphs/compare-pruning.json is a valid recipe (`loram validate`, exit 0) of at most 17 nodes whose sweeps expand
 * to the shape the report expects: every LoRAM branch evaluated on the ORIGINAL large model, the ablations, the
 * baselines, one Compare gathering 17 branches; to the very signatures of the 52-node recipe it replaces, so the
 * committed comparison (docs/compare-pruning) is reused from the cache and reproduces; and to a task leg per
 * branch but the w/o-alignment ablations (SFT on the arithmetic task from the same model, scored by exact match). A cut-down run (three variants,
 * a few steps) checks that exact match reaches the Compare table and the report, in the branch's row.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../../src/engine/engine';
import { renderMarkdown } from '../../src/report/markdown';
import type { MetricsFile, NodeRunSummary } from '../../src/shared';
import { buildReportModel } from '../../src/report/build';
import { RECIPE_PATH as HANDWRITTEN, syntheticRun } from '../unit/report/fixture';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'bin/loram.mjs');
const RECIPE = path.join(ROOT, 'graphs/compare-pruning.json');

function loram(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A models folder whose large and small members are stand-ins with the files validation checks. */
function stubModels(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loram-models-'));
  const small = path.join(ROOT, 'models/loram-small');
  for (const m of ['loram-large', 'loram-small']) {
    mkdirSync(path.join(dir, m));
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors']) if (existsSync(path.join(small, f))) copyFileSync(path.join(small, f), path.join(dir, m, f));
  }
  return dir;
}

describe('graphs/compare-pruning.json', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'loram-cmp-home-'));

  test('loram validate accepts it (exit 0, no errors)', async () => {
    const r = await loram(['validate', RECIPE, '--json'], { LORAM_HOME: home, LORAM_MODELS_DIR: stubModels() });
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, branches: 17, errors: [] });
    expect(r.code).toBe(0);
  });

  const built = existsSync(path.join(ROOT, 'models/loram-large/config.json')) && existsSync(path.join(ROOT, 'models/loram-small/config.json'));
  (built ? test : test.skip)('and with the built-in models of this checkout', async () => {
    const r = await loram(['validate', RECIPE], { LORAM_HOME: home });
    expect(r.stdout).toMatch(/valid/);
    expect(r.code).toBe(0);
  });

  (built ? test : test.skip)('expands to the signatures of the hand-written 52-node recipe (only the Compare differs: it names its inputs), plus the task legs', async () => {
    const engine = new Engine({ home });
    const sigs = async (file: string) => {
      const st = await engine.cacheStatus(JSON.parse(readFileSync(file, 'utf8')), { baseDir: path.dirname(file) });
      return new Map(Object.entries(st.nodes).map(([id, n]) => [n.signature, id]));
    };
    const [swept, hand] = [await sigs(RECIPE), await sigs(HANDWRITTEN)];
    await engine.close();
    // The perplexity comparison is untouched: every node of the hand-written recipe but its Compare is reused.
    expect([...hand.keys()].filter((s) => !swept.has(s)).map((s) => hand.get(s))).toEqual(['compare']);
    const added = [...swept].filter(([s]) => !hand.has(s)).map(([, id]) => id.split('.')[0]);
    expect(new Set(added)).toEqual(new Set(['compare', 'task', 'train_task', 'recover_task', 'eval_task', 'eval_task_norec']));
  });

  test('has at most 17 nodes, in groups, and expands to every branch the report needs', async () => {
    const written = JSON.parse(readFileSync(RECIPE, 'utf8')) as { nodes: { group?: string }[]; groups: unknown[] };
    expect(written.nodes.length).toBeLessThanOrEqual(17);
    expect(written.groups.length).toBeGreaterThan(0);
    expect(written.nodes.every((n) => n.group)).toBe(true);
    const recipe = new Engine({ home }).analyze(written, { checkFiles: false }).recipe!;
    const m = await buildReportModel(syntheticRun({ ppl: {} }, recipe));
    const roles = m.branches.map((b) => b.role);
    const count = (r: string) => roles.filter((x) => x === r).length;
    expect(count('loram')).toBe(5);
    expect(count('no-alignment')).toBe(4);
    expect(count('no-recovery')).toBe(4);
    for (const r of ['untuned-large', 'lora-large', 'lora-small']) expect(count(r)).toBe(1);
    expect(m.branches.filter((b) => b.role === 'loram').map((b) => b.short).sort()).toEqual(['LoRAM-Rand', 'LoRAM-Semi', 'LoRAM-Stru', 'LoRAM-Unst', 'QLoRAM-Stru']);
    // Every LoRAM and no-alignment branch evaluates the recovered adapter on the (unpruned) large model.
    const evalModel = (id: string) => recipe.nodes.find((n) => n.id === recipe.edges.find((e) => e.to.node === id && e.to.port === 'model')!.from.node)!;
    for (const b of m.branches.filter((x) => x.role === 'loram' || x.role === 'no-alignment')) {
      expect([b.node, evalModel(b.node).type, evalModel(b.node).params.source]).toEqual([b.node, 'Load', 'builtin:large']);
    }
    // One calibration set, one Compare gathering every Evaluate.
    const calib = new Set(recipe.edges.filter((e) => e.to.port === 'calibration').map((e) => e.from.node));
    expect([...calib]).toEqual(['general']);
    const compare = recipe.nodes.filter((n) => n.type === 'Compare');
    expect(compare).toHaveLength(1);
    expect(recipe.edges.filter((e) => e.to.node === compare[0]!.id).length).toBe(recipe.nodes.filter((n) => n.type === 'Evaluate').length);
    // Every branch's Evaluate reads the held-out SotU text; the LoRAM branches and the baselines also the
    // multiple-choice set (the ablations are judged on perplexity, as in the paper's Fig. 6).
    for (const b of m.branches) expect([b.node, recipe.edges.some((x) => x.to.node === b.node && x.to.port === 'dataset' && x.from.node === 'domain')]).toEqual([b.node, true]);
    // Every branch but the w/o-alignment ablations (judged on perplexity, as for multiple choice) has a task leg: an
    // Evaluate of the arithmetic task whose adapter (if any) was trained on the task from the very model node the
    // branch's SotU adapter was trained on.
    const into = (id: string, port: string) => recipe.edges.find((e) => e.to.node === id && e.to.port === port)?.from.node;
    const trainer = (evaluate: string) => {
      const a = into(evaluate, 'adapter');
      return a && a.startsWith('recover') ? into(a, 'adapter') : a;
    };
    expect(m.branches.filter((b) => !b.downstream).map((b) => b.role)).toEqual(Array(4).fill('no-alignment'));
    for (const b of m.branches.filter((x) => x.downstream)) {
      const leg = b.downstream!.node;
      expect([leg, into(leg, 'dataset'), into(leg, 'generation'), into(leg, 'model')]).toEqual([leg, 'task', 'task', into(b.node, 'model')]);
      const [t, tl] = [trainer(b.node), trainer(leg)];
      expect([b.node, tl && into(tl, 'dataset'), tl && into(tl, 'model')]).toEqual([b.node, t ? 'task' : undefined, t && into(t, 'model')]);
    }
    expect(recipe.nodes.filter((n) => n.type === 'Evaluate')).toHaveLength(17 + 13);
    for (const b of m.branches.filter((x) => x.role !== 'no-alignment' && x.role !== 'no-recovery')) {
      expect([b.node, recipe.edges.some((x) => x.to.node === b.node && x.to.port === 'choices' && x.from.node === 'choices')]).toEqual([b.node, true]);
    }
  });

  (built ? test : test.skip)('cut to three variants and a few steps, it runs: exact match reaches the Compare table and the report, in each branch\'s row', async () => {
    const engine = new Engine({ home: mkdtempSync(path.join(os.tmpdir(), 'loram-cmp-run-')) });
    try {
      const s = await engine.run(cutDown(JSON.parse(readFileSync(RECIPE, 'utf8'))), { baseDir: path.dirname(RECIPE) });
      if (!s.ok) throw new Error(JSON.stringify(s.errors));
      const end = await engine.wait(s.runId);
      expect(end.type === 'run-finished' && end.ok).toBe(true);
      const runDir = path.join(engine.home, 'runs', s.runId);
      const nodes = JSON.parse(readFileSync(path.join(runDir, 'metrics.json'), 'utf8')) as Record<string, NodeRunSummary>;
      const loc = nodes.compare!.outputs!.metrics!.location as { kind: 'store'; artifact: string; path: string };
      const table = (JSON.parse(readFileSync(path.join(engine.home, 'artifacts', loc.artifact, loc.path), 'utf8')) as MetricsFile).table!;
      // Four branches (the SotU and task Evaluates of each in one row), each with perplexity and exact match.
      expect(table.rows.map((r) => r.label)).toEqual(['large, untuned', 'small + LoRA', 'LoRAM-Stru', 'LoRAM-Stru w/o recovery (pruned model + its adapter)']);
      for (const r of table.rows) expect([r.label, typeof r.values.perplexity, typeof r.values.exactMatch, typeof r.values.answerPerplexity]).toEqual([r.label, 'number', 'number', 'number']);
      const m = await engine.reportModel(s.runId);
      expect(m.branches.map((b) => [b.short, b.exactMatch === table.rows.find((r) => r.label === b.label)!.values.exactMatch])).toEqual([
        ['large (untuned)', true],
        ['small + LoRA', true],
        ['LoRAM-Stru', true],
        ['LoRAM-Stru w/o recovery', true],
      ]);
      expect(m.verdict.standings.find((x) => x.metric === 'exactMatch')!.winner).not.toBeNull();
      expect(renderMarkdown(m)).toContain('## Downstream task: exact match');
    } finally {
      await engine.close();
    }
  }, 900_000);
});

/** The recipe cut to three variants (large untuned, small + LoRA, LoRAM-Stru, with its no-recovery ablation), few steps, small sets. */
function cutDown(r: { nodes: { id: string; type: string; params: Record<string, unknown>; sweep?: { axis?: string; values: Record<string, unknown[]>; labels?: string[] } }[] }) {
  const keep = [0, 2, 5];
  for (const n of r.nodes) {
    const sw = n.sweep;
    if (sw?.axis === 'variant') {
      for (const k of Object.keys(sw.values)) sw.values[k] = keep.map((i) => sw.values[k]![i]);
      if (sw.labels) sw.labels = keep.map((i) => sw.labels![i]!);
    }
    if (n.type === 'Align' || n.type === 'LoRA-Train') Object.assign(n.params, { steps: 3, warmupSteps: 1 });
    if (n.type === 'Prune') Object.assign(sw!.values, { calibrationSamples: keep.map(() => 4), calibrationTokens: keep.map(() => 32) });
    if (n.type === 'Evaluate') Object.assign(n.params, n.id.startsWith('eval_task') ? { maxItems: 6 } : { maxTokens: 300 });
  }
  Object.assign(r.nodes.find((n) => n.id === 'choices')!.params, { mcMaxItems: 8 });
  Object.assign(r.nodes.find((n) => n.id === 'general')!.params, { maxDocuments: 20 });
  return r;
}
