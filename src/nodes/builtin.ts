/**
 * Built-in models: `builtin:large` / `builtin:small` in a Load node name the model family of models/ (built by
 * scripts/build-models.ts; folder names from src/loram/model/builtin.ts). LORAM_MODELS_DIR overrides the folder.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTIN_MODELS as LIBRARY_BUILTINS, BUILTIN_NAMES, type BuiltinName } from '../loram/model/builtin';

export const BUILTIN_PREFIX = 'builtin:';
export const BUILTIN_MODELS = BUILTIN_NAMES;

export function modelsDir(): string {
  return process.env.LORAM_MODELS_DIR ? path.resolve(process.env.LORAM_MODELS_DIR) : fileURLToPath(new URL('../../models/', import.meta.url));
}

/** `builtin:large` → models/loram-large; a relative path → against baseDir; an absolute path as is. */
export function resolveModelSource(source: string, baseDir: string): string {
  if (source.startsWith(BUILTIN_PREFIX)) {
    const name = source.slice(BUILTIN_PREFIX.length);
    const spec = (LIBRARY_BUILTINS as Record<string, { dir: string } | undefined>)[name];
    return path.join(modelsDir(), spec ? spec.dir : name);
  }
  return path.resolve(baseDir, source);
}

export function isBuiltin(source: string): boolean {
  return source.startsWith(BUILTIN_PREFIX) && (BUILTIN_NAMES as readonly string[]).includes(source.slice(BUILTIN_PREFIX.length));
}

export type { BuiltinName };

/** A param path resolved against the recipe's folder. */
export function resolvePath(p: string, baseDir: string): string {
  return path.resolve(baseDir, p);
}
