/**
 * Recipe files: written atomically (temp file in the same folder + fsync + rename, via src/loram/io/atomic.ts),
 * so a crash or a kill during a save leaves the old file or the new one, never a mix.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { atomicWriteFile } from '../loram/io/atomic';

export async function atomicSaveText(file: string, text: string): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await atomicWriteFile(file, text);
}
