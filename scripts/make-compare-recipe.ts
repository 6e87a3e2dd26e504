/**
 * Generates graphs/compare-pruning.json (52 nodes): the branches of the paper in miniature with their ablations
 * and baselines. Tuning knobs as JSON, e.g.
 *   npx tsx scripts/make-compare-recipe.ts graphs/compare-pruning.json '{"align":100,"mcMax":400,"mcGeneral":3,"mcPerDoc":20}'   (the committed recipe)
 */
import { writeFileSync } from 'node:fs';
import { serializeRecipe, parseRecipe } from '../src/shared/index';

const cfg = JSON.parse(process.argv[3] ?? '{}');
const STEPS = cfg.steps ?? 120, LR = cfg.lr ?? 0.002, ALIGN = cfg.align ?? 60, ALR = cfg.alignLr ?? 0.0005, RATIO = cfg.ratio ?? 0.5, UNST = cfg.unst ?? 0.55;
const SEQ = cfg.seq ?? 128, BATCH = cfg.batch ?? 4, MAXTOK = cfg.maxTokens ?? 20000;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const nodes: any[] = [];
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const edges: any[] = [];
let e = 0;
const node = (id: string, type: string, x: number, y: number, params: any, label?: string) => nodes.push({ id, type, version: 1, ...(label ? { label } : {}), position: { x, y }, params });
const edge = (from: string, fp: string, to: string, tp: string) => edges.push({ id: `e${++e}`, from: { node: from, port: fp }, to: { node: to, port: tp } });
const train = { rank: 8, alpha: 16, dropout: 0.05, steps: STEPS, lr: LR, warmupSteps: Math.max(1, Math.round(STEPS / 12)), batchSize: BATCH, seqLen: SEQ, seed: 0 };
const evalP = (label: string) => ({ label, split: 'test', runtime: 'onnxruntime', seqLen: 128, batchSize: 8, maxTokens: MAXTOK });
const domainSplit = { source: 'sotu', maxDocumentChars: cfg.docChars ?? 2500, valFraction: 0.1, testFraction: 0.1, seed: 0 };

node('load', 'Load', 0, 700, { source: 'builtin:large' }, 'large (original)');
node('small', 'Load', 0, 2700, { source: 'builtin:small' }, 'small');
node('general', 'Dataset', 0, 1000, { source: 'brown', maxDocuments: cfg.generalDocs ?? 100, valFraction: 0.05, testFraction: 0.05, seed: 0 }, 'general text (calibration, alignment)');
node('domain', 'Dataset', 0, 1300, domainSplit, 'SotU addresses (fine-tuning, held-out perplexity)');
node('choices', 'Dataset', 0, 1600, { ...domainSplit, maxDocumentChars: cfg.mcDocChars ?? 8000, format: 'multiple-choice', mcChoices: 4, mcGeneralDistractors: cfg.mcGeneral ?? 1, mcContextWords: 40, mcContinuationWords: 10, mcItemsPerDocument: cfg.mcPerDoc ?? 10, mcMaxItems: cfg.mcMax ?? 200 }, 'SotU multiple choice (held-out addresses)');
node('compare', 'Compare', 2000, 1400, { title: 'LoRAM pruning strategies vs baselines (held-out SotU)' });

const evals: string[] = [];
const evaluate = (id: string, x: number, y: number, label: string, model: string, adapter: string | null, mc = true) => {
  node(id, 'Evaluate', x, y, evalP(label));
  edge(model, 'model', id, 'model');
  if (adapter) edge(adapter, 'adapter', id, 'adapter');
  edge('domain', 'dataset', id, 'dataset');
  if (mc) edge('choices', 'dataset', id, 'choices');
  evals.push(id);
};
const loraTrain = (id: string, x: number, y: number, model: string, label?: string) => {
  node(id, 'LoRA-Train', x, y, train, label);
  edge(model, 'model', id, 'model');
  edge('domain', 'dataset', id, 'dataset');
};
const recover = (id: string, x: number, y: number, adapter: string) => {
  node(id, 'Recover', x, y, {});
  edge(adapter, 'adapter', id, 'adapter');
  edge('load', 'model', id, 'model');
};

const strategies = [
  ['rand', 'Rand', { strategy: 'rand', ratio: RATIO, seed: 0 }],
  ['stru', 'Stru', { strategy: 'stru', ratio: RATIO, calibrationSamples: 32, calibrationTokens: 128, seed: 0 }],
  ['semi', 'Semi', { strategy: 'semi', ratio: 0.5, calibrationSamples: 32, calibrationTokens: 128, seed: 0 }],
  ['unst', 'Unst', { strategy: 'unst', ratio: UNST, calibrationSamples: 32, calibrationTokens: 128, seed: 0 }],
] as const;
let y = 0;
const mainEvals: string[] = [], noAlign: string[] = [], noRec: string[] = [];
for (const [s, S, pp] of strategies) {
  node(`prune_${s}`, 'Prune', 300, y + 100, pp, `LoRAM-${S} prune`);
  edge('load', 'model', `prune_${s}`, 'model');
  if (s !== 'rand') edge('general', 'dataset', `prune_${s}`, 'calibration');
  node(`align_${s}`, 'Align', 550, y, { steps: ALIGN, lr: ALR, warmupSteps: Math.max(1, Math.round(ALIGN / 10)), batchSize: BATCH, seqLen: SEQ, seed: 0 }, `align ${S}`);
  edge(`prune_${s}`, 'model', `align_${s}`, 'model');
  edge('general', 'dataset', `align_${s}`, 'dataset');
  loraTrain(`train_${s}`, 1050, y, `align_${s}`, `LoRA on pruned+aligned ${S}`);
  recover(`recover_${s}`, 1300, y, `train_${s}`);
  evaluate(`eval_${s}`, 1600, y, `LoRAM-${S}`, 'load', `recover_${s}`); mainEvals.push(`eval_${s}`);
  evaluate(`eval_${s}_norec`, 1600, y + 130, `LoRAM-${S} w/o recovery (pruned model + its adapter)`, `align_${s}`, `train_${s}`, false); noRec.push(`eval_${s}_norec`);
  loraTrain(`train_${s}_noalign`, 1050, y + 260, `prune_${s}`, `LoRA on pruned ${S} (no alignment)`);
  recover(`recover_${s}_noalign`, 1300, y + 260, `train_${s}_noalign`);
  evaluate(`eval_${s}_noalign`, 1600, y + 260, `LoRAM-${S} w/o alignment`, 'load', `recover_${s}_noalign`, false); noAlign.push(`eval_${s}_noalign`);
  y += 420;
}
// QLoRAM-Stru: the aligned Stru model, NF4.
node('quant_stru', 'Quantize', 800, y, { scheme: 'nf4', blockSize: 64, doubleQuant: true }, 'QLoRAM-Stru NF4');
edge('align_stru', 'model', 'quant_stru', 'model');
loraTrain('train_q', 1050, y, 'quant_stru', 'LoRA on pruned+aligned Stru, NF4');
recover('recover_q', 1300, y, 'train_q');
evaluate('eval_q', 1600, y, 'QLoRAM-Stru', 'load', 'recover_q'); mainEvals.push('eval_q');
y += 200;
evaluate('eval_large', 1600, y, 'large, untuned', 'load', null);
y += 150;
loraTrain('train_full', 1050, y, 'load', 'LoRA on the full large model');
evaluate('eval_full', 1600, y, 'large + LoRA (full model)', 'load', 'train_full');
y += 200;
evaluate('eval_small0', 1600, y, 'small, untuned', 'small', null);
y += 150;
loraTrain('train_small', 1050, y, 'small', 'LoRA on the small model');
evaluate('eval_small', 1600, y, 'small + LoRA', 'small', 'train_small');
const baseline = ['eval_large', 'eval_small0', 'eval_small', 'eval_full'];
for (const id of [...baseline, ...mainEvals, ...noAlign, ...noRec]) edge(id, 'metrics', 'compare', 'metrics');

const recipe = {
  format: 'loram-recipe', version: 1, name: 'compare-pruning',
  description: 'The paper in miniature on the built-in model family: LoRAM-Rand, -Stru, -Semi, -Unst and QLoRAM-Stru (prune the large model, align on general text, LoRA on State of the Union addresses, recover, evaluate on the ORIGINAL large model), the ablations without alignment and without recovery, against the untuned large model, LoRA on the small model and LoRA on the full large model; held-out SotU perplexity and multiple-choice accuracy, training memory and time, all gathered by one Compare. Report: npx loram report latest',
  nodes, edges,
};
const parsed = parseRecipe(recipe);
if (!parsed.recipe || parsed.errors.length) { console.error(parsed.errors); process.exit(1); }
writeFileSync(process.argv[2]!, serializeRecipe(parsed.recipe));
console.log(`${nodes.length} nodes, ${edges.length} edges → ${process.argv[2]}`);
