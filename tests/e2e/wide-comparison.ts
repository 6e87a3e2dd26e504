/**
 * Fixtures for the Results view at many branches: a comparison recipe with any number of LoRA-Train → Evaluate
 * branches (strategy × ratio × alignment ablation, long labels), and a finished run of it written into a
 * LORAM_HOME with its event log, so the editor can open it from the Runs tab.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Recipe } from '../../src/shared/index';
import { syntheticRun, writeRunHome, type Numbers } from '../unit/report/fixture';

const STRATEGIES = ['LoRAM-Rand', 'LoRAM-Stru', 'LoRAM-Semi', 'LoRAM-Unst', 'QLoRAM-Stru'];
const RATIOS = [0.3, 0.5, 0.65, 0.8];

/** `n` branches (at most 40): each a LoRA-Train and an Evaluate labelled by its strategy, ratio and ablation. */
export function wideRecipe(n: number): Recipe {
  const nodes: Recipe['nodes'] = [
    { id: 'load', type: 'Load', version: 1, params: { source: 'builtin:large' }, position: { x: 0, y: 0 } },
    { id: 'data', type: 'Dataset', version: 1, params: { source: 'sotu' }, position: { x: 0, y: 200 } },
  ];
  const edges: Recipe['edges'] = [];
  const edge = (from: [string, string], to: [string, string]) => edges.push({ id: `e${edges.length + 1}`, from: { node: from[0], port: from[1] }, to: { node: to[0], port: to[1] } });
  for (let i = 0; i < n; i++) {
    const label = `${STRATEGIES[i % 5]} · ratio ${RATIOS[Math.floor(i / 5) % 4]}${i >= 20 ? ' · w/o alignment' : ''}`;
    nodes.push({ id: `train${i}`, type: 'LoRA-Train', version: 2, params: {}, position: { x: 300, y: i * 120 } });
    nodes.push({ id: `eval${i}`, type: 'Evaluate', version: 1, params: { label }, position: { x: 600, y: i * 120 } });
    edge(['load', 'model'], [`train${i}`, 'model']);
    edge(['data', 'dataset'], [`train${i}`, 'dataset']);
    edge(['load', 'model'], [`eval${i}`, 'model']);
    edge([`train${i}`, 'adapter'], [`eval${i}`, 'adapter']);
    edge(['data', 'dataset'], [`eval${i}`, 'dataset']);
  }
  return { format: 'loram-recipe', version: 2, name: `wide comparison (${n} branches)`, nodes, edges } as Recipe;
}

/** A finished run of `recipe` in `home` (perplexities, accuracies and memory spread so every rank differs). */
export function writeFinishedRun(home: string, recipe: Recipe, runId: string, numbers?: Numbers): string {
  const evals = recipe.nodes.filter((n) => n.type === 'Evaluate').map((n) => n.id);
  const trains = recipe.nodes.filter((n) => n.type === 'LoRA-Train').map((n) => n.id);
  const nums: Numbers = numbers ?? {
    ppl: Object.fromEntries(evals.map((e, i) => [e, 50 + ((i * 7) % 40) * 0.37])),
    acc: Object.fromEntries(evals.map((e, i) => [e, 0.25 + ((i * 11) % 40) / 100])),
    mem: Object.fromEntries(trains.map((t, i) => [t, [(100 + i * 5) * 2 ** 20, (10 + i) * 2 ** 20] as [number, number]])),
  };
  const run = syntheticRun(nums, recipe);
  run.runId = runId;
  run.summary.startedAt = Date.now() + 86_400_000;
  const dir = writeRunHome(home, run);
  // Its event log, as the engine writes it (the editor replays it to show a past run).
  const t = run.summary.startedAt;
  const events = [
    { type: 'run-started', runId, time: t, recipeName: recipe.name, plan: Object.keys(run.nodes), noCache: false },
    ...Object.entries(run.nodes).map(([node, s]) => ({ type: 'node-cached', runId, time: t, node, nodeType: s.type, signature: s.signature, outputs: s.outputs, metrics: s.metrics })),
    { type: 'run-finished', runId, time: t + 1000, ok: true, durationMs: 1000, nodes: run.nodes },
  ];
  writeFileSync(path.join(dir, 'events.jsonl'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  return dir;
}
