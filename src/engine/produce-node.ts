/**
 * Compute one node into the store: the node runs in a compute worker thread, writing into the store's temporary
 * directory; its outputs are checked against the node's ports; the store then publishes the directory with its
 * outputs.json and manifest (or leaves nothing, if anything failed). One function for the local engine and for a
 * remote worker (src/engine/remote/job-runner.ts), so both publish the same artifact for the same node.
 */
import type { PortValue } from '../shared';
import type { NodeDefinition } from '../nodes/definition';
import type { TaskHandlers, WorkerPool } from './executor';
import type { ArtifactRecord, ArtifactStore } from './store';
import type { TaskSpec } from './worker-protocol';

export type NodeTask = Omit<TaskSpec, 'taskId' | 'outDir'>;

export interface ProduceContext {
  store: ArtifactStore;
  pool: WorkerPool;
  runId: string;
  /** When the node started (its record's durationMs counts from here, waits included). */
  started: number;
  handlers: TaskHandlers;
  signal?: AbortSignal;
}

export async function produceNode(def: Pick<NodeDefinition, 'type' | 'version' | 'outputs'>, task: NodeTask, ctx: ProduceContext): Promise<ArtifactRecord> {
  return ctx.store.produce(task.signature, async (tmp) => {
    const r = await ctx.pool.run({ ...task, outDir: tmp }, ctx.handlers, ctx.signal);
    checkOutputs(def.outputs, r.outputs, def.type);
    return {
      outputs: r.outputs,
      metrics: r.metrics ?? {},
      meta: { type: def.type, version: def.version, params: task.params, node: task.nodeId, runId: ctx.runId, createdAt: Date.now(), durationMs: Date.now() - ctx.started },
    };
  });
}

function checkOutputs(ports: readonly { name: string; type: string }[], outputs: Record<string, PortValue>, type: string): void {
  for (const p of ports) {
    const v = outputs?.[p.name];
    if (!v) throw new Error(`${type} did not produce its "${p.name}" output`);
    if (v.type !== p.type) throw new Error(`${type} produced a ${v.type} on its "${p.name}" output, which is a ${p.type} port`);
  }
}
