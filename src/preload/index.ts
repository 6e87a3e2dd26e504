/**
 * The preload bridge (sandboxed, context-isolated): exposes `window.loram` with one function per engine and host
 * operation. Nothing of ipcRenderer leaks: each function invokes its own channel, errors come back as data and
 * are rethrown as plain Errors, and event subscriptions wrap the listener so it never sees the IPC event object.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { EngineEvent } from '../shared/index';
import { CHANNELS, ENGINE_OPS, HOST_OPS, type EngineOp, type HostOp, type IpcResult } from '../shared/shell-contract';

class BridgeError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'BridgeError';
  }
}

async function invoke(channel: string, args: unknown[]): Promise<unknown> {
  const r = (await ipcRenderer.invoke(channel, ...args)) as IpcResult<unknown>;
  if (!r || typeof r !== 'object' || !('ok' in r)) throw new BridgeError('unexpected answer from the main process', 'bad-response');
  if (!r.ok) throw new BridgeError(r.error.message, r.error.code);
  return r.value;
}

function listen<T>(channel: string, listener: (payload: T) => void): () => void {
  if (typeof listener !== 'function') throw new TypeError('listener must be a function');
  const wrapped = (_event: IpcRendererEvent, payload: T) => listener(payload);
  ipcRenderer.on(channel, wrapped);
  return () => {
    ipcRenderer.removeListener(channel, wrapped);
  };
}

export function buildBridge() {
  const engine: Record<string, unknown> = {};
  for (const op of ENGINE_OPS as readonly EngineOp[]) engine[op] = (...args: unknown[]) => invoke(CHANNELS.engine(op), args);
  engine.subscribe = (listener: (e: EngineEvent) => void) => listen<EngineEvent>(CHANNELS.event, listener);
  const host: Record<string, unknown> = {};
  for (const op of HOST_OPS as readonly HostOp[]) host[op] = (...args: unknown[]) => invoke(CHANNELS.host(op), args);
  host.onCommand = (listener: (command: string) => void) => listen<string>(CHANNELS.command, (c) => typeof c === 'string' && listener(c));
  return { engine: Object.freeze(engine), host: Object.freeze(host) };
}

contextBridge.exposeInMainWorld('loram', buildBridge());
