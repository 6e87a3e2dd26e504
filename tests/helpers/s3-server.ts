/**
 * A real S3 endpoint for tests: s3rver (S3's HTTP API over a temp folder) in this process, on a free loopback
 * port, with one empty bucket. `env` is everything a client needs — pass it to openRemoteStore, or spread it
 * into a child process's environment (it overrides any AWS_PROFILE or real credentials of the machine).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

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
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory: dir, silent: true, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
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
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
