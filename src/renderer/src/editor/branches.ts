/**
 * Branches in the editor: the canvas shows one card per node of the recipe as written, while the engine runs its
 * expansion (src/shared/sweep.ts), whose copies have ids like `prune.2`. These functions fold the run view and
 * the cache status of a node's copies back onto its card; the Results and Compare views keep the branches.
 */
import { expandSweeps, type CacheStatus, type Recipe } from '../../../shared';
import type { SpecMap } from './catalog';
import type { NodeRunView, RunView } from './run-state';
import { joinWorkers } from './run-target';

export type Copies = ReadonlyMap<string, readonly string[]>;

interface Branches {
  /** Original node id → the ids its copies run under (itself when not swept). */
  copies: Copies;
  branches: number;
  /** The expanded recipe: the nodes the engine runs, with their branch labels (for Results and Compare). */
  recipe: Recipe;
}
let memo: (Branches & { doc: Recipe; specs: SpecMap }) | null = null;

/** The document's expansion into branches. Memoised on the document. */
export function branchCopies(doc: Recipe, specs: SpecMap): Branches {
  if (memo && memo.doc === doc && memo.specs === specs) return memo;
  const x = expandSweeps(doc, (t) => specs.get(t));
  memo = { doc, specs, copies: x.copies, branches: x.branches, recipe: x.recipe };
  return memo;
}

/** True when some node is copied (the document has a sweep that expands). */
export function isSwept(copies: Copies): boolean {
  for (const [id, cs] of copies) if (cs.length !== 1 || cs[0] !== id) return true;
  return false;
}

const ORDER: NodeRunView['status'][] = ['running', 'failed', 'queued', 'cancelled', 'skipped', 'done', 'cached'];

/** One view for several copies: the most pressing status, the running copy's progress, a branch count. */
export function foldCopies(views: readonly NodeRunView[]): NodeRunView {
  if (views.length === 1) return views[0]!;
  const status = ORDER.find((s) => views.some((v) => v.status === s))!;
  const finished = views.filter((v) => v.status === 'done' || v.status === 'cached').length;
  const active = views.find((v) => v.status === 'running') ?? views.find((v) => v.status === 'failed') ?? views[0]!;
  const signature = views.every((v) => v.signature) ? views.map((v) => v.signature).join('+') : undefined;
  const worker = joinWorkers(views);
  return {
    ...active,
    status: status === 'cached' && views.some((v) => v.status === 'done') ? 'done' : status,
    ...(signature ? { signature } : {}),
    ...(worker ? { worker } : {}),
    metrics: { branches: `${finished}/${views.length}` },
  };
}

/** The run view with one entry per node of the recipe as written. */
export function foldRunView(run: RunView, copies: Copies): RunView {
  if (!isSwept(copies)) return run;
  const nodes: RunView['nodes'] = {};
  for (const [id, cs] of copies) {
    const views = cs.map((c) => run.nodes[c]).filter((v): v is NodeRunView => !!v);
    if (views.length) nodes[id] = foldCopies(views);
  }
  const plan = [...copies.keys()].filter((id) => (copies.get(id) ?? []).some((c) => run.plan.includes(c)));
  return { ...run, plan, nodes, ...(run.to ? { to: [...copies].find(([, cs]) => cs.includes(run.to!))?.[0] ?? run.to } : {}) };
}

/** Cache status per node as written: cached when every copy is. */
export function foldCache(cache: CacheStatus | null, copies: Copies): CacheStatus | null {
  if (!cache || !isSwept(copies)) return cache;
  const nodes: CacheStatus['nodes'] = {};
  for (const [id, cs] of copies) {
    const parts = cs.map((c) => cache.nodes[c]);
    if (parts.some((p) => !p)) continue;
    const sigs = parts.map((p) => p!.signature);
    nodes[id] = { signature: sigs.every((s) => s) ? sigs.join('+') : null, cached: parts.every((p) => p!.cached) };
  }
  return { nodes };
}
