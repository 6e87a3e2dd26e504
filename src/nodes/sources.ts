/**
 * Where a node's path params point: `builtin:large` / `builtin:small` in a Load node name the model family of
 * models/ (src/loram/model/builtin.ts: names, folders, LORAM_MODELS_DIR); any other path is relative to the
 * recipe's folder.
 */
import path from 'node:path';
import { BUILTIN_MODELS, BUILTIN_NAMES, modelsDir } from '../loram/model/builtin';

export const BUILTIN_PREFIX = 'builtin:';

/** `builtin:large` → models/loram-large; a relative path → against baseDir; an absolute path as is. */
export function resolveModelSource(source: string, baseDir: string): string {
  if (source.startsWith(BUILTIN_PREFIX)) {
    const name = source.slice(BUILTIN_PREFIX.length);
    const spec = (BUILTIN_MODELS as Record<string, { dir: string } | undefined>)[name];
    return path.join(modelsDir(), spec ? spec.dir : name);
  }
  return path.resolve(baseDir, source);
}

export function isBuiltin(source: string): boolean {
  return source.startsWith(BUILTIN_PREFIX) && (BUILTIN_NAMES as readonly string[]).includes(source.slice(BUILTIN_PREFIX.length));
}

/** A param path resolved against the recipe's folder. */
export function resolvePath(p: string, baseDir: string): string {
  return path.resolve(baseDir, p);
}
