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

export function createWebBridge(opts: WebClientOptions): LoramBridge & { close(): void } {
  const f = opts.fetch ?? fetch.bind(globalThis);
  async function call(kind: 'engine' | 'host', op: string, args: unknown[]): Promise<unknown> {
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
  }

  const listeners = new Set<EngineListener>();
  let ws: WebSocket | null = null;
  let closed = false;
  let retry = 250;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const WS = opts.WebSocket ?? globalThis.WebSocket;

  function connect(): void {
    if (closed || ws || !WS) return;
    const url = `${opts.origin.replace(/^http/, 'ws')}/api/events?token=${encodeURIComponent(opts.token)}`;
    const sock = new WS(url);
    ws = sock;
    sock.onopen = () => {
      retry = 250;
      opts.onConnection?.(true);
    };
    sock.onmessage = (m) => {
      let ev: { type: string };
      try {
        ev = JSON.parse(String(m.data)) as { type: string };
      } catch {
        return;
      }
      if (ev.type === 'hello') return;
      for (const l of [...listeners]) l(ev as EngineEvent);
    };
    sock.onclose = () => {
      ws = null;
      opts.onConnection?.(false);
      if (!closed && listeners.size > 0) {
        timer = setTimeout(connect, retry);
        retry = Math.min(retry * 2, 5000);
      }
    };
    sock.onerror = () => sock.close();
  }

  const engine = {} as Record<string, unknown>;
  for (const op of ENGINE_OPS) engine[op] = (...args: unknown[]) => call('engine', op, args);
  engine.subscribe = (listener: EngineListener) => {
    listeners.add(listener);
    connect();
    return () => {
      listeners.delete(listener);
    };
  };

  const host = {} as Record<string, unknown>;
  for (const op of HOST_OPS) host[op] = (...args: unknown[]) => call('host', op, args);
  host.setTitle = async (title: string, dirty: boolean) => {
    if (typeof document !== 'undefined') document.title = `${dirty ? '● ' : ''}${title}`;
  };
  host.onCommand = () => () => undefined;

  return {
    engine: engine as unknown as EngineClient,
    host: host as unknown as HostApi,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      ws?.close();
    },
  };
}

export type { EngineOp, HostOp };
