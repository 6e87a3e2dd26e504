/**
 * ArtifactStore.importVerified: an artifact made elsewhere (a download) enters the local store only when every
 * file matches the manifest that came with it, and the directory holds nothing else; otherwise nothing is left.
 */
import { existsSync, promises as fsp, readdirSync } from 'node:fs';
import path from 'node:path';
import { MANIFEST_FILE } from '../../../src/engine/manifest';
import { ArtifactStore, OUTPUTS_FILE } from '../../../src/engine/store';
import { tempHome } from './helpers';

const SIG = 'ab'.repeat(32);
const META = { type: 'T', version: 1, params: {}, node: 'n', runId: 'r', createdAt: 0, durationMs: 1 };

/** A genuine artifact, made by the store's own produce, to import copies of. */
async function source(): Promise<string> {
  const a = new ArtifactStore(tempHome());
  await a.open();
  await a.produce(SIG, async (tmp) => {
    await fsp.mkdir(path.join(tmp, 'model'));
    await fsp.writeFile(path.join(tmp, 'model', 'weights.bin'), Buffer.alloc(4096, 3));
    await fsp.writeFile(path.join(tmp, 'notes.txt'), 'hello');
    return { outputs: {}, metrics: { loss: 1 }, meta: META };
  });
  return a.pathOf(SIG);
}

async function target(): Promise<ArtifactStore> {
  const b = new ArtifactStore(tempHome());
  await b.open();
  return b;
}

const leftovers = (s: ArtifactStore) => readdirSync(s.dir);

test('an intact copy is published and reads back as a complete artifact', async () => {
  const src = await source();
  const b = await target();
  const rec = await b.importVerified(SIG, (tmp) => fsp.cp(src, tmp, { recursive: true }));
  expect(rec.metrics).toEqual({ loss: 1 });
  expect((await b.check(SIG, 'full')).state).toBe('ok');
  expect(await fsp.readFile(path.join(b.pathOf(SIG), MANIFEST_FILE), 'utf8')).toBe(await fsp.readFile(path.join(src, MANIFEST_FILE), 'utf8'));
  expect(leftovers(b)).toEqual([SIG]);
});

test.each([
  ['a changed byte', async (tmp: string) => fsp.writeFile(path.join(tmp, 'model', 'weights.bin'), Buffer.alloc(4096, 4)), /model\/weights.bin has the right size but not the content/],
  ['a truncated file', async (tmp: string) => fsp.truncate(path.join(tmp, 'notes.txt'), 2), /notes.txt is 2 bytes, the manifest says 5/],
  ['a missing file', async (tmp: string) => fsp.rm(path.join(tmp, 'notes.txt')), /notes.txt is missing/],
  ['a file the manifest does not list', async (tmp: string) => fsp.writeFile(path.join(tmp, 'extra.bin'), 'x'), /extra.bin is not in the manifest/],
  ['no manifest', async (tmp: string) => fsp.rm(path.join(tmp, MANIFEST_FILE)), /manifest.json: ENOENT/],
  [
    'a symbolic link',
    async (tmp: string) => {
      await fsp.rename(path.join(tmp, 'notes.txt'), path.join(tmp, 'real.txt'));
      await fsp.symlink('real.txt', path.join(tmp, 'notes.txt'));
    },
    /notes.txt is a symbolic link/,
  ],
  [
    'a manifest that leaves out outputs.json',
    async (tmp: string) => {
      const m = JSON.parse(await fsp.readFile(path.join(tmp, MANIFEST_FILE), 'utf8'));
      m.bytes -= m.files[OUTPUTS_FILE].size;
      delete m.files[OUTPUTS_FILE];
      await fsp.writeFile(path.join(tmp, MANIFEST_FILE), JSON.stringify(m));
    },
    /the manifest does not list outputs.json.*outputs.json is not in the manifest/,
  ],
  [
    "another artifact's record",
    async (tmp: string) => {
      const rec = JSON.parse(await fsp.readFile(path.join(tmp, OUTPUTS_FILE), 'utf8'));
      const m = JSON.parse(await fsp.readFile(path.join(tmp, MANIFEST_FILE), 'utf8'));
      const text = JSON.stringify({ ...rec, signature: 'cd'.repeat(32) });
      const { createHash } = await import('node:crypto');
      m.bytes += Buffer.byteLength(text) - m.files[OUTPUTS_FILE].size;
      m.files[OUTPUTS_FILE] = { size: Buffer.byteLength(text), sha256: createHash('sha256').update(text).digest('hex') };
      await fsp.writeFile(path.join(tmp, OUTPUTS_FILE), text);
      await fsp.writeFile(path.join(tmp, MANIFEST_FILE), JSON.stringify(m));
    },
    /outputs.json is the record of artifact cdcd/,
  ],
])('%s: refused, naming the problem, and nothing is left', async (_what, damage, message) => {
  const src = await source();
  const b = await target();
  await expect(
    b.importVerified(SIG, async (tmp) => {
      await fsp.cp(src, tmp, { recursive: true });
      await damage(tmp);
    }),
  ).rejects.toThrow(message);
  expect(existsSync(b.pathOf(SIG))).toBe(false);
  expect(leftovers(b)).toEqual([]);
});
