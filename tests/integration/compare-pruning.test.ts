/**
 * graphs/compare-pruning.json is a valid recipe (`loram validate`, exit 0) of at most 12 nodes whose sweeps expand
 * to the shape the report expects: every LoRAM branch evaluated on the ORIGINAL large model, the ablations, the
 * baselines, one Compare gathering 17 branches; and to the very signatures of the 52-node recipe it replaces, so
 * the committed comparison (docs/compare-pruning) is reused from the cache and reproduces.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../../src/engine/engine';
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

  (built ? test : test.skip)('expands to the signatures of the hand-written 52-node recipe (only the Compare differs: it names its inputs)', async () => {
    const engine = new Engine({ home });
    const sigs = async (file: string) => {
      const st = await engine.cacheStatus(JSON.parse(readFileSync(file, 'utf8')), { baseDir: path.dirname(file) });
      return new Set(Object.values(st.nodes).map((n) => n.signature));
    };
    const [swept, hand] = [await sigs(RECIPE), await sigs(HANDWRITTEN)];
    await engine.close();
    expect(swept.size).toBe(52);
    expect([...swept].filter((s) => !hand.has(s))).toHaveLength(1);
  });

  test('has at most 12 nodes, in groups, and expands to every branch the report needs', async () => {
    const written = JSON.parse(readFileSync(RECIPE, 'utf8')) as { nodes: { group?: string }[]; groups: unknown[] };
    expect(written.nodes.length).toBeLessThanOrEqual(12);
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
    // Every Evaluate reads the held-out SotU text; the LoRAM branches and the baselines also the multiple-choice set
    // (the ablations are judged on perplexity, as in the paper's Fig. 6).
    for (const e of recipe.nodes.filter((n) => n.type === 'Evaluate')) {
      expect(recipe.edges.some((x) => x.to.node === e.id && x.to.port === 'dataset' && x.from.node === 'domain')).toBe(true);
    }
    for (const b of m.branches.filter((x) => x.role !== 'no-alignment' && x.role !== 'no-recovery')) {
      expect([b.node, recipe.edges.some((x) => x.to.node === b.node && x.to.port === 'choices' && x.from.node === 'choices')]).toEqual([b.node, true]);
    }
  });
});
