/** Entry for `node --import tsx src/server/main.ts [serve options]` (what bin/start.mjs and the e2e tests run). */
import { runServeCommand } from './serve';

process.exitCode = await runServeCommand(process.argv.slice(2));
