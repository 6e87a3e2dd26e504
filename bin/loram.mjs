#!/usr/bin/env node
// `loram` from the checkout without a build: register tsx (TypeScript, extensionless imports), then run the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
