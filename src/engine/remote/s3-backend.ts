/**
 * A remote store in an S3 bucket (AWS, or MinIO, Ceph, s3rver… through LORAM_S3_ENDPOINT). Under the prefix:
 *   <sig>/manifest.json          the published marker: the manifest's exact bytes, with the object metadata
 *                                loram-upload=<token> naming the upload that holds the files
 *   <sig>/files-<token>/<rel>    the files of one upload
 * A publish writes its files under a fresh token, checks each stored object against the manifest (the service's
 * SHA-256 when it reports one, else by reading the object back), and only then writes manifest.json: last, and
 * only if absent (If-None-Match: *, where the service honours it). Readers start from manifest.json, so they see
 * nothing or the whole artifact; and two workers publishing one signature never write the same keys, so a
 * loser's files (bytes may differ between runs on GPUs) cannot mix into the winner's artifact. An upload that no
 * manifest names is staging; sweepStaging removes it by age.
 *
 * Each file goes up in one PutObject, streamed from disk with its length, so up to S3's 5 GiB single-request
 * limit (bigger needs multipart, i.e. @aws-sdk/lib-storage, not installed; model shards are 2 GB by default).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type * as S3 from '@aws-sdk/client-s3';
import { MANIFEST_FILE, type ManifestEntry } from '../manifest';
import { publishedManifest, RemoteIntegrityError, type PublishedArtifact, type StoreBackend, type TransferOptions } from './backend';
import { describeDigest, digestStream, HashingStream, type Digest } from './hash-stream';
import { assertSameContent, type LocalArtifact, type LocalFile } from './local-artifact';
import { s3Settings } from './s3-config';
import { displayStoreUrl } from './store-url';

export const S3_MAX_OBJECT_BYTES = 5 * 1024 ** 3;
const UPLOAD_META = 'loram-upload';
const TOKEN_RE = /^[0-9a-z]{8,40}$/;
const FILE_KEY_RE = /^([0-9a-f]{16,128})\/files-([0-9a-z]{8,40})\//;

/** The SDK module (loaded on first use: the local path never loads it), a client and the bucket. */
export interface S3Target {
  sdk: typeof S3;
  client: S3.S3Client;
  bucket: string;
}

/** `override`: client settings for tests only (the environment decides everything else). */
export async function openS3Backend(url: { bucket: string; prefix: string }, env: NodeJS.ProcessEnv, override: Partial<S3.S3ClientConfig> = {}): Promise<StoreBackend> {
  const settings = s3Settings(env);
  const sdk = await import('@aws-sdk/client-s3');
  const client = new sdk.S3Client({
    region: settings.region,
    endpoint: settings.endpoint,
    forcePathStyle: settings.forcePathStyle,
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
    ...(settings.profile ? { profile: settings.profile } : {}),
    // Checksums only where S3 requires one: the SDK's default sends streamed bodies aws-chunked with a trailing
    // CRC, which some S3-compatible stores (s3rver among them) save verbatim. Uploads carry our own SHA-256.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...override,
  });
  const backend = new S3Backend({ sdk, client, bucket: url.bucket }, url.prefix, displayStoreUrl({ kind: 's3', ...url }), settings.endpoint);
  try {
    await backend.probe();
  } catch (e) {
    client.destroy();
    throw e;
  }
  return backend;
}

class S3Backend implements StoreBackend {
  private readonly base: string;
  constructor(private readonly t: S3Target, prefix: string, readonly display: string, private readonly endpoint?: string) {
    this.base = prefix ? `${prefix}/` : '';
  }

  private manifestKey(sig: string): string {
    return `${this.base}${sig}/${MANIFEST_FILE}`;
  }

  private fileKey(sig: string, token: string, rel: string): string {
    return `${this.base}${sig}/files-${token}/${rel}`;
  }

  /** Fail at open, with a clear message, on a wrong endpoint, bucket or credentials. A listing under the prefix
   *  rather than HeadBucket: a policy may allow listing only under the prefix. */
  async probe(): Promise<void> {
    await this.call('list', () => this.t.client.send(new this.t.sdk.ListObjectsV2Command({ Bucket: this.t.bucket, Prefix: this.base, MaxKeys: 1 })));
  }

  async lookup(sig: string, signal?: AbortSignal): Promise<PublishedArtifact | null> {
    const key = this.manifestKey(sig);
    let out: S3.GetObjectCommandOutput;
    try {
      out = await this.t.client.send(new this.t.sdk.GetObjectCommand({ Bucket: this.t.bucket, Key: key }), { abortSignal: signal });
    } catch (e) {
      if ((e as Error).name === 'NoSuchKey') return null;
      throw this.error(e, `read ${key}`);
    }
    const text = await out.Body!.transformToString('utf8');
    const token = out.Metadata?.[UPLOAD_META];
    if (!token || !TOKEN_RE.test(token)) {
      throw new Error(`${this.display}: ${key} has no ${UPLOAD_META} metadata naming its files (not published by LoRAM, or copied without its metadata); delete it to let the artifact be recomputed`);
    }
    const manifest = publishedManifest(text, sig, this.display);
    return { manifest, manifestText: text, open: (rel, s) => this.getStream(this.fileKey(sig, token, rel), s) };
  }

  private async getStream(key: string, signal?: AbortSignal): Promise<Readable> {
    const out = await this.call(`read ${key}`, () => this.t.client.send(new this.t.sdk.GetObjectCommand({ Bucket: this.t.bucket, Key: key }), { abortSignal: signal }));
    return out.Body as Readable;
  }

  async publish(sig: string, art: LocalArtifact, opts: TransferOptions): Promise<'published' | 'existed'> {
    const tooBig = art.files.find((f) => f.size > S3_MAX_OBJECT_BYTES);
    if (tooBig) {
      throw new Error(`${tooBig.abs} is ${tooBig.size} bytes: the S3 store uploads files of up to 5 GiB (${S3_MAX_OBJECT_BYTES} bytes), one request each (larger ones need multipart uploads, @aws-sdk/lib-storage, not installed)`);
    }
    const token = `${Date.now().toString(36)}${randomBytes(6).toString('hex')}`;
    const keys: string[] = [];
    let manifestSent = false;
    try {
      for (const [i, f] of art.files.entries()) {
        opts.signal?.throwIfAborted();
        const key = this.fileKey(sig, token, f.rel);
        keys.push(key);
        await this.putFile(key, f, opts.signal);
        await verifyStoredObject(this.t, key, f, this.display, opts.signal);
        await opts.onFile?.(f.rel, i + 1, art.files.length);
      }
      opts.signal?.throwIfAborted();
      // A sweep run with too short an age could have taken files of a long upload: never publish without them.
      await this.confirmPresent(keys, art.files);
      if (await this.lookup(sig)) {
        await this.deleteKeys(keys);
        return 'existed';
      }
      manifestSent = true;
      if (await this.putManifest(sig, token, art.manifestText)) return 'published';
      await this.deleteKeys(keys);
      return 'existed';
    } catch (e) {
      // Once the manifest may be stored, these files may be the published ones: leave them to sweepStaging.
      if (!manifestSent) await this.deleteKeys(keys).catch(() => undefined);
      throw e;
    }
  }

  /** Stream one file up, hashing it on the way (a file changed since it was manifested is refused). */
  private async putFile(key: string, f: LocalFile, signal?: AbortSignal): Promise<void> {
    const source = createReadStream(f.abs);
    const hasher = new HashingStream();
    source.on('error', (e) => hasher.destroy(e));
    source.pipe(hasher);
    const put = new this.t.sdk.PutObjectCommand({
      Bucket: this.t.bucket,
      Key: key,
      Body: hasher,
      ContentLength: f.size,
      // Checked by services that support it (AWS, MinIO): a body that arrives altered is refused.
      ChecksumSHA256: Buffer.from(f.sha256, 'hex').toString('base64'),
    });
    try {
      await this.call(`upload ${key}`, () => this.t.client.send(put, { abortSignal: signal }));
    } catch (e) {
      const read = hasher.digest();
      if (read) assertSameContent(f, read);
      throw e;
    } finally {
      source.destroy();
      hasher.destroy();
    }
    assertSameContent(f, hasher.digest());
  }

  private async confirmPresent(keys: string[], files: LocalFile[]): Promise<void> {
    for (const [i, key] of keys.entries()) {
      const head = await this.call(`check ${key}`, () => this.t.client.send(new this.t.sdk.HeadObjectCommand({ Bucket: this.t.bucket, Key: key })));
      if (head.ContentLength !== files[i].size) throw new Error(`${this.display}: ${key} changed during the upload (a concurrent sweepStaging?); not published`);
    }
  }

  /** Write the manifest if none is there; false when another publisher's is (services honouring If-None-Match). */
  private async putManifest(sig: string, token: string, text: string): Promise<boolean> {
    const key = this.manifestKey(sig);
    const put = new this.t.sdk.PutObjectCommand({
      Bucket: this.t.bucket,
      Key: key,
      Body: text,
      ContentType: 'application/json',
      Metadata: { [UPLOAD_META]: token },
      IfNoneMatch: '*',
    });
    try {
      await this.t.client.send(put);
      return true;
    } catch (e) {
      const name = (e as Error).name;
      if (name === 'PreconditionFailed' || name === 'ConditionalRequestConflict') return false;
      throw this.error(e, `publish ${key}`);
    }
  }

  private async deleteKeys(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000).map((Key) => ({ Key }));
      const out = await this.call('delete', () => this.t.client.send(new this.t.sdk.DeleteObjectsCommand({ Bucket: this.t.bucket, Delete: { Objects: batch, Quiet: true } })));
      if (out.Errors?.length) throw new Error(`${this.display}: could not delete ${out.Errors.map((x) => `${x.Key} (${x.Code})`).join(', ')}`);
    }
  }

  async sweepStaging(olderThanMs: number): Promise<number> {
    const uploads = await this.listUploads();
    const published = new Map<string, string | null | undefined>();
    let removed = 0;
    for (const u of uploads.values()) {
      if (Date.now() - u.newest < olderThanMs) continue;
      if (!published.has(u.sig)) published.set(u.sig, await this.publishedToken(u.sig));
      const token = published.get(u.sig);
      // undefined: a manifest whose token cannot be read; leave its files for a person to look at.
      if (token === undefined || token === u.token) continue;
      await this.deleteKeys(u.keys);
      removed++;
    }
    return removed;
  }

  /** Every upload under the prefix: its files and the time of the newest. */
  private async listUploads(): Promise<Map<string, { sig: string; token: string; newest: number; keys: string[] }>> {
    const uploads = new Map<string, { sig: string; token: string; newest: number; keys: string[] }>();
    let next: string | undefined;
    do {
      const page = await this.call('list', () => this.t.client.send(new this.t.sdk.ListObjectsV2Command({ Bucket: this.t.bucket, Prefix: this.base, ContinuationToken: next })));
      for (const o of page.Contents ?? []) {
        const m = FILE_KEY_RE.exec(o.Key!.slice(this.base.length));
        if (!m) continue;
        const id = `${m[1]}/${m[2]}`;
        const u = uploads.get(id) ?? { sig: m[1], token: m[2], newest: 0, keys: [] };
        u.keys.push(o.Key!);
        u.newest = Math.max(u.newest, o.LastModified?.getTime() ?? Date.now());
        uploads.set(id, u);
      }
      next = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (next);
    return uploads;
  }

  /** The token the published manifest names; null: none published; undefined: one whose token is unreadable. */
  private async publishedToken(sig: string): Promise<string | null | undefined> {
    const key = this.manifestKey(sig);
    try {
      const head = await this.t.client.send(new this.t.sdk.HeadObjectCommand({ Bucket: this.t.bucket, Key: key }));
      const token = head.Metadata?.[UPLOAD_META];
      return token && TOKEN_RE.test(token) ? token : undefined;
    } catch (e) {
      if ((e as Error).name === 'NotFound' || (e as Error).name === 'NoSuchKey') return null;
      throw this.error(e, `check ${key}`);
    }
  }

  async close(): Promise<void> {
    this.t.client.destroy();
  }

  private async call<O>(what: string, run: () => Promise<O>): Promise<O> {
    try {
      return await run();
    } catch (e) {
      throw this.error(e, what);
    }
  }

  private error(e: unknown, what: string): Error {
    const err = e as Error;
    if (err?.name === 'AbortError') return err;
    const hint = err?.name === 'CredentialsProviderError' ? ' (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)' : '';
    return new Error(`${this.display}${this.endpoint ? ` at ${this.endpoint}` : ''}: ${what}: ${err?.name ?? 'Error'}: ${err?.message ?? String(e)}${hint}`, { cause: e });
  }
}

/**
 * Check that the object at `key` holds the bytes of `expected`: by the SHA-256 the service computed, when it
 * reports one (AWS with ChecksumMode, MinIO), else by reading the object back.
 */
export async function verifyStoredObject(t: S3Target, key: string, expected: ManifestEntry, where: string, signal?: AbortSignal): Promise<void> {
  const head = await t.client.send(new t.sdk.HeadObjectCommand({ Bucket: t.bucket, Key: key, ChecksumMode: 'ENABLED' }), { abortSignal: signal });
  let got: Digest;
  const reported = head.ChecksumSHA256;
  if (head.ContentLength !== expected.size) got = { sha256: '(not read)', bytes: head.ContentLength ?? -1 };
  else if (reported && !reported.includes('-')) got = { sha256: Buffer.from(reported, 'base64').toString('hex'), bytes: head.ContentLength };
  else {
    const out = await t.client.send(new t.sdk.GetObjectCommand({ Bucket: t.bucket, Key: key }), { abortSignal: signal });
    got = await digestStream(out.Body as Readable);
  }
  if (got.sha256 === expected.sha256 && got.bytes === expected.size) return;
  throw new RemoteIntegrityError(`${where}: the stored object ${key} is not what was uploaded: ${describeDigest(got)}, expected ${describeDigest({ sha256: expected.sha256, bytes: expected.size })}; not published`);
}
