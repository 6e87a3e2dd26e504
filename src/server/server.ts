/**
 * The web shell's server: the built renderer plus the engine API, on 127.0.0.1 only.
 *
 *   GET  /?token=T            the editor (sets an HttpOnly, SameSite=Strict cookie so its assets load)
 *   POST /api/engine/<op>     {"args": [...]} → {"ok": true, "value": ...} | {"ok": false, "error": {...}}
 *   POST /api/host/<op>       the same for host operations (recent files, recovery file, directory listing)
 *   GET  /api/events          WebSocket: every engine event as one JSON text message
 *
 * Every request must carry the per-start token (Authorization: Bearer, the cookie, or ?token=); anything else
 * gets 401. The Host header must name this server (DNS-rebinding guard) and a cross-origin Origin is refused.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { EngineClient } from '../shared/index';
import { accessGuard, LOOPBACK, newToken, type AccessGuard } from './access';
import { API_OP_PATH, handleApiOp } from './api';
import { openEventChannel } from './events';
import type { FileHost } from './host';
import { send, sendJson } from './http';
import { serveStatic } from './static';

export interface ServerOptions {
  engine: EngineClient;
  host: FileHost;
  /** The built renderer (index.html + assets); null serves only the API. */
  staticDir: string | null;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default: 32 random bytes, hex. */
  token?: string;
  log?: (line: string) => void;
}

export interface RunningServer {
  /** The editor's address, token included: what the user opens. */
  url: string;
  origin: string;
  port: number;
  token: string;
  server: http.Server;
  close(): Promise<void>;
}

interface Site {
  engine: EngineClient;
  host: FileHost;
  staticDir: string | null;
  token: string;
  access: AccessGuard;
  port: () => number;
}

async function handleRequest(site: Site, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', `http://${LOOPBACK}:${site.port()}`);
  const denied = site.access.refusal(req, url);
  if (denied) return send(res, denied[0], denied[1]);
  const op = API_OP_PATH.exec(url.pathname);
  if (op) return handleApiOp(req, res, op, site.engine, site.host);
  if (url.pathname === '/api/health') return sendJson(res, 200, { ok: true });
  if (url.pathname.startsWith('/api/')) return send(res, 404, 'not found');
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed');
  return serveStatic(req, res, url, site.staticDir, site.token, site.access);
}

function createHttpServer(site: Site, log: (line: string) => void): http.Server {
  const server = http.createServer((req, res) => {
    handleRequest(site, req, res).catch((e) => {
      log(`error handling ${req.method} ${req.url}: ${(e as Error).stack ?? e}`);
      if (!res.headersSent) send(res, 500, 'internal error');
      else res.end();
    });
  });
  server.headersTimeout = 30_000;
  server.requestTimeout = 120_000;
  return server;
}

/** Loopback only, whatever the caller wants; resolves with the port it got. */
async function listenOnLoopback(server: http.Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const token = opts.token ?? newToken();
  let port = opts.port ?? 0;
  const currentPort = () => port;
  const access = accessGuard(token, currentPort);
  const staticDir = opts.staticDir ? path.resolve(opts.staticDir) : null;
  const site: Site = { engine: opts.engine, host: opts.host, staticDir, token, access, port: currentPort };
  const server = createHttpServer(site, opts.log ?? (() => undefined));
  const events = openEventChannel(server, opts.engine, access, currentPort);
  try {
    port = await listenOnLoopback(server, port);
  } catch (e) {
    events.close();
    throw e;
  }
  const origin = `http://${LOOPBACK}:${port}`;
  return {
    url: `${origin}/?token=${token}`,
    origin,
    port,
    token,
    server,
    close: async () => {
      events.close();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
