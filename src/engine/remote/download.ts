/**
 * Reading from a remote store into this machine: every byte is hashed as it arrives and compared with the
 * published manifest, and the local copy is published through ArtifactStore.importVerified (which checks it
 * all again from disk before its atomic rename). A mismatch names the file and both hashes and leaves nothing
 * in the local store.
 */
import { createWriteStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { MANIFEST_FILE, type ManifestEntry } from '../manifest';
import { OUTPUTS_FILE, type ArtifactRecord, type ArtifactStore } from '../store';
import { RemoteIntegrityError, type PublishedArtifact, type StoreBackend, type TransferOptions } from './backend';
import { describeDigest, HashingStream, type Digest } from './hash-stream';

/** outputs.json is read into memory by readRecord; a bigger one is not a record LoRAM wrote. */
const MAX_RECORD_BYTES = 64 * 1024 * 1024;

function mismatch(where: string, sig: string, rel: string, got: Digest, entry: ManifestEntry): RemoteIntegrityError {
  return new RemoteIntegrityError(
    `${where}: ${rel} of artifact ${sig} is not what its manifest says: got ${describeDigest(got)}, ` +
      `the manifest says ${describeDigest({ sha256: entry.sha256, bytes: entry.size })}. Nothing was written to the local store.`,
  );
}

/** See RemoteStore.fetchInto. */
export async function fetchPublished(backend: StoreBackend, sig: string, local: ArtifactStore, opts: TransferOptions = {}): Promise<boolean> {
  const here = await local.check(sig, 'sizes');
  if (here.state === 'ok' || here.state === 'legacy') return true;
  const pub = await backend.lookup(sig, opts.signal);
  if (!pub) return false;
  // The store never deletes a damaged artifact silently (ArtifactStore.quarantine); the download replaces it.
  if (here.state === 'damaged') await local.quarantine(sig, here.problems, `replaced by a download from ${backend.display}`);
  const files = Object.entries(pub.manifest.files);
  await local.importVerified(sig, async (tmp) => {
    for (const [i, [rel, entry]] of files.entries()) {
      opts.signal?.throwIfAborted();
      await downloadFile(pub, backend.display, sig, rel, entry, tmp, opts.signal);
      await opts.onFile?.(rel, i + 1, files.length);
    }
    await fsp.writeFile(path.join(tmp, MANIFEST_FILE), pub.manifestText);
  });
  return true;
}

async function downloadFile(pub: PublishedArtifact, where: string, sig: string, rel: string, entry: ManifestEntry, tmp: string, signal?: AbortSignal): Promise<void> {
  const dest = path.resolve(tmp, ...rel.split('/'));
  // publishedManifest refused '..' and absolute paths; this holds whatever the platform's path rules are.
  if (!dest.startsWith(tmp + path.sep)) throw new Error(`${where}: artifact ${sig} lists a path outside itself: ${rel}`);
  await fsp.mkdir(path.dirname(dest), { recursive: true });
  const hasher = new HashingStream();
  try {
    await pipeline(await pub.open(rel, signal), hasher, createWriteStream(dest, { flags: 'wx' }), { signal });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new Error(`${where}: cannot download ${rel} of artifact ${sig}: ${(e as Error).message}`, { cause: e });
  }
  const got = hasher.digest()!;
  if (got.sha256 !== entry.sha256 || got.bytes !== entry.size) throw mismatch(where, sig, rel, got, entry);
}

/** See RemoteStore.readRecord: outputs.json, checked against the manifest before it is parsed. */
export async function readPublishedRecord(backend: StoreBackend, sig: string): Promise<ArtifactRecord | null> {
  const pub = await backend.lookup(sig);
  if (!pub) return null;
  const entry = pub.manifest.files[OUTPUTS_FILE];
  if (entry.size > MAX_RECORD_BYTES) throw new Error(`${backend.display}: ${OUTPUTS_FILE} of artifact ${sig} is ${entry.size} bytes; a record is at most ${MAX_RECORD_BYTES}`);
  const chunks: Buffer[] = [];
  const stream = await pub.open(OUTPUTS_FILE);
  const hasher = new HashingStream();
  hasher.on('data', (c: Buffer) => chunks.push(c));
  await pipeline(stream, hasher);
  const got = hasher.digest()!;
  if (got.sha256 !== entry.sha256 || got.bytes !== entry.size) throw mismatch(backend.display, sig, OUTPUTS_FILE, got, entry);
  const rec = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ArtifactRecord;
  if (rec?.signature !== sig) throw new Error(`${backend.display}: ${OUTPUTS_FILE} of artifact ${sig} is the record of ${String(rec?.signature)}`);
  return rec;
}
