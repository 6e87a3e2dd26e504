import { mkdtempSync, promises as fsp, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { atomicWriteDir, atomicWriteFile, atomicWriteFileWith } from '../../../src/loram/io/atomic';

let root: string;
let n = 0;
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'loram-atomic-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
async function freshParent(): Promise<string> {
  const p = path.join(root, `p${n++}`);
  await fsp.mkdir(p);
  return p;
}

describe('atomicWriteFile', () => {
  test('creates and replaces a file, leaving nothing else behind', async () => {
    const dir = await freshParent();
    const f = path.join(dir, 'recipe.json');
    await atomicWriteFile(f, '{"v":1}\n');
    await atomicWriteFile(f, new Uint8Array([0x7b, 0x7d]));
    expect(readFileSync(f, 'utf8')).toBe('{}');
    expect(readdirSync(dir)).toEqual(['recipe.json']);
  });

  test('a failing writer leaves the previous content and no temp file', async () => {
    const dir = await freshParent();
    const f = path.join(dir, 'recipe.json');
    writeFileSync(f, 'old');
    await expect(
      atomicWriteFileWith(f, async (fh) => {
        await fh.write('half of the new con');
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    expect(readFileSync(f, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['recipe.json']);
  });

  test('a missing parent directory is an error, not a silent success', async () => {
    const dir = await freshParent();
    await expect(atomicWriteFile(path.join(dir, 'no', 'such', 'x.json'), '{}')).rejects.toThrow(/ENOENT/);
  });
});

describe('atomicWriteDir', () => {
  test('creates the directory (and its parents) and returns what fill returns', async () => {
    const parent = await freshParent();
    const target = path.join(parent, 'a', 'b');
    const r = await atomicWriteDir(target, async (tmp) => {
      await fsp.writeFile(path.join(tmp, 'x.txt'), 'x');
      await fsp.mkdir(path.join(tmp, 'sub'));
      await fsp.writeFile(path.join(tmp, 'sub', 'y.txt'), 'y');
      return 42;
    });
    expect(r).toBe(42);
    expect(readFileSync(path.join(target, 'sub', 'y.txt'), 'utf8')).toBe('y');
    expect(readdirSync(path.join(parent, 'a'))).toEqual(['b']);
  });

  test('replaces an existing directory completely', async () => {
    const parent = await freshParent();
    const target = path.join(parent, 't');
    await atomicWriteDir(target, (tmp) => fsp.writeFile(path.join(tmp, 'old.txt'), 'old'));
    await atomicWriteDir(target, (tmp) => fsp.writeFile(path.join(tmp, 'new.txt'), 'new'));
    expect(readdirSync(target)).toEqual(['new.txt']);
    expect(readdirSync(parent)).toEqual(['t']);
  });

  test('a failing fill keeps the old directory and removes the temp one', async () => {
    const parent = await freshParent();
    const target = path.join(parent, 't');
    await atomicWriteDir(target, (tmp) => fsp.writeFile(path.join(tmp, 'old.txt'), 'old'));
    await expect(
      atomicWriteDir(target, async (tmp) => {
        await fsp.writeFile(path.join(tmp, 'new.txt'), 'new');
        throw new Error('fill failed');
      }),
    ).rejects.toThrow('fill failed');
    expect(readdirSync(target)).toEqual(['old.txt']);
    expect(readdirSync(parent)).toEqual(['t']);
  });

  test('refuses to replace a symbolic link', async () => {
    const parent = await freshParent();
    await fsp.mkdir(path.join(parent, 'real'));
    await fsp.symlink(path.join(parent, 'real'), path.join(parent, 'link'));
    await expect(atomicWriteDir(path.join(parent, 'link'), () => undefined)).rejects.toThrow(/is a symbolic link/);
    expect(readdirSync(parent).sort()).toEqual(['link', 'real']);
  });

  test('refuses to replace a regular file', async () => {
    const parent = await freshParent();
    const target = path.join(parent, 'f');
    writeFileSync(target, 'i am a file');
    await expect(atomicWriteDir(target, () => undefined)).rejects.toThrow(/exists and is not a directory/);
    expect(readFileSync(target, 'utf8')).toBe('i am a file');
    expect(readdirSync(parent)).toEqual(['f']);
  });
});
