/** The report's multiple-choice section: the item set the evaluations scored, and whether training saw its documents. */
import type { DatasetValue } from '../shared';
import { num, type RunGraph, type RunInput } from './run-graph';
import type { McInfo } from './types';

type Leakage = NonNullable<McInfo['leakage']>;

export async function mcInfo(run: RunInput, g: RunGraph, evaluations: readonly string[]): Promise<McInfo | null> {
  const mcNode = evaluations.map((e) => g.incoming(e, 'choices')[0]).find((x) => x);
  if (!mcNode) return null;
  const s = run.nodes[mcNode];
  const m = s?.metrics ?? {};
  const ds = s?.outputs?.dataset;
  const split = String(g.paramsOf(evaluations.find((e) => g.incoming(e, 'choices')[0] === mcNode)!).split ?? 'test') as 'test';
  const info: McInfo = {
    source: ds && ds.type === 'dataset' ? ds.source : mcNode,
    choices: num(m.choices),
    generalDistractors: num(m.generalDistractors),
    chance: num(m.chance),
    styleOnlyCeiling: num(m.styleOnlyCeiling),
    testItems: num(m[`${split}Items`]),
    leakage: null,
  };
  const trainSets = trainingDatasets(g);
  if (ds && ds.type === 'dataset' && trainSets.length) info.leakage = await leakage(run, ds, split, trainSets);
  return info;
}

/** The Dataset nodes any LoRA-Train reads. */
function trainingDatasets(g: RunGraph): string[] {
  const fed = new Set(g.recipe.nodes.filter((n) => n.type === 'LoRA-Train').flatMap((n) => g.incoming(n.id, 'dataset')));
  return [...fed].filter((id) => g.typeOf(id) === 'Dataset');
}

/** Leakage: documents of the evaluated items vs documents of every training split that LoRA-Train read. */
async function leakage(run: RunInput, items: DatasetValue, split: 'test', trainSets: readonly string[]): Promise<Leakage> {
  const itemsText = await run.readText(items.location, items.splits[split]?.path);
  const trainDocs = new Set<string>();
  let readAll = itemsText !== null;
  for (const t of trainSets) {
    const v = run.nodes[t]?.outputs?.dataset;
    // Instruction records (a task's prompts and answers) are not documents the items could come from.
    if (v && v.type === 'dataset' && v.format === 'instruction') continue;
    const text = v && v.type === 'dataset' ? await run.readText(v.location, v.splits.train.path) : null;
    if (text === null) readAll = false;
    else for (const line of text.split('\n')) if (line.trim()) trainDocs.add(String((JSON.parse(line) as { id: unknown }).id));
  }
  if (!readAll || itemsText === null) return { checked: false, trainDocs: trainDocs.size, itemDocs: 0, overlap: [] };
  const itemDocs = itemDocuments(itemsText);
  return { checked: true, trainDocs: trainDocs.size, itemDocs: itemDocs.size, overlap: [...itemDocs].filter((d) => trainDocs.has(d)).sort() };
}

function itemDocuments(itemsText: string): Set<string> {
  const itemDocs = new Set<string>();
  for (const line of itemsText.split('\n')) {
    if (!line.trim()) continue;
    const it = JSON.parse(line) as { doc?: unknown; sources?: unknown };
    if (typeof it.doc === 'string') itemDocs.add(it.doc);
    // Same-corpus distractors must be held out too; general-corpus distractors are another corpus by design.
    const corpus = typeof it.doc === 'string' ? it.doc.split('/')[0] + '/' : null;
    if (corpus && Array.isArray(it.sources)) for (const d of it.sources) if (typeof d === 'string' && d.startsWith(corpus)) itemDocs.add(d);
  }
  return itemDocs;
}
