/** The built renderer's files, served to the token holder; the editor page gets the CSP and the token cookie. */
import { promises as fsp } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { EDITOR_CSP } from '../shared/csp';
import type { AccessGuard } from './access';
import { send } from './http';

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

function pageHeaders(url: URL, token: string, access: AccessGuard): Record<string, string> {
  const extra: Record<string, string> = { 'Content-Security-Policy': EDITOR_CSP, 'X-Frame-Options': 'DENY' };
  // Assets load with the cookie; the page itself reads the token from its URL for API calls.
  if (url.searchParams.get('token')) extra['Set-Cookie'] = `${access.cookieName()}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
  return extra;
}

/** `staticDir` is absolute; null when the editor is not built. */
export async function serveStatic(req: http.IncomingMessage, res: http.ServerResponse, url: URL, staticDir: string | null, token: string, access: AccessGuard): Promise<void> {
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
  const isPage = type.startsWith('text/html');
  const extra = isPage ? pageHeaders(url, token, access) : {};
  if (req.method === 'HEAD') {
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, ...extra });
    res.end();
    return;
  }
  send(res, 200, body, type, { ...extra, 'Cache-Control': isPage ? 'no-store' : 'private, max-age=3600' });
}
