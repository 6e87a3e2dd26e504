/**
 * What `--store` may name: an S3 bucket and key prefix (`s3://bucket/prefix`), or a folder every worker mounts at
 * the same path (`/shared/dir`, `file:///shared/dir`). Credentials never travel in the URL (it ends up in logs,
 * recipes and process lists): they come from the environment or an AWS profile (src/engine/remote/s3-config.ts).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type StoreUrl = { kind: 'folder'; dir: string } | { kind: 's3'; bucket: string; prefix: string };

const EXPECTED = 'expected s3://bucket/prefix, an absolute folder path (/shared/dir) or file:///shared/dir';
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const SEGMENT_RE = /^[A-Za-z0-9._-]+$/;

export function parseStoreUrl(url: string): StoreUrl {
  const u = url.trim();
  if (!u) throw new Error(`no artifact store given: ${EXPECTED}`);
  if (/^s3:/i.test(u)) return parseS3(u);
  if (/^file:/i.test(u)) {
    let dir: string;
    try {
      dir = fileURLToPath(u);
    } catch (e) {
      throw new Error(`"${u}" is not a usable file URL (${(e as Error).message}): ${EXPECTED}`);
    }
    return { kind: 'folder', dir: path.resolve(dir) };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(u);
  if (scheme) throw new Error(`unsupported artifact store "${scheme[1]}://…": ${EXPECTED}`);
  // Relative paths would mean a different folder on every worker (each has its own working directory).
  if (!path.isAbsolute(u)) throw new Error(`"${u}" is a relative path: ${EXPECTED}`);
  return { kind: 'folder', dir: path.resolve(u) };
}

function parseS3(u: string): StoreUrl {
  // Checked on the raw text, and the URL is not echoed: a secret may hold '/' or ':' and then fails URL parsing.
  if (u.includes('@')) {
    throw new Error('the S3 store URL may not hold credentials: give s3://bucket/prefix and set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in the environment');
  }
  const m = /^s3:\/\/([^/?#]*)(\/[^?#]*)?$/i.exec(u);
  if (!m) throw new Error(`"${u}" is not an S3 store URL (no query or fragment): ${EXPECTED}`);
  const bucket = m[1];
  if (bucket.includes(':')) throw new Error(`"${u}": an S3 URL names a bucket, not a host:port; set the endpoint in LORAM_S3_ENDPOINT`);
  if (!BUCKET_RE.test(bucket) || bucket.includes('..')) {
    throw new Error(`"${bucket}" in "${u}" is not an S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens): ${EXPECTED}`);
  }
  const segments = (m[2] ?? '').split('/').filter((s, i, all) => !(s === '' && (i === 0 || i === all.length - 1)));
  for (const s of segments) {
    if (!SEGMENT_RE.test(s) || s === '.' || s === '..') {
      throw new Error(`"${u}": the key prefix may hold only letters, digits, '.', '_', '-' and single '/' between parts (not "${s}")`);
    }
  }
  return { kind: 's3', bucket, prefix: segments.join('/') };
}

/** The URL as it should appear in logs (never holds credentials: parseStoreUrl refuses those). */
export function displayStoreUrl(u: StoreUrl): string {
  return u.kind === 'folder' ? u.dir : `s3://${u.bucket}${u.prefix ? `/${u.prefix}` : ''}`;
}
