/**
 * A synthetic run of the compare-pruning recipe as it was written by hand before sweeps (52 nodes; graphs/compare-pruning.json expands to the same graph), made-up metrics. `numbers` says what each
 * Evaluate / LoRA-Train node reports, so tests can make the paper's claims hold or fail at will.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunInput } from '../../../src/report/build';
import { registry } from '../../../src/nodes/index';
import { expandSweeps, parseRecipe, type NodeRunSummary, type Recipe } from '../../../src/shared';

export const RECIPE_PATH = fileURLToPath(new URL('./compare-pruning-handwritten.json', import.meta.url));

/** graphs/compare-pruning.json as the engine runs it: sweeps expanded (ids like eval.4), with its task legs. */
export function sweptRecipe(): Recipe {
  const r = parseRecipe(JSON.parse(readFileSync(fileURLToPath(new URL('../../../graphs/compare-pruning.json', import.meta.url)), 'utf8')));
  if (!r.recipe) throw new Error('graphs/compare-pruning.json does not parse');
  const x = expandSweeps(r.recipe, (t) => registry.get(t));
  if (x.errors.length) throw new Error(`graphs/compare-pruning.json does not expand: ${x.errors[0]!.message}`);
  return x.recipe;
}

export function realRecipe(): Recipe {
  const r = parseRecipe(JSON.parse(readFileSync(RECIPE_PATH, 'utf8')));
  if (!r.recipe) throw new Error('graphs/compare-pruning.json does not parse');
  return r.recipe;
}

export interface Numbers {
  /** Evaluate node id → perplexity (and optional accuracy). */
  ppl: Record<string, number>;
  acc?: Record<string, number>;
  /** Evaluate node id of a task leg (an Evaluate with a generation input) → exact match (default 0.5). */
  em?: Record<string, number>;
  /** LoRA-Train node id → measured / planned bytes. */
  mem?: Record<string, [measured: number, planned: number]>;
}

const sig = (id: string) => Buffer.from(id.padEnd(32, '_')).toString('hex').slice(0, 64).padEnd(64, '0').replace(/[^0-9a-f]/g, '0');

/** Ids by role in the real recipe. */
export function evalIds(recipe: Recipe) {
  const ev = recipe.nodes.filter((n) => n.type === 'Evaluate').map((n) => n.id);
  return {
    all: ev,
    loram: ['eval_rand', 'eval_stru', 'eval_semi', 'eval_unst', 'eval_q'],
    noAlign: ev.filter((e) => e.endsWith('_noalign')),
    noRec: ev.filter((e) => e.endsWith('_norec')),
  };
}

/** Every node "done", metrics from `numbers`, artifacts served from memory. */
export function syntheticRun(numbers: Numbers, recipe = realRecipe()): RunInput & { files: Map<string, string> } {
  const files = new Map<string, string>();
  const nodes: Record<string, NodeRunSummary> = {};
  for (const n of recipe.nodes) {
    const s: NodeRunSummary = { type: n.type, status: 'done', signature: sig(n.id), durationMs: 1000, metrics: {}, outputs: {} };
    const generates = recipe.edges.some((e) => e.to.node === n.id && e.to.port === 'generation');
    if (n.type === 'Evaluate' && generates) {
      const em = numbers.em?.[n.id] ?? 0.5;
      s.metrics = { answerPerplexity: 1.5, answerNll: Math.log(1.5), answerTokens: 120, exactMatch: em, exactMatchStderr: Math.sqrt((em * (1 - em)) / 59), generationItems: 60, nShot: 0 };
    } else if (n.type === 'Evaluate') {
      const acc = numbers.acc?.[n.id] ?? 0.3;
      s.metrics = { perplexity: numbers.ppl[n.id] ?? null, nll: Math.log(numbers.ppl[n.id] ?? 1), tokens: 16000, accuracy: acc, accuracyNorm: acc - 0.01, accuracyStderr: 0.03, items: 200 };
    } else if (n.type === 'LoRA-Train') {
      const [measured, planned] = numbers.mem?.[n.id] ?? [100 * 2 ** 20, 10 * 2 ** 20];
      s.metrics = { finalLoss: 4, valLoss: 4.1, trainSeconds: 60, tokensPerSec: 500, loraParams: 100000, baseParams: 5e6, trainMemoryBytes: measured, plannedMemoryBytes: planned, measuredMemoryRuntime: 'onnxruntime-cpu', plannedMemoryRuntime: 'onnxruntime-cpu', steps: 5 };
      const loc = `${sig(n.id)}/metrics.json`;
      files.set(loc, JSON.stringify({ label: '', scalars: s.metrics, curves: { loss: { x: [1, 2, 3, 4, 5], y: [5, 4.6, 4.4, 4.2, 4.0] } } }));
      s.outputs = { metrics: { type: 'metrics', location: { kind: 'store', artifact: sig(n.id), path: 'metrics.json' }, label: '', summary: {} } };
    } else if (n.type === 'Load') {
      s.metrics = { params: n.id === 'load' ? 4985088 : 853120 };
    } else if (n.type === 'Dataset' && n.id === 'task') {
      s.outputs = { dataset: { type: 'dataset', format: 'instruction', location: { kind: 'store', artifact: sig(n.id), path: '' }, source: 'built-in task arithmetic (single-digit addition)', splits: { train: { path: 'train.jsonl', documents: 210, chars: 0 }, val: { path: 'val.jsonl', documents: 30, chars: 0 }, test: { path: 'test.jsonl', documents: 60, chars: 0 } } } };
    } else if (n.type === 'Dataset' && n.id === 'choices') {
      s.metrics = { choices: 4, generalDistractors: 1, chance: 0.25, styleOnlyCeiling: 1 / 3, testItems: 200 };
    }
    nodes[n.id] = s;
  }
  return {
    runId: '20250101-000000-000-abcdef',
    summary: { status: 'finished', recipeName: recipe.name, startedAt: 1_700_000_000_000, endedAt: 1_700_000_600_000, counts: { done: recipe.nodes.length } },
    recipe,
    nodes,
    files,
    readText: async (loc, rel) => (loc.kind === 'store' ? files.get(path.posix.join(loc.artifact, loc.path, rel ?? '')) ?? null : null),
    artifactDurationMs: async () => 2000,
  };
}

/** Numbers under which every claim of the paper holds. */
export function paperLikeNumbers(recipe = realRecipe()): Numbers {
  const ids = evalIds(recipe);
  const ppl: Record<string, number> = { eval_large: 80, eval_small0: 95, eval_small: 70, eval_full: 40 };
  // Planned within 10% of measured, but for QLoRAM-Stru (+13.9%: the report warns).
  const mem: Record<string, [number, number]> = { train_full: [300 * 2 ** 20, 306 * 2 ** 20], train_small: [120 * 2 ** 20, 117 * 2 ** 20] };
  ids.loram.forEach((e, i) => (ppl[e] = 50 + i));
  for (const e of ids.noAlign) ppl[e] = 60;
  for (const e of ids.noRec) ppl[e] = 200;
  for (const t of ['train_rand', 'train_stru', 'train_rand_noalign', 'train_stru_noalign']) mem[t] = [180 * 2 ** 20, 184 * 2 ** 20];
  mem.train_q = [180 * 2 ** 20, 205 * 2 ** 20];
  for (const t of ['train_semi', 'train_unst', 'train_semi_noalign', 'train_unst_noalign']) mem[t] = [300 * 2 ** 20, 306 * 2 ** 20];
  return { ppl, mem };
}

/** Write the synthetic run as a LORAM_HOME on disk (runs/<id>/ + artifacts/), for the CLI. */
export function writeRunHome(home: string, run: ReturnType<typeof syntheticRun>, extraFiles: Record<string, string> = {}): string {
  const dir = path.join(home, 'runs', run.runId);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'recipe.json'), JSON.stringify(run.recipe, null, 2));
  writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ runId: run.runId, ...run.summary, pid: 0 }));
  writeFileSync(path.join(dir, 'metrics.json'), JSON.stringify(run.nodes, null, 2));
  writeFileSync(path.join(dir, 'events.jsonl'), '');
  for (const [rel, text] of [...run.files, ...Object.entries(extraFiles)]) {
    const f = path.join(home, 'artifacts', rel);
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, text);
  }
  for (const s of Object.values(run.nodes)) {
    const f = path.join(home, 'artifacts', s.signature!, 'outputs.json');
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, JSON.stringify({ signature: s.signature, outputs: s.outputs, metrics: s.metrics, meta: { durationMs: 2000 } }));
  }
  return dir;
}
