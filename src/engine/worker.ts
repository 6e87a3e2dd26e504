/**
 * The compute worker (a worker thread): runs one node at a time on request of the engine. Loaded through
 * worker-bootstrap.mjs, which registers tsx so this TypeScript module and the node registry load as they are.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import type { NodeContext, NodeRegistry } from '../nodes/types';
import { CancelledError } from '../nodes/types';
import type { HostMessage, TaskSpec, WorkerInit, WorkerMessage } from './worker-protocol';
import { storeLocationPath } from './worker-protocol';

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

function errorInfo(e: unknown): { message: string; name?: string; stack?: string; code?: string } {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { message: e.message, name: e.name, stack: e.stack, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { message: String(e) };
}

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
      return storeLocationPath(init.storeDir, loc, path.join);
    },
  };
  try {
    const registry = await loadRegistry();
    const def = registry.get(t.type);
    if (!def) throw new Error(`the worker's registry has no node type "${t.type}"`);
    check();
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
