#!/usr/bin/env node
// `loram`: run the compiled CLI in lib/ (plain JavaScript, no transpiler at start-up). lib/ is built by the
// install step (`prepare`) and rebuilt here first whenever src/ changed since (bin/build-cli.mjs), so it is never
// stale. Where esbuild is missing (it comes with tsx), fall back to transpiling the sources through tsx.
import { ensureCompiled } from './build-cli.mjs';

let main;
try {
  await ensureCompiled();
  ({ main } = await import('../lib/cli/main.js'));
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes('esbuild')) throw e;
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
