/**
 * Where runs compute, in the editor's words: the toolbar's "Run on" choice, and which worker computed each node
 * of a run on workers. Only display strings reach the renderer (the engine's `runTargets`, event fields), never a
 * queue's password.
 */
import type { RunOptions, RunTargets } from '../../../shared';
import type { NodeRunView, RunView } from './run-state';

export type RunTarget = NonNullable<RunOptions['target']>;

/** What the editor assumes until the engine says otherwise (or when it cannot be asked): this machine only. */
export const LOCAL_ONLY: RunTargets = { workers: null };

/** The toolbar's choices; none (no control) when the engine has no queue of workers. */
export function runTargetChoices(workers: string | null): { value: RunTarget; label: string }[] {
  return workers ? [{ value: 'local', label: 'this machine' }, { value: 'workers', label: `workers (${workers})` }] : [];
}

/** The run options for a target: this machine is the engine's default, so it adds nothing. */
export function targetOption(target: RunTarget): Pick<RunOptions, 'target'> {
  return target === 'workers' ? { target } : {};
}

/** "on workers redis://…" for a run that computed on workers; null for one on this machine. */
export function runPlace(run: Pick<RunView, 'workers'>): string | null {
  return run.workers ? `on workers ${run.workers}` : null;
}

/** Whether a run's node table needs a Worker column: it ran on workers, or some node says which one computed it. */
export function showsWorkers(run: Pick<RunView, 'workers' | 'nodes'>): boolean {
  return !!run.workers || Object.values(run.nodes).some((n) => n.worker);
}

/** The distinct workers of several views (a swept node's copies), in order: "w1, w2". */
export function joinWorkers(views: readonly Pick<NodeRunView, 'worker'>[]): string | undefined {
  const names = [...new Set(views.flatMap((v) => (v.worker ? [v.worker] : [])))];
  return names.length ? names.join(', ') : undefined;
}
