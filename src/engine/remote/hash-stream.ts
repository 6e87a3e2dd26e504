/** SHA-256 and byte count of data as it streams past: uploads and downloads are hashed on the way, not re-read. */
import { createHash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';

export interface Digest {
  sha256: string;
  bytes: number;
}

export class HashingStream extends Transform {
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private hex: string | null = null;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.hex = this.hash.digest('hex');
    cb();
  }

  /** What passed through, once the stream has ended (null if it never did: an interrupted transfer). */
  digest(): Digest | null {
    return this.hex === null ? null : { sha256: this.hex, bytes: this.bytes };
  }
}

export async function digestStream(s: Readable): Promise<Digest> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const chunk of s) {
    h.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: h.digest('hex'), bytes };
}

export function describeDigest(d: Digest): string {
  return `SHA-256 ${d.sha256} (${d.bytes} bytes)`;
}
