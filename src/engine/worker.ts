/**
 * The compute worker (a worker thread): runs one node at a time on request of the engine. Loaded through
 * worker-bootstrap.mjs, which registers tsx so this TypeScript module and the node registry load as they are.
 */
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { CancelledError } from '../shared/cancelled';
import type { NodeContext } from '../nodes/definition';
import { checkLineageAtRun } from '../nodes/lineage';
import type { NodeRegistry } from '../nodes/registry';
import { resolveLocation } from './location';
import type { HostMessage, TaskSpec, WorkerInit, WorkerMessage } from './worker-protocol';
import { errorInfo } from './worker-protocol';

const port = parentPort;
if (!port) throw new Error('worker.ts must run in a worker thread');
const init = workerData as WorkerInit;

let registryPromise: Promise<NodeRegistry> | undefined;
function loadRegistry(): Promise<NodeRegistry> {
  const spec = /^[a-z]+:/.test(init.registryModule) ? init.registryModule : pathToFileURL(init.registryModule).href;
  registryPromise ??= import(spec).then((m: { registry?: NodeRegistry }) => {
    if (!m.registry) throw new Error(`${init.registryModule} does not export "registry"`);
    return m.registry;
  });
  return registryPromise;
}

const running = new Map<number, AbortController>();
const post = (m: WorkerMessage) => port.postMessage(m);
const yieldToEvents = () => new Promise<void>((r) => setImmediate(r));

async function runTask(t: TaskSpec): Promise<void> {
  const ac = new AbortController();
  running.set(t.taskId, ac);
  const check = () => {
    if (ac.signal.aborted) throw new CancelledError();
  };
  const ctx: NodeContext = {
    nodeId: t.nodeId,
    signature: t.signature,
    outDir: t.outDir,
    signal: ac.signal,
    baseDir: t.baseDir,
    cacheDir: init.cacheDir,
    fileHashes: t.fileHashes,
    sources: t.sources,
    progress(step, total, metrics) {
      check();
      post({ kind: 'progress', taskId: t.taskId, step, total, ...(metrics ? { metrics } : {}) });
      const p = yieldToEvents().then(check);
      p.catch(() => undefined); // a caller that does not await still gets the throw at its next call
      return p;
    },
    log(message, level = 'info') {
      post({ kind: 'log', taskId: t.taskId, level, message: String(message) });
    },
    output(relPath = '') {
      return { kind: 'store', artifact: t.signature, path: relPath };
    },
    resolve(loc) {
      return resolveLocation(init.storeDir, loc);
    },
  };
  try {
    const registry = await loadRegistry();
    const def = registry.get(t.type);
    if (!def) throw new Error(`the worker's registry has no node type "${t.type}"`);
    check();
    // The node's lineage rules again, now on the real values (content hashes), before any work.
    checkLineageAtRun(def, t.inputs, t.params);
    const result = await def.run(ctx, t.inputs, t.params as never);
    check();
    post({ kind: 'done', taskId: t.taskId, result: JSON.parse(JSON.stringify(result)) });
  } catch (e) {
    post({ kind: 'error', taskId: t.taskId, error: errorInfo(e), cancelled: ac.signal.aborted });
  } finally {
    running.delete(t.taskId);
  }
}

port.on('message', (m: HostMessage) => {
  if (m.kind === 'run') void runTask(m.task);
  else if (m.kind === 'cancel') running.get(m.taskId)?.abort();
});
