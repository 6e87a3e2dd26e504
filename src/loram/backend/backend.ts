/**
 * Picks the TensorFlow.js backend once per process: tensorflow-gpu → tensorflow → wasm → cpu.
 * The native two are optional dependencies whose installers download libtensorflow (which fails offline),
 * so each candidate is tried and the reason it was skipped is kept for the UI and the metrics files.
 * LORAM_BACKEND (one of the names below) forces a choice; forcing an unavailable backend is an error.
 */
import os from 'node:os';
import { tf } from './tf';
import { installWasmFixes } from './wasm-fixes';
import { installBatchedMatMulKernel } from './wasm-bmm';

export const BACKENDS = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface BackendInfo {
  name: BackendName;
  /** tfjs's own name for the backend (tfjs-node-gpu registers itself as 'tensorflow'). */
  tfName: string;
  threads: number;
  /** Why each better backend was not used. */
  skipped: { name: BackendName; reason: string }[];
}

let current: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;

async function tryBackend(name: BackendName, threads: number): Promise<string> {
  switch (name) {
    case 'tensorflow-gpu':
      await import(/* @vite-ignore */ '@tensorflow/tfjs-node-gpu' as string);
      return 'tensorflow';
    case 'tensorflow':
      await import(/* @vite-ignore */ '@tensorflow/tfjs-node' as string);
      return 'tensorflow';
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      // tfjs disables wasm multithreading in Node (its threaded build expects browser workers).
      wasm.setThreadsCount(threads);
      installWasmFixes();
      return 'wasm';
    }
    case 'cpu':
      return 'cpu';
  }
}

function reasonOf(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0]!.slice(0, 200);
}

/** Initialise (once) and return the backend in use. */
export function initBackend(opts: { prefer?: BackendName; threads?: number } = {}): Promise<BackendInfo> {
  if (current) return Promise.resolve(current);
  pending ??= (async () => {
    const forced = opts.prefer ?? (process.env.LORAM_BACKEND as BackendName | undefined);
    if (forced && !BACKENDS.includes(forced)) {
      throw new Error(`LORAM_BACKEND="${forced}" is not a backend; expected one of ${BACKENDS.join(', ')}`);
    }
    const threads = opts.threads ?? Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
    const candidates = forced ? [forced] : [...BACKENDS];
    const skipped: BackendInfo['skipped'] = [];
    for (const name of candidates) {
      const before = listenerSnapshot();
      try {
        const tfName = await tryBackend(name, threads);
        if (!(await tf.setBackend(tfName))) throw new Error(`tf.setBackend('${tfName}') failed`);
        await tf.ready();
        if (name === 'tensorflow-gpu' && !(await hasGpu())) throw new Error('no CUDA device visible to TensorFlow');
        removeNewListeners(before);
        if (name === 'wasm') installBatchedMatMulKernel();
        current = { name, tfName, threads: name === 'wasm' || name === 'cpu' ? 1 : threads, skipped };
        return current;
      } catch (e) {
        skipped.push({ name, reason: reasonOf(e) });
        if (forced) throw new Error(`LORAM_BACKEND=${forced} is not available here: ${reasonOf(e)}`);
      }
    }
    throw new Error(`no TensorFlow.js backend could start: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
  })();
  return pending;
}

type Listeners = { uncaughtException: Function[]; unhandledRejection: Function[] };
function listenerSnapshot(): Listeners {
  return { uncaughtException: process.listeners('uncaughtException'), unhandledRejection: process.listeners('unhandledRejection') };
}
/**
 * The emscripten glue of tfjs-backend-wasm installs process-wide handlers that rethrow every uncaught error
 * from inside its minified source, burying the real message under a screen of code. We own error handling.
 */
function removeNewListeners(before: Listeners): void {
  for (const ev of ['uncaughtException', 'unhandledRejection'] as const) {
    for (const l of process.listeners(ev as 'uncaughtException')) if (!before[ev].includes(l)) process.removeListener(ev as 'uncaughtException', l);
  }
}

/** tfjs-node-gpu falls back to CPU silently when CUDA is missing; treat that as "not available". */
async function hasGpu(): Promise<boolean> {
  try {
    const backend = tf.backend() as unknown as { binding?: { isUsingGpuDevice?: () => boolean } };
    return backend.binding?.isUsingGpuDevice?.() ?? false;
  } catch {
    return false;
  }
}

export function backendInfo(): BackendInfo | undefined {
  return current;
}

/** A one-line description for logs and metrics files. */
/** What ran, said once and plainly; why faster optional backends were passed over stays in `skipped`. */
export function describeBackend(b: BackendInfo): string {
  return b.name;
}
