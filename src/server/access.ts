/**
 * Who may talk to the web shell's server: requests that carry the per-start token (Authorization: Bearer,
 * the cookie, or ?token=), name this server in Host (DNS-rebinding guard) and come from no other origin.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';

export const LOOPBACK = '127.0.0.1';

/** [status, message] of a refused request. */
export type Refusal = [number, string];

export interface AccessGuard {
  /** The cookie that carries the token; named by port so two servers on one host do not clash. */
  cookieName(): string;
  /** null when the request is allowed. */
  refusal(req: http.IncomingMessage, url: URL): Refusal | null;
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

/** `port` is read on every request: a server asked for port 0 learns its own only once it listens. */
export function accessGuard(token: string, port: () => number): AccessGuard {
  const cookieName = () => `loram_token_${port()}`;
  const allowedHosts = () => new Set([`${LOOPBACK}:${port()}`, `localhost:${port()}`]);
  const allowedOrigins = () => new Set([`http://${LOOPBACK}:${port()}`, `http://localhost:${port()}`]);
  return {
    cookieName,
    refusal(req, url) {
      if (!allowedHosts().has(req.headers.host ?? '')) return [403, 'forbidden host'];
      const origin = req.headers.origin;
      if (origin && origin !== 'null' && !allowedOrigins().has(origin)) return [403, 'cross-origin request refused'];
      const auth = req.headers.authorization;
      const bearer = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : null;
      const ok = sameToken(bearer, token) || sameToken(url.searchParams.get('token'), token) || sameToken(parseCookies(req.headers.cookie)[cookieName()], token);
      return ok ? null : [401, 'unauthorized: this LoRAM Studio server needs the token printed when it started (open the URL it printed)'];
    },
  };
}
