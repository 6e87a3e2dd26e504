/**
 * A real S3 endpoint for tests: s3rver (S3's HTTP API over a temp folder) on a free loopback port, with one empty
 * bucket. `env` is everything a client needs — pass it to openRemoteStore, or spread it into a child process's
 * environment (it overrides any AWS_PROFILE or real credentials of the machine).
 *
 * s3rver runs in a child process started with --openssl-legacy-provider: it encrypts ListObjectsV2 continuation
 * tokens with DES, which OpenSSL 3 (node >= 17) refuses by default, so in this process every truncated listing
 * (MaxKeys, more than 1000 keys) would fail with a 500.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

export interface S3TestServer {
  /** The endpoint, http://127.0.0.1:<port>. */
  url: string;
  bucket: string;
  /** LORAM_S3_ENDPOINT, LORAM_S3_FORCE_PATH_STYLE, credentials, region. */
  env: Record<string, string>;
  /** s3://<bucket>/<prefix>. */
  storeUrl(prefix?: string): string;
  stop(): Promise<void>;
}

export async function startS3Server(bucket = 'loram-test'): Promise<S3TestServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loram-s3rver-'));
  const bin = path.join(path.dirname(createRequire(import.meta.url).resolve('s3rver/package.json')), 'bin/s3rver.js');
  const args = ['--openssl-legacy-provider', bin, '-d', dir, '-a', '127.0.0.1', '-p', '0', '--configure-bucket', bucket];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (process.env.LORAM_TEST_S3_LOG === '1') child.stderr!.pipe(process.stderr);
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`s3rver did not start within 15 s:\n${out}`)), 15_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (process.env.LORAM_TEST_S3_LOG === '1') process.stderr.write(d);
      const m = /listening on [\d.]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited (${code}):\n${out}`));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    LORAM_S3_ENDPOINT: url,
    LORAM_S3_FORCE_PATH_STYLE: '1',
    // s3rver accepts only this key pair (and checks the signatures made with it).
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_SESSION_TOKEN: '',
    AWS_REGION: 'us-east-1',
    // Never ask an instance-metadata service for credentials or a region on a test machine.
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  return {
    url,
    bucket,
    env,
    storeUrl: (prefix = '') => `s3://${bucket}${prefix ? `/${prefix}` : ''}`,
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
