/**
 * The engine in a utility process (Electron's `utilityProcess.fork`): an EngineClient that forwards each call to
 * the child as a message and resolves with its answer; the child's events are fanned out to subscribers. If the
 * child dies, pending calls fail and the next call starts a fresh one (the store and run history are on disk).
 */
import type { EngineClient, EngineEvent, EngineListener } from '../shared/index';
import { ENGINE_OPS, type EngineOp, type IpcResult } from '../shared/shell-contract';

/** What the host sends and receives (structured-clone messages over the process's parentPort). */
export type ToEngineProcess = { kind: 'call'; id: number; op: EngineOp; args: unknown[] };
export type FromEngineProcess = { kind: 'result'; id: number; result: IpcResult<unknown> } | { kind: 'event'; event: EngineEvent } | { kind: 'ready' };

/** The parts of Electron's UtilityProcess we use. */
export interface ChildLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: FromEngineProcess) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  kill(): boolean;
}

export class EngineProcessError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'EngineProcessError';
  }
}

export function createProcessEngine(fork: () => ChildLike): EngineClient & { dispose(): void } {
  let child: ChildLike | null = null;
  let nextId = 1;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const listeners = new Set<EngineListener>();

  function start(): ChildLike {
    const c = fork();
    c.on('message', (m: FromEngineProcess) => {
      if (m.kind === 'event') for (const l of [...listeners]) l(m.event);
      else if (m.kind === 'result') {
        const p = pending.get(m.id);
        if (!p) return;
        pending.delete(m.id);
        if (m.result.ok) p.resolve(m.result.value);
        else p.reject(new EngineProcessError(m.result.error.message, m.result.error.code));
      }
    });
    c.on('exit', (code: number) => {
      if (child === c) child = null;
      for (const [, p] of pending) p.reject(new EngineProcessError(`the engine process exited (code ${code})`, 'engine-exited'));
      pending.clear();
    });
    return c;
  }

  function call(op: EngineOp, args: unknown[]): Promise<unknown> {
    child ??= start();
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      child!.postMessage({ kind: 'call', id, op, args } satisfies ToEngineProcess);
    });
  }

  const client: Record<string, unknown> = {};
  for (const op of ENGINE_OPS) client[op] = (...args: unknown[]) => call(op, args);
  client.subscribe = (l: EngineListener) => {
    listeners.add(l);
    child ??= start();
    return () => listeners.delete(l);
  };
  client.dispose = () => {
    child?.kill();
    child = null;
  };
  return client as unknown as EngineClient & { dispose(): void };
}
