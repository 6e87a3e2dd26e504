/**
 * The remote artifact store that workers on several machines share (issue 14): artifacts are published there
 * under their content signature and downloaded, verified, into each machine's local ArtifactStore.
 *
 * openRemoteStore(url) takes `s3://bucket/prefix` (S3 or an S3-compatible service; the SDK is loaded only then)
 * or an absolute folder every worker mounts (`/shared/dir`, `file:///shared/dir`). Credentials and the endpoint
 * come from the environment only (s3-config.ts). "Published" and the staging rules: backend.ts, with each
 * transport's layout in folder-backend.ts and s3-backend.ts.
 */
import type { ArtifactRecord, ArtifactStore } from '../store';
import type { FileProgress, StoreBackend, TransferOptions } from './backend';
import { fetchPublished, readPublishedRecord } from './download';
import { openFolderBackend } from './folder-backend';
import { readLocalArtifact } from './local-artifact';
import { parseStoreUrl } from './store-url';

export { RemoteIntegrityError } from './backend';
export type { FileProgress, TransferOptions };

/** sweepStaging's default age: far longer than any one file's upload, so an upload in progress is never taken. */
export const DEFAULT_STAGING_AGE_MS = 24 * 3600 * 1000;

export interface RemoteStore {
  /** The store's URL without credentials, for logs. */
  readonly display: string;
  /** Whether a complete published artifact exists (its manifest is published and lists outputs.json). A damaged
   *  manifest throws, naming the object to delete. */
  has(sig: string): Promise<boolean>;
  /**
   * Upload local, manifested artifact dir `localDir` and publish it under `sig`: every file goes to staging and is
   * checked against the manifest, then the artifact is made visible whole (readers see nothing or all of it).
   * 'existed' when already published (nothing uploaded). `signal` aborts between files and during one; the
   * staging is removed.
   */
  publish(sig: string, localDir: string, opts?: TransferOptions): Promise<'published' | 'existed'>;
  /**
   * Download published artifact `sig` into `local` atomically, every file checked against the remote manifest
   * (a mismatch throws RemoteIntegrityError naming the file and both hashes, and leaves nothing locally). False
   * when it is not published; true at once when `local` already has it intact (sizes checked). A damaged local
   * copy is quarantined (ArtifactStore.quarantine) and replaced. Hold the signature's lock (store-lock.ts) around
   * this, as around a computation.
   */
  fetchInto(sig: string, local: ArtifactStore, opts?: TransferOptions): Promise<boolean>;
  /** The published outputs.json (checked against the manifest), or null when not published. */
  readRecord(sig: string): Promise<ArtifactRecord | null>;
  /** Remove uploads that were never published (killed or failed publishers) older than `olderThanMs` (default a
   *  day); returns how many. A publish taking longer than that could lose its files (it then fails, never
   *  publishing a partial artifact). */
  sweepStaging(olderThanMs?: number): Promise<number>;
  close(): Promise<void>;
}

export async function openRemoteStore(url: string, env: NodeJS.ProcessEnv = process.env): Promise<RemoteStore> {
  const u = parseStoreUrl(url);
  if (u.kind === 'folder') return new RemoteArtifactStore(await openFolderBackend(u.dir));
  const { openS3Backend } = await import('./s3-backend');
  return new RemoteArtifactStore(await openS3Backend(u, env));
}

/** The RemoteStore over any transport. */
export class RemoteArtifactStore implements RemoteStore {
  readonly display: string;
  constructor(private readonly backend: StoreBackend) {
    this.display = backend.display;
  }

  async has(sig: string): Promise<boolean> {
    return (await this.backend.lookup(checkSignature(sig))) !== null;
  }

  async publish(sig: string, localDir: string, opts: TransferOptions = {}): Promise<'published' | 'existed'> {
    checkSignature(sig);
    opts.signal?.throwIfAborted();
    if (await this.backend.lookup(sig, opts.signal)) return 'existed';
    return this.backend.publish(sig, await readLocalArtifact(sig, localDir), opts);
  }

  async fetchInto(sig: string, local: ArtifactStore, opts: TransferOptions = {}): Promise<boolean> {
    return fetchPublished(this.backend, checkSignature(sig), local, opts);
  }

  async readRecord(sig: string): Promise<ArtifactRecord | null> {
    return readPublishedRecord(this.backend, checkSignature(sig));
  }

  async sweepStaging(olderThanMs = DEFAULT_STAGING_AGE_MS): Promise<number> {
    return this.backend.sweepStaging(olderThanMs);
  }

  async close(): Promise<void> {
    await this.backend.close();
  }
}

/** Signatures name keys and folders: only the local store's artifact ids (location.ts artifactDir) are accepted. */
function checkSignature(sig: string): string {
  if (!/^[0-9a-f]{16,128}$/.test(sig)) throw new Error(`not an artifact signature: "${sig}"`);
  return sig;
}
