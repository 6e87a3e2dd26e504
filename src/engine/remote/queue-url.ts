/**
 * `--queue redis://[user:pass@]host:port[/db]` (or `rediss://` for TLS) → the connection options BullMQ and
 * ioredis take. A password may also come from LORAM_REDIS_PASSWORD (and a user from LORAM_REDIS_USERNAME), so it
 * need not be on a command line other users of the machine can read; TLS settings come from the environment:
 * LORAM_REDIS_TLS_CA (a PEM file to trust), LORAM_REDIS_TLS_CERT / LORAM_REDIS_TLS_KEY (a client certificate),
 * LORAM_REDIS_TLS_SERVERNAME (the name to check the server's certificate against).
 */
import fs from 'node:fs';

export interface QueueConnection {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; servername?: string };
  /** BullMQ's workers need every command retried rather than failed while Redis restarts. */
  maxRetriesPerRequest: null;
}

export interface ParsedQueue {
  connection: QueueConnection;
  /** The URL with its password replaced by ***, for logs and run histories. */
  display: string;
}

export class QueueUrlError extends Error {
  constructor(url: string, why: string) {
    super(`--queue "${redact(url)}": ${why}. Expected redis://[user:password@]host:port[/db] or rediss://… for TLS`);
    this.name = 'QueueUrlError';
  }
}

export function parseQueueUrl(url: string, env: NodeJS.ProcessEnv = process.env): ParsedQueue {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new QueueUrlError(url, 'not a URL');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new QueueUrlError(url, `the scheme is "${u.protocol.replace(/:$/, '')}"`);
  if (!u.hostname) throw new QueueUrlError(url, 'no host');
  const port = u.port ? Number(u.port) : 6379;
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0 || db > 15) throw new QueueUrlError(url, `the database "${dbText}" is not a number from 0 to 15`);
  const username = decodeURIComponent(u.username) || env.LORAM_REDIS_USERNAME || undefined;
  const password = decodeURIComponent(u.password) || env.LORAM_REDIS_PASSWORD || undefined;
  const connection: QueueConnection = {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    db,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    maxRetriesPerRequest: null,
  };
  const tls = tlsFromEnv(u.protocol === 'rediss:', env);
  if (tls) connection.tls = tls;
  return { connection, display: redact(url) };
}

function tlsFromEnv(wanted: boolean, env: NodeJS.ProcessEnv): QueueConnection['tls'] | undefined {
  const file = (name: string) => {
    const p = env[name];
    if (!p) return undefined;
    try {
      return fs.readFileSync(p);
    } catch (e) {
      throw new Error(`${name}=${p}: cannot read it (${(e as Error).message})`);
    }
  };
  const ca = file('LORAM_REDIS_TLS_CA');
  const cert = file('LORAM_REDIS_TLS_CERT');
  const key = file('LORAM_REDIS_TLS_KEY');
  if (!wanted) {
    if (ca || cert || key) throw new Error('LORAM_REDIS_TLS_* is set but the queue URL is redis://; use rediss:// for TLS');
    return undefined;
  }
  const servername = env.LORAM_REDIS_TLS_SERVERNAME;
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), ...(servername ? { servername } : {}) };
}

/** A queue URL safe to print: the password, if any, as ***; no query string (nothing of ours is read from it). */
export function redact(url: string): string {
  return url.replace(/^(rediss?:\/\/[^:@/]*:)[^@/]*@/, '$1***@').replace(/\?.*$/, '');
}
