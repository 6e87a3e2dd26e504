/**
 * The S3 client's settings, from the environment only (never from the store URL or a recipe):
 *  - credentials: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), else AWS_PROFILE, else the
 *    SDK's default chain (process environment, ~/.aws profiles, SSO, instance roles);
 *  - endpoint: LORAM_S3_ENDPOINT or AWS_ENDPOINT_URL_S3, for S3-compatible stores (MinIO, s3rver, Ceph);
 *  - LORAM_S3_FORCE_PATH_STYLE=1: http://host/bucket/key instead of http://bucket.host/key (most such stores);
 *  - AWS_REGION (or AWS_DEFAULT_REGION), us-east-1 when unset.
 */
export interface S3Settings {
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  profile?: string;
}

export function s3Settings(env: NodeJS.ProcessEnv): S3Settings {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  const out: S3Settings = { region, forcePathStyle: flag(env.LORAM_S3_FORCE_PATH_STYLE, 'LORAM_S3_FORCE_PATH_STYLE') };
  const endpointVar = env.LORAM_S3_ENDPOINT ? 'LORAM_S3_ENDPOINT' : env.AWS_ENDPOINT_URL_S3 ? 'AWS_ENDPOINT_URL_S3' : null;
  if (endpointVar) out.endpoint = checkEndpoint(env[endpointVar]!, endpointVar);
  const id = env.AWS_ACCESS_KEY_ID;
  const secret = env.AWS_SECRET_ACCESS_KEY;
  if (id || secret) {
    if (!id || !secret) throw new Error(`${id ? 'AWS_ACCESS_KEY_ID' : 'AWS_SECRET_ACCESS_KEY'} is set but ${id ? 'AWS_SECRET_ACCESS_KEY' : 'AWS_ACCESS_KEY_ID'} is not: set both, or neither (and AWS_PROFILE)`);
    out.credentials = { accessKeyId: id, secretAccessKey: secret, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
  } else if (env.AWS_PROFILE) out.profile = env.AWS_PROFILE;
  return out;
}

function flag(v: string | undefined, name: string): boolean {
  if (v === undefined || v === '' || v === '0' || v.toLowerCase() === 'false') return false;
  if (v === '1' || v.toLowerCase() === 'true') return true;
  throw new Error(`${name}="${v}": expected 1 or 0`);
}

function checkEndpoint(v: string, name: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new Error(`${name}="${v}" is not a URL: expected e.g. http://127.0.0.1:9000 or https://s3.example.com`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`${name} must be an http:// or https:// URL (got ${u.protocol}//…)`);
  if (u.username || u.password) throw new Error(`${name} may not hold credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)`);
  return v;
}
