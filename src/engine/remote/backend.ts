/**
 * What a remote store's transport (a shared folder, S3) provides; remote-store.ts builds the RemoteStore
 * semantics (idempotence, verified download into the local store) on top of it, once for both.
 *
 * "Published" means: the artifact's manifest is visible in the store, and it was made visible only after every
 * file it lists had been uploaded and checked against it. Anything else in the store (an upload in progress, the
 * leftovers of a killed worker) is staging, invisible to readers, and removed by `sweepStaging`.
 */
import type { Readable } from 'node:stream';
import { TEMP_PREFIX } from '../../loram/io/atomic';
import { MANIFEST_FILE, parseManifest, type Manifest } from '../manifest';
import { OUTPUTS_FILE } from '../store';
import type { LocalArtifact } from './local-artifact';

/** Stored bytes are not the ones the manifest lists (a corrupted object, a store that altered an upload). */
export class RemoteIntegrityError extends Error {
  override readonly name = 'RemoteIntegrityError';
}

/** Progress after each file, awaited (a slow callback slows the transfer instead of piling up). */
export type FileProgress = (rel: string, done: number, total: number) => void | Promise<void>;

export interface TransferOptions {
  /** Aborts between files and during a file's transfer; staging is cleaned up. */
  signal?: AbortSignal;
  onFile?: FileProgress;
}

export interface PublishedArtifact {
  readonly manifest: Manifest;
  /** The manifest's exact bytes, written unchanged into the local copy. */
  readonly manifestText: string;
  /** A stream of one listed file, as stored (the caller verifies it against the manifest). */
  open(rel: string, signal?: AbortSignal): Promise<Readable>;
}

export interface StoreBackend {
  readonly display: string;
  /** The published artifact, or null when there is none (a damaged manifest throws: see publishedManifest). */
  lookup(sig: string, signal?: AbortSignal): Promise<PublishedArtifact | null>;
  /** Upload into staging, verify, then make visible; 'existed' when someone published `sig` first. */
  publish(sig: string, art: LocalArtifact, opts: TransferOptions): Promise<'published' | 'existed'>;
  /** Remove staging older than `olderThanMs` that no published manifest refers to; returns how many uploads. */
  sweepStaging(olderThanMs: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * Parse a manifest read from a store. A damaged one is an error, not "missing": our publish never writes one, so
 * it is damage (or a foreign object) that a person should look at, and treating it as absent would make every
 * worker recompute the artifact and then fail to publish over it.
 */
export function publishedManifest(text: string, sig: string, where: string): Manifest {
  const damaged = (why: string) => new Error(`${where}: the manifest of artifact ${sig} is damaged (${why}); delete it to let the artifact be recomputed`);
  let m: Manifest;
  try {
    m = parseManifest(text, sig);
  } catch (e) {
    throw damaged((e as Error).message);
  }
  if (!Object.hasOwn(m.files, OUTPUTS_FILE)) throw damaged(`it does not list ${OUTPUTS_FILE}`);
  for (const rel of Object.keys(m.files)) {
    // parseManifest already refuses '..', '' and absolute paths; these would collide with our own names.
    if (rel === MANIFEST_FILE || /[\\\0]/.test(rel) || rel.split('/').some((s) => s === '.' || s.startsWith(TEMP_PREFIX))) {
      throw damaged(`it lists the path "${rel}"`);
    }
  }
  return m;
}
