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
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EngineClient } from '../shared/index';
import { HOST_OPS, type HostOp, type IpcResult } from '../shared/shell-contract';
import { dispatchEngineOp, errorResult } from './engine-ops';
import { callFileHost, type FileHost } from './host';
import { EDITOR_CSP } from '../shared/csp';

export const LOOPBACK = '127.0.0.1';
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

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

export function newToken(): string {
  return randomBytes(32).toString('hex');
}

function sameToken(a: string | null | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function parseCookies(h: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (h ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

function send(res: http.ServerResponse, status: number, body: string | Buffer, type = 'text/plain; charset=utf-8', extra: Record<string, string> = {}): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
    ...extra,
  });
  res.end(body);
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), 'application/json; charset=utf-8');
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY_BYTES) throw Object.assign(new Error('request body too large'), { status: 413 });
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const token = opts.token ?? newToken();
  const staticDir = opts.staticDir ? path.resolve(opts.staticDir) : null;
  const log = opts.log ?? (() => undefined);
  let port = opts.port ?? 0;
  const cookieName = () => `loram_token_${port}`;
  const allowedHosts = () => new Set([`${LOOPBACK}:${port}`, `localhost:${port}`]);
  const allowedOrigins = () => new Set([`http://${LOOPBACK}:${port}`, `http://localhost:${port}`]);

  /** null when allowed, else [status, message]. */
  function guard(req: http.IncomingMessage, url: URL): [number, string] | null {
    if (!allowedHosts().has(req.headers.host ?? '')) return [403, 'forbidden host'];
    const origin = req.headers.origin;
    if (origin && origin !== 'null' && !allowedOrigins().has(origin)) return [403, 'cross-origin request refused'];
    const auth = req.headers.authorization;
    const bearer = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : null;
    const ok = sameToken(bearer, token) || sameToken(url.searchParams.get('token'), token) || sameToken(parseCookies(req.headers.cookie)[cookieName()], token);
    return ok ? null : [401, 'unauthorized: this LoRAM Studio server needs the token printed when it started (open the URL it printed)'];
  }

  async function serveStatic(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    if (!staticDir) return send(res, 404, 'the editor is not built');
    const rel = decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname);
    const file = path.resolve(staticDir, '.' + rel);
    if (!file.startsWith(staticDir + path.sep)) return send(res, 403, 'forbidden');
    let body: Buffer;
    try {
      body = await fsp.readFile(file);
    } catch {
      return send(res, 404, 'not found');
    }
    const type = MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    const extra: Record<string, string> = {};
    if (type.startsWith('text/html')) {
      extra['Content-Security-Policy'] = EDITOR_CSP;
      extra['X-Frame-Options'] = 'DENY';
      // Assets load with the cookie; the page itself reads the token from its URL for API calls.
      if (url.searchParams.get('token')) extra['Set-Cookie'] = `${cookieName()}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
    }
    if (req.method === 'HEAD') {
      res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, ...extra });
      res.end();
      return;
    }
    send(res, 200, body, type, { ...extra, 'Cache-Control': type.startsWith('text/html') ? 'no-store' : 'private, max-age=3600' });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${LOOPBACK}:${port}`);
    const denied = guard(req, url);
    if (denied) return send(res, denied[0], denied[1]);
    const m = /^\/api\/(engine|host)\/([A-Za-z]+)$/.exec(url.pathname);
    if (m) {
      if (req.method !== 'POST') return send(res, 405, 'use POST', 'text/plain; charset=utf-8', { Allow: 'POST' });
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return send(res, 415, 'send application/json');
      let body: { args?: unknown };
      try {
        const text = await readBody(req);
        body = text ? (JSON.parse(text) as { args?: unknown }) : {};
      } catch (e) {
        const status = (e as { status?: number }).status ?? 400;
        return sendJson(res, status, errorResult(Object.assign(new Error((e as Error).message), { code: status === 413 ? 'too-large' : 'invalid-json' })));
      }
      const args = body && typeof body === 'object' && 'args' in body ? body.args : [];
      let result: IpcResult<unknown>;
      if (m[1] === 'engine' && m[2] === 'saveRecipe' && Array.isArray(args) && typeof args[0] === 'string' && !/\.json$/i.test(args[0])) {
        // The browser can name any path: recipes are only ever written as *.json files.
        result = { ok: false, error: { code: 'invalid-payload', message: `saveRecipe: a recipe file must end in .json (${args[0]})` } };
      } else if (m[1] === 'engine') {
        result = await dispatchEngineOp(opts.engine, m[2]!, args);
      } else if ((HOST_OPS as readonly string[]).includes(m[2]!)) {
        try {
          const v = await callFileHost(opts.host, m[2] as HostOp, args);
          result = { ok: true, value: v === undefined ? null : v };
        } catch (e) {
          result = errorResult(e);
        }
      } else {
        result = { ok: false, error: { code: 'unknown-op', message: `unknown operation "${m[2]}"` } };
      }
      return sendJson(res, result.ok ? 200 : result.error.code === 'unknown-op' ? 404 : result.error.code === 'invalid-payload' ? 400 : 500, result);
    }
    if (url.pathname === '/api/health') return sendJson(res, 200, { ok: true });
    if (url.pathname.startsWith('/api/')) return send(res, 404, 'not found');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed');
    return serveStatic(req, res, url);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      log(`error handling ${req.method} ${req.url}: ${(e as Error).stack ?? e}`);
      if (!res.headersSent) send(res, 500, 'internal error');
      else res.end();
    });
  });
  server.headersTimeout = 30_000;
  server.requestTimeout = 120_000;

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const sockets = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', `http://${LOOPBACK}:${port}`);
    const denied = url.pathname === '/api/events' ? guard(req, url) : ([404, 'not found'] as [number, string]);
    if (denied) {
      socket.write(`HTTP/1.1 ${denied[0]} ${denied[0] === 401 ? 'Unauthorized' : denied[0] === 404 ? 'Not Found' : 'Forbidden'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('error', () => sockets.delete(ws));
      // Clients only listen; a ping keeps idle connections visible.
      ws.send(JSON.stringify({ type: 'hello' }));
    });
  });

  const unsubscribe = opts.engine.subscribe((event) => {
    const text = JSON.stringify(event);
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Loopback only, whatever the caller wants.
    server.listen(port, LOOPBACK, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://${LOOPBACK}:${port}`;
  const heartbeat = setInterval(() => {
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.ping();
  }, 20_000);
  heartbeat.unref();

  return {
    url: `${origin}/?token=${token}`,
    origin,
    port,
    token,
    server,
    close: async () => {
      clearInterval(heartbeat);
      unsubscribe();
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
