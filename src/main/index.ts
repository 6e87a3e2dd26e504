/** Electron main entry (out/main/index.js, package.json "main"). */
import { startApp } from './app';

void startApp().catch((e: unknown) => {
  console.error('LoRAM Studio failed to start:', e);
  process.exit(1);
});
