/** LORAM_HOME: where the artifact store and the run history live (default: the user's cache folder + /loram). */
import os from 'node:os';
import path from 'node:path';

export function defaultCacheDir(): string {
  if (process.platform === 'win32') return process.env.LOCALAPPDATA ?? path.join(os.homedir(), 'AppData', 'Local');
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Caches');
  return process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
}

export function loramHome(): string {
  return path.resolve(process.env.LORAM_HOME || path.join(defaultCacheDir(), 'loram'));
}
