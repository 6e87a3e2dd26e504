/**
 * The web shell's EngineClient and HostApi: HTTP JSON calls to `loram serve` (token in the Authorization
 * header) and a WebSocket for events that reconnects on its own.
 */
import type { EngineClient, EngineEvent, EngineListener } from '../../../shared';
import { ENGINE_OPS, HOST_OPS, type EngineOp, type HostApi, type HostOp, type IpcResult, type LoramBridge } from '../../../shared/shell-contract';

export class RemoteError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'RemoteError';
  }
}

export interface WebClientOptions {
  /** e.g. http://127.0.0.1:5173 (default: the page's origin). */
  origin: string;
  token: string;
  fetch?: typeof fetch;
  WebSocket?: typeof WebSocket;
  /** Told when the event connection goes down or comes back. */
  onConnection?: (connected: boolean) => void;
}

type Call = (kind: 'engine' | 'host', op: string, args: unknown[]) => Promise<unknown>;

/** One POST per call; every failure (network, token, a non-JSON answer, the op's own error) becomes a RemoteError. */
function httpCaller(opts: WebClientOptions): Call {
  const f = opts.fetch ?? fetch.bind(globalThis);
  return async (kind, op, args) => {
    let res: Response;
    try {
      res = await f(`${opts.origin}/api/${kind}/${op}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${opts.token}` },
        body: JSON.stringify({ args }),
      });
    } catch (e) {
      throw new RemoteError(`the LoRAM Studio server is not reachable (${(e as Error).message}); is \`loram serve\` still running?`, 'unreachable');
    }
    if (res.status === 401) throw new RemoteError('the server refused the token; open the URL `loram serve` printed', 'unauthorized');
    let body: IpcResult<unknown>;
    try {
      body = (await res.json()) as IpcResult<unknown>;
    } catch {
      throw new RemoteError(`unexpected answer from the server (HTTP ${res.status})`, 'bad-response');
    }
    if (!body.ok) throw new RemoteError(body.error.message, body.error.code);
    return body.value;
  };
}

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;

/**
 * The engine's events over one WebSocket, opened by the first subscriber. A dropped socket is reopened with a
 * doubling delay while anyone listens (the server restarting must not leave the editor deaf).
 */
function eventSocket(opts: WebClientOptions): { subscribe(listener: EngineListener): () => void; close(): void } {
  const listeners = new Set<EngineListener>();
  const WS = opts.WebSocket ?? globalThis.WebSocket;
  let ws: WebSocket | null = null;
  let closed = false;
  let retry = FIRST_RETRY_MS;
  let timer: ReturnType<typeof setTimeout> | null = null;

  function deliver(data: unknown): void {
    let ev: { type: string };
    try {
      ev = JSON.parse(String(data)) as { type: string };
    } catch {
      return;
    }
    if (ev.type === 'hello') return; // the server's greeting, not an engine event
    for (const l of [...listeners]) l(ev as EngineEvent);
  }

  function connect(): void {
    if (closed || ws || !WS) return;
    const sock = new WS(`${opts.origin.replace(/^http/, 'ws')}/api/events?token=${encodeURIComponent(opts.token)}`);
    ws = sock;
    sock.onopen = () => {
      retry = FIRST_RETRY_MS;
      opts.onConnection?.(true);
    };
    sock.onmessage = (m) => deliver(m.data);
    sock.onclose = () => {
      ws = null;
      opts.onConnection?.(false);
      if (!closed && listeners.size > 0) {
        timer = setTimeout(connect, retry);
        retry = Math.min(retry * 2, MAX_RETRY_MS);
      }
    };
    sock.onerror = () => sock.close();
  }

  return {
    subscribe(listener) {
      listeners.add(listener);
      connect();
      return () => {
        listeners.delete(listener);
      };
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      ws?.close();
    },
  };
}

/** Every op of the shell contract as a remote call, built from the contract's op lists so none is missed. */
function remoteOps(call: Call, kind: 'engine' | 'host', ops: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const op of ops) out[op] = (...args: unknown[]) => call(kind, op, args);
  return out;
}

export function createWebBridge(opts: WebClientOptions): LoramBridge & { close(): void } {
  const call = httpCaller(opts);
  const events = eventSocket(opts);
  const engine = { ...remoteOps(call, 'engine', ENGINE_OPS), subscribe: events.subscribe };
  const host = {
    ...remoteOps(call, 'host', HOST_OPS),
    // The browser's tab title stands in for the window title.
    setTitle: async (title: string, dirty: boolean) => {
      if (typeof document !== 'undefined') document.title = `${dirty ? '● ' : ''}${title}`;
    },
    // No application menu in a browser: no commands to listen for.
    onCommand: () => () => undefined,
  };
  return { engine: engine as unknown as EngineClient, host: host as unknown as HostApi, close: events.close };
}

export type { EngineOp, HostOp };
