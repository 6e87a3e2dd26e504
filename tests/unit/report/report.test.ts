import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../../src/cli/main';
import { buildReportModel } from '../../../src/report/build';
import { computeClaims } from '../../../src/report/claims';
import { renderHtml } from '../../../src/report/html';
import { chartJsSource, writeReport } from '../../../src/report/index';
import { renderMarkdown } from '../../../src/report/markdown';
import type { Branch } from '../../../src/report/types';
import { fileURLToPath } from 'node:url';
import { parseRecipe } from '../../../src/shared';
import { evalIds, paperLikeNumbers, realRecipe, sweptRecipe, syntheticRun, writeRunHome, type Numbers } from './fixture';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const recipe = realRecipe();
const ids = evalIds(recipe);
const claimById = async (n: Numbers) => {
  const m = await buildReportModel(syntheticRun(n, recipe));
  return { m, c: Object.fromEntries(m.claims.map((c) => [c.id, c])) };
};

describe('branch roles come from the graph', () => {
  test('every Evaluate of compare-pruning.json gets its role, ablations their main branch', async () => {
    const m = await buildReportModel(syntheticRun(paperLikeNumbers(recipe), recipe));
    const role = Object.fromEntries(m.branches.map((b) => [b.node, b]));
    expect(m.branches.map((b) => b.node).sort()).toEqual([...ids.all].sort());
    for (const e of ids.loram) expect(role[e]!.role).toBe('loram');
    expect(role.eval_q).toMatchObject({ strategy: 'stru', quantized: true, aligned: true, recovered: true, short: 'QLoRAM-Stru' });
    expect(role.eval_semi).toMatchObject({ strategy: 'semi', quantized: false, short: 'LoRAM-Semi' });
    for (const e of ids.noAlign) expect(role[e]).toMatchObject({ role: 'no-alignment', ablationOf: e.replace('_noalign', ''), aligned: false });
    for (const e of ids.noRec) expect(role[e]).toMatchObject({ role: 'no-recovery', ablationOf: e.replace('_norec', ''), recovered: false });
    expect(role.eval_large!.role).toBe('untuned-large');
    expect(role.eval_small0!.role).toBe('untuned-small');
    expect(role.eval_small!.role).toBe('lora-small');
    expect(role.eval_full!.role).toBe('lora-large');
    expect(role.eval_stru!.train).toMatchObject({ node: 'train_stru', seconds: 60, memoryMeasured: 180 * 2 ** 20, loss: { x: [1, 2, 3, 4, 5] } });
    // offline time of a LoRAM branch: prune + align (2 nodes × 1 s in the fixture)
    expect(role.eval_stru!.offline).toEqual({ prune: 1, align: 1, quantize: null });
    expect(m.mc).toMatchObject({ choices: 4, chance: 0.25, testItems: 200 });
  });
});

describe('claims are computed from the numbers', () => {
  test('all hold on paper-like numbers, each line quoting the numbers it compares', async () => {
    const { c } = await claimById(paperLikeNumbers(recipe));
    for (const id of ['beats-untuned', 'beats-small-lora', 'less-memory', 'recovery-needed', 'alignment-needed']) expect([id, c[id]!.verdict]).toEqual([id, 'holds']);
    expect(c['beats-untuned']!.statement).toMatch(/^Shown by this run: .* for all 5 \(LoRAM-Rand, LoRAM-Stru, LoRAM-Semi, LoRAM-Unst, QLoRAM-Stru\)/);
    expect(c['beats-untuned']!.comparisons[0]!.text).toBe('LoRAM-Rand: perplexity 50.00 vs 80.00 for large, untuned (−37.5%) — lower');
    expect(c['beats-small-lora']!.comparisons.find((x) => x.what.startsWith('QLoRAM'))!.text).toContain('perplexity 54.00 vs 70.00');
    // memory: structured + QLoRAM counted; Semi/Unst reported, as the paper expects no saving
    expect(c['less-memory']!.statement).toMatch(/for all 3 \(LoRAM-Rand, LoRAM-Stru, QLoRAM-Stru\)/);
    expect(c['less-memory']!.statement).toMatch(/Semi\/Unst \(not counted.*\): 0 of 2 measured lower/);
    expect(c['recovery-needed']!.comparisons[0]!.text).toMatch(/^LoRAM-Rand: perplexity 50.00 vs 200.0 for LoRAM-Rand w\/o recovery/);
    expect(c['alignment-needed']!.comparisons.filter((x) => x.metric === 'perplexity')).toHaveLength(4);
  });

  test('none hold when the numbers say so', async () => {
    const n = paperLikeNumbers(recipe);
    for (const e of ids.loram) n.ppl[e] = 90; // worse than untuned (80) and small LoRA (70)
    for (const e of ids.noAlign) n.ppl[e] = 85; // better than the aligned ones
    for (const e of ids.noRec) n.ppl[e] = 75; // better too
    for (const t of ['train_rand', 'train_stru', 'train_q']) n.mem![t] = [400 * 2 ** 20, 40 * 2 ** 20]; // more than full LoRA
    const { c } = await claimById(n);
    for (const id of ['beats-untuned', 'beats-small-lora', 'less-memory', 'recovery-needed', 'alignment-needed']) expect([id, c[id]!.verdict]).toEqual([id, 'does not hold']);
    expect(c['beats-untuned']!.statement).toMatch(/^Not shown at this scale: no LoRAM variant has a lower held-out domain perplexity than the untuned large model/);
    expect(c['beats-untuned']!.comparisons[0]!.text).toBe('LoRAM-Rand: perplexity 90.00 vs 80.00 for large, untuned (+12.5%) — higher');
    expect(c['less-memory']!.comparisons[0]!.text).toMatch(/measured training memory 400.0 MiB vs 300.0 MiB .* — higher/);
    expect(c['recovery-needed']!.comparisons[0]!.text).toMatch(/perplexity 90.00 vs 75.00 .* — higher/);
  });

  test('partly, and ties within the tolerance do not count as shown', async () => {
    const n = paperLikeNumbers(recipe);
    n.ppl.eval_semi = 80.2; // a tie with untuned (80): +0.25%
    n.ppl.eval_unst = 100; // worse
    const { c } = await claimById(n);
    expect(c['beats-untuned']!.verdict).toBe('partly');
    expect(c['beats-untuned']!.statement).toBe(
      'Partly shown: LoRAM (recovered onto the original large model) has a lower held-out domain perplexity than the untuned large model for 3 of 5 (LoRAM-Rand, LoRAM-Stru, QLoRAM-Stru); not for LoRAM-Semi, LoRAM-Unst (ties count as not shown).',
    );
    expect(c['beats-untuned']!.comparisons.find((x) => x.what.startsWith('LoRAM-Semi'))!.text).toMatch(/a tie \(within 0.5%\)/);
  });

  test('missing baselines or failed branches are "not measured", never invented', async () => {
    const run = syntheticRun(paperLikeNumbers(recipe), recipe);
    run.nodes.eval_large!.status = 'failed';
    run.nodes.eval_large!.metrics = {};
    run.nodes.train_full!.status = 'failed';
    run.nodes.train_full!.metrics = {};
    const m = await buildReportModel(run);
    const c = Object.fromEntries(m.claims.map((x) => [x.id, x]));
    expect(c['beats-untuned']!.verdict).toBe('not measured');
    expect(c['less-memory']!.verdict).toBe('not measured');
    expect(c['beats-small-lora']!.verdict).toBe('holds');
  });

  test('a run with nothing to compare names each claim and what it would need, not five identical lines', async () => {
    const m = await buildReportModel(syntheticRun({ ppl: {} }, { ...recipe, nodes: recipe.nodes.filter((n) => n.type !== 'Evaluate') }));
    const lines = m.claims.map((c) => `${c.title}: ${c.statement}`);
    expect(m.claims.every((c) => c.verdict === 'not measured')).toBe(true);
    expect(new Set(lines).size).toBe(lines.length);
    expect(lines[0]).toBe('LoRAM beats the untuned large model: Not measured: the run has no branches to compare for this claim (it needs LoRAM branches and an untuned large-model baseline).');
  });

  test('accuracy lines carry a 2-s.e. margin and do not decide verdicts', () => {
    const b = (node: string, role: Branch['role'], ppl: number, acc: number): Branch => ({
      node, label: node, short: node, role, origin: 'builtin:large', strategy: role === 'loram' ? 'stru' : null, ratio: null, aligned: true, quantized: false, recovered: role === 'loram',
      status: 'done', perplexity: ppl, accuracy: acc, accuracyNorm: acc, accuracyStderr: 0.03, items: 200, tokens: 1000, exactMatch: null, exactMatchStderr: null, generationItems: null, answerPerplexity: null, downstream: null, train: null, offline: { prune: null, align: null, quantize: null }, ablationOf: null,
    });
    const claims = computeClaims([b('L', 'loram', 50, 0.3), b('U', 'untuned-large', 60, 0.4)]);
    const c = claims.find((x) => x.id === 'beats-untuned')!;
    expect(c.verdict).toBe('holds');
    const acc = c.comparisons.find((x) => x.metric === 'accuracy')!;
    expect(acc.text).toBe('L: multiple-choice accuracy 30.0% vs 40.0% for U (−10.0 points, 2-s.e. margin ±8.5: lower); acc_norm 30.0% vs 40.0%');
    expect(acc.holds).toBe(false);
  });
});

describe('the downstream task (graphs/compare-pruning.json: a second, SFT leg per branch)', () => {
  const swept = sweptRecipe();
  // Perplexity on the SotU leg, exact match on the task leg; LoRAM-Stru is best on the task, the untuned models score 0.
  const numbers = (): Numbers => {
    const ppl: Record<string, number> = {};
    const em: Record<string, number> = { 'eval_task.0': 0, 'eval_task.1': 0, 'eval_task.2': 0.3, 'eval_task.3': 0.8 };
    for (let i = 0; i < 13; i++) ppl[`eval.${i}`] = 60 - i;
    for (let i = 4; i < 13; i++) em[`eval_task.${i}`] = 0.5 + i / 100;
    em['eval_task.5'] = 0.75;
    for (let i = 4; i < 8; i++) [ppl[`eval_norec.${i}`], em[`eval_task_norec.${i}`]] = [70, 0.2];
    return { ppl, em };
  };

  test('each task Evaluate joins the branch it mirrors: 17 branches, exact match from the task leg', async () => {
    const m = await buildReportModel(syntheticRun(numbers(), swept));
    expect(m.branches).toHaveLength(17);
    const by = Object.fromEntries(m.branches.map((b) => [b.node, b]));
    expect(by['eval.5']).toMatchObject({ short: 'LoRAM-Stru', perplexity: 55, exactMatch: 0.75, generationItems: 60, answerPerplexity: 1.5, downstream: { node: 'eval_task.5', train: 'train_task.5' } });
    expect(by['eval_norec.5']).toMatchObject({ role: 'no-recovery', exactMatch: 0.2, downstream: { node: 'eval_task_norec.5', train: 'train_task.5' } });
    expect(by['eval.0']).toMatchObject({ role: 'untuned-large', exactMatch: 0, downstream: { node: 'eval_task.0', train: null } });
    expect(by['eval.2']).toMatchObject({ role: 'lora-small', exactMatch: 0.3, downstream: { train: 'train_task.2' } });
    // The w/o-alignment ablations have no task leg (judged on perplexity, as for multiple choice).
    expect(m.branches.filter((b) => b.downstream === null).map((b) => [b.role, b.exactMatch])).toEqual(Array(4).fill(['no-alignment', null]));
    expect(m.downstream).toEqual({ source: 'built-in task arithmetic (single-digit addition)', split: 'test', items: 60, nShot: 0, maxNewTokens: 4, separateLeg: true });
  });

  test('the verdict ranks exact match, the claims quote it beside perplexity, both renderings show it', async () => {
    const m = await buildReportModel(syntheticRun(numbers(), swept));
    const em = m.verdict.standings.find((s) => s.metric === 'exactMatch')!;
    expect(em.winner).toBe('LoRAM-Stru');
    expect(em.text).toMatch(/^Task exact match: LoRAM-Stru is best \(75\.0%\)/);
    expect(m.verdict.gains).toContain('Every variant (5) beats large, untuned (baseline) on task exact match beyond 2 standard errors: +54.0 to +75.0 points.');
    const beats = m.claims.find((c) => c.id === 'beats-small-lora')!;
    expect(beats.comparisons.find((c) => c.metric === 'exact match' && c.what.startsWith('LoRAM-Stru'))!.text).toMatch(/^LoRAM-Stru: task exact match 75\.0% vs 30\.0% for small \+ LoRA \(\+45\.0 points, 2-s\.e\. margin ±\d+\.\d: higher\)$/);
    const md = renderMarkdown(m);
    expect(md).toMatch(/\| Task EM ↑ \| EM s\.e\. \| Task answer ppl ↓ \|/);
    expect(md).toMatch(/\| LoRAM-Stru \| LoRAM \(recovered, on the original\) \| 55\.00 \| 30\.0% \| 29\.0% \| ±3\.0 \| 75\.0% \| ±5\.6 \| 1\.50 \|/);
    expect(md).toContain('## Downstream task: exact match');
    expect(md).toContain('- Downstream task: exact match on 60 items of the test split of built-in task arithmetic (single-digit addition)');
    const html = renderHtml(m, '');
    expect(html).toContain('<canvas id="em">');
    const data = JSON.parse(/<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1]!);
    expect(data.em.labels).toHaveLength(13);
    expect(data.em.values[data.em.labels.indexOf('LoRAM-Stru')]).toBe(75);
  });

  test('the leakage check of the multiple-choice items counts training documents, not the task\'s instruction records', async () => {
    const run = syntheticRun(numbers(), swept);
    const loc = (a: string) => ({ kind: 'store' as const, artifact: a, path: '' });
    const split = (p: string, n: number) => ({ path: p, documents: n, chars: 0 });
    run.nodes.domain!.outputs = { dataset: { type: 'dataset', format: 'documents', location: loc('d'.repeat(64)), source: 'corpus sotu', splits: { train: split('train.jsonl', 2), val: split('val.jsonl', 0), test: split('test.jsonl', 1) } } };
    run.nodes.choices!.outputs = { dataset: { type: 'dataset', format: 'multiple-choice', location: loc('c'.repeat(64)), source: 'mc', splits: { train: split('train.jsonl', 0), val: split('val.jsonl', 0), test: split('test.jsonl', 1) } } };
    run.files.set(`${'d'.repeat(64)}/train.jsonl`, ['sotu/1790_a', 'sotu/1791_b'].map((id) => JSON.stringify({ id, text: 'x' })).join('\n'));
    run.files.set(`${'c'.repeat(64)}/test.jsonl`, JSON.stringify({ id: 'i', doc: 'sotu/2001_x', context: 'c', choices: ['a', 'b'], answer: 0 }));
    run.files.set(`${run.nodes.task!.signature}/train.jsonl`, JSON.stringify({ id: 'add-1-2-0', kind: 'chat', messages: [] }));
    const m = await buildReportModel(run);
    expect(m.mc!.leakage).toEqual({ checked: true, trainDocs: 2, itemDocs: 1, overlap: [] });
  });

  test('graphs/instruct.json: each Evaluate measures its own exact match, which leads the verdict (no held-out text perplexity)', async () => {
    const instruct = parseRecipe(JSON.parse(readFileSync(path.join(ROOT, 'graphs/instruct.json'), 'utf8'))).recipe!;
    const m = await buildReportModel(syntheticRun({ ppl: {}, em: { eval: 0.9, eval_base: 0, eval_small: 0.95 } }, instruct));
    expect(m.branches.map((b) => [b.node, b.role, b.exactMatch, b.downstream])).toEqual([
      ['eval_base', 'untuned-large', 0, null],
      ['eval', 'loram', 0.9, null],
      ['eval_small', 'lora-small', 0.95, null],
    ]);
    expect(m.downstream).toMatchObject({ items: 60, maxNewTokens: 6, separateLeg: false });
    expect(m.verdict.headline).toBe('Task exact match: LoRAM-Stru SFT (recovered, on the original) is best (90.0%); the only variant measured.');
    expect(m.verdict.gains).toContain('LoRAM-Stru SFT (recovered, on the original) beats original model, untuned (baseline) on task exact match beyond 2 standard errors: +90.0 points.');
  });

  test('without a task leg (the hand-written recipe) nothing about a task is shown', async () => {
    const m = await buildReportModel(syntheticRun(paperLikeNumbers(recipe), recipe));
    expect(m.downstream).toBeNull();
    expect(m.verdict.standings.find((s) => s.metric === 'exactMatch')!.winner).toBeNull();
    expect(renderMarkdown(m)).not.toContain('Task EM');
  });
});

describe('rendering', () => {
  test('Markdown: claims, table, Mermaid charts, the reproduce command', async () => {
    const m = await buildReportModel(syntheticRun(paperLikeNumbers(recipe), recipe), { recipeFile: 'graphs/compare-pruning.json' });
    const md = renderMarkdown(m);
    expect(md).toContain('npx loram run graphs/compare-pruning.json');
    expect(md).toContain(`npx loram report ${m.runId}`);
    expect(md).toContain('### ✅ holds — LoRAM on the large model beats the untuned large model');
    expect(md).toMatch(/\| LoRAM-Stru \| LoRAM \(recovered, on the original\) \| 51.00 \| 30.0% \|/);
    expect((md.match(/```mermaid\nxychart-beta/g) ?? []).length).toBeGreaterThanOrEqual(5);
    expect(md).toContain('Chance level: 25.0%');
  });

  test('training memory: planned next to measured for the same runtime, what each includes, gaps over 10% warned', async () => {
    const m = await buildReportModel(syntheticRun(paperLikeNumbers(recipe), recipe));
    const md = renderMarkdown(m);
    expect(md).toContain('## Training memory: planned vs measured');
    expect(md).toContain('| Branch | Measured | Planned | Gap (planned − measured) | Runtime | Base parameters |');
    expect(md).toMatch(/\| LoRAM-Stru \| 180\.0 MiB \| 184\.0 MiB \| \+2\.2% \| ONNX Runtime \(CPU\) \|/);
    expect(md).toMatch(/\| QLoRAM-Stru \| 180\.0 MiB \| 205\.0 MiB \| \+13\.9% ⚠ \|/);
    // One warning: the only branch more than 10% off.
    expect(md.match(/^- ⚠ /gm)).toEqual(['- ⚠ ']);
    expect(md).toContain('- ⚠ QLoRAM-Stru: planned 205.0 MiB vs measured 180.0 MiB: +14%, more than 10% apart');
    expect(md).toMatch(/\*Planned \(ONNX Runtime, CPU.*stored precision.*LoRA.*AdamW.*runtime.*\*/);
    expect(md).toMatch(/\*Measured \(ONNX Runtime, CPU\): a fresh process.*\*/);
    expect(md).not.toMatch(/different precisions and runtimes/);
    const claim = m.claims.find((c) => c.id === 'less-memory')!;
    expect(claim.note).not.toMatch(/different precisions and runtimes/);
    expect(claim.note).toMatch(/stored precision/);
    const html = renderHtml(m, '');
    expect(html).toContain('<p class="warn">⚠ QLoRAM-Stru: planned 205.0 MiB vs measured 180.0 MiB: +14%, more than 10% apart</p>');
    expect(html).not.toMatch(/different precisions and runtimes|planner\.ts on the trained config/);
  });

  test('training memory of a run recorded without runtimes, or trained on tfjs: labelled not comparable, no gap', async () => {
    const run = syntheticRun(paperLikeNumbers(recipe), recipe);
    const train = run.nodes.train_full!.metrics!;
    delete train.measuredMemoryRuntime;
    delete train.plannedMemoryRuntime;
    run.nodes.train_small!.metrics!.measuredMemoryRuntime = 'tfjs';
    const md = renderMarkdown(await buildReportModel(run));
    expect(md).toMatch(/\| large \+ LoRA \| 300\.0 MiB \| 306\.0 MiB \| not comparable \| an unrecorded runtime \|/);
    expect(md).toContain('planned for an unrecorded runtime, measured on an unrecorded runtime');
    expect(md).toContain('not comparable: planned for ONNX Runtime (CPU), measured on TensorFlow.js');
    expect(md).toMatch(/\*Measured \(TensorFlow\.js\).*\*/);
  });

  test('HTML: self-contained (Chart.js inlined, no external resources), data embedded', async () => {
    const m = await buildReportModel(syntheticRun(paperLikeNumbers(recipe), recipe));
    const js = await chartJsSource();
    expect(js).toMatch(/Chart\.js v4/);
    const html = renderHtml(m, js);
    expect(html.length).toBeGreaterThan(js.length);
    expect(html).toContain(js.slice(0, 2000));
    const ours = html.replace(js, '');
    expect(/<script[^>]+src=|<link[^>]+href=|<img|url\(|https?:\/\//.test(ours)).toBe(false);
    const data = JSON.parse(/<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1]!);
    expect(data.ppl.labels).toContain('LoRAM-Stru');
    expect(data.loss.length).toBeGreaterThan(5);
  });
});

describe('loram report (CLI)', () => {
  test('writes report.md / report.html / report.json / recipe.json and checks MC leakage from the artifacts', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'loram-report-'));
    const run = syntheticRun(paperLikeNumbers(recipe), recipe);
    // A run of graphs/compare-pruning.json snapshots its expansion, which keeps the recipe as written.
    run.recipe = { ...run.recipe, meta: { sweep: { source: parseRecipe(JSON.parse(readFileSync(path.join(ROOT, 'graphs/compare-pruning.json'), 'utf8'))).recipe } } };
    // Dataset artifacts: training documents and multiple-choice items.
    const loc = (a: string) => ({ kind: 'store' as const, artifact: a, path: '' });
    const split = (p: string, n: number) => ({ path: p, documents: n, chars: 0 });
    run.nodes.domain!.outputs = { dataset: { type: 'dataset', format: 'documents', location: loc('d'.repeat(64)), source: 'corpus sotu', splits: { train: split('train.jsonl', 2), val: split('val.jsonl', 0), test: split('test.jsonl', 1) } } };
    run.nodes.choices!.outputs = { dataset: { type: 'dataset', format: 'multiple-choice', location: loc('c'.repeat(64)), source: 'multiple choice from corpus sotu', splits: { train: split('train.jsonl', 0), val: split('val.jsonl', 0), test: split('test.jsonl', 2) } } };
    const items = (docs: string[]) => docs.map((d, i) => JSON.stringify({ id: `${d}#${i}`, doc: d, context: 'c', choices: ['a', 'b'], answer: 0, kinds: ['answer', 'domain'], sources: [d, 'sotu/other'] })).join('\n');
    const files = {
      [`${'d'.repeat(64)}/train.jsonl`]: ['sotu/1790_a', 'sotu/1791_b'].map((id) => JSON.stringify({ id, text: 'x' })).join('\n'),
      [`${'c'.repeat(64)}/test.jsonl`]: items(['sotu/2001_x', 'sotu/2002_y']),
    };
    writeRunHome(home, run, files);
    const out: string[] = [];
    const io = { out: { write: (s: string) => void out.push(s) }, err: { write: (s: string) => void out.push(s) }, isTTY: false };
    const prev = process.env.LORAM_HOME;
    process.env.LORAM_HOME = home;
    try {
      expect(await main(['report', 'latest', '--out', path.join(home, 'rep')], io)).toBe(0);
      expect(await main(['report', 'no-such-run'], io)).toBe(2);
      expect(await main(['report'], io)).toBe(2);
    } finally {
      if (prev === undefined) delete process.env.LORAM_HOME;
      else process.env.LORAM_HOME = prev;
    }
    expect(out.join('')).toMatch(/\[holds\] LoRAM beats the untuned large model: Shown by this run/);
    const md = readFileSync(path.join(home, 'rep', 'report.md'), 'utf8');
    const json = JSON.parse(readFileSync(path.join(home, 'rep', 'report.json'), 'utf8'));
    expect(json.mc.leakage).toEqual({ checked: true, trainDocs: 2, itemDocs: 3, overlap: [] });
    expect(md).toContain('none of them is among the 2 training documents');
    // The snapshot equals graphs/compare-pruning.json, so the reproduce command names it.
    expect(json.commands.reproduce).toMatch(/^npx loram run .*graphs\/compare-pruning\.json$/);
    expect(readFileSync(path.join(home, 'rep', 'report.html'), 'utf8')).toContain('<canvas id="loss">');

    // A set whose items come from a training document is reported as leaking.
    const home2 = mkdtempSync(path.join(os.tmpdir(), 'loram-report-'));
    writeRunHome(home2, run, { ...files, [`${'c'.repeat(64)}/test.jsonl`]: items(['sotu/1790_a', 'sotu/2002_y']) });
    const leaky = await writeReport(path.join(home2, 'runs', run.runId), { outDir: path.join(home2, 'rep') });
    expect(leaky.model.mc!.leakage!.overlap).toEqual(['sotu/1790_a']);
    expect(readFileSync(leaky.files.markdown, 'utf8')).toContain('1 of them ARE training documents: sotu/1790_a');
  });
});
