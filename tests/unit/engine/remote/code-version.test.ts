import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { codeVersion } from '../../../../src/engine/remote/code-version';

async function checkout(files: Record<string, string>): Promise<string> {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'loram-code-'));
  for (const [rel, text] of Object.entries(files)) {
    await fsp.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await fsp.writeFile(path.join(root, rel), text);
  }
  return root;
}

describe('code version', () => {
  it('is the same for the same content whatever the mtimes, and changes with a node, the engine or the lock file', async () => {
    const base = { 'src/nodes/prune.ts': 'a', 'src/engine/execute.ts': 'b', 'src/loram/x.ts': 'c', 'package-lock.json': '{}', 'src/renderer/App.tsx': 'ui' };
    const a = codeVersion(await checkout(base));
    const b = await checkout(base);
    await fsp.utimes(path.join(b, 'src/nodes/prune.ts'), new Date(0), new Date(0));
    expect(codeVersion(b)).toBe(a);
    expect(codeVersion(await checkout({ ...base, 'src/nodes/prune.ts': 'a2' }))).not.toBe(a);
    expect(codeVersion(await checkout({ ...base, 'src/engine/execute.ts': 'b2' }))).not.toBe(a);
    expect(codeVersion(await checkout({ ...base, 'package-lock.json': '{"v":2}' }))).not.toBe(a);
    // The editor's code does not decide results: a UI change keeps the workers usable.
    expect(codeVersion(await checkout({ ...base, 'src/renderer/App.tsx': 'ui2' }))).toBe(a);
  });

  it('of this checkout is 16 hex digits and stable', () => {
    expect(codeVersion()).toMatch(/^[0-9a-f]{16}$/);
    expect(codeVersion()).toBe(codeVersion());
  });
});
