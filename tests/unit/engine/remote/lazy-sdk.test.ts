/** The local path needs none of the S3 machinery: a folder store never loads the AWS SDK (issue 14). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../..', import.meta.url));

test('opening and querying a folder store loads no @aws-sdk module (and the probe does see one once imported)', () => {
  const script = `
    import { createRequire } from 'node:module';
    const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('@aws-sdk'));
    const { openRemoteStore } = await import('./src/engine/remote/remote-store.ts');
    const store = await openRemoteStore(process.argv[1]);
    await store.has('ab'.repeat(32));
    const folderOnly = loaded();
    await import('@aws-sdk/client-s3');
    process.stdout.write(JSON.stringify({ folderOnly, afterImport: loaded() }));`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loram-remote-lazy-'));
  const r = spawnSync(process.execPath, ['--no-warnings', '--import', 'tsx', '--input-type=module', '-e', script, dir], { cwd: ROOT, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout)).toEqual({ folderOnly: false, afterImport: true });
});
