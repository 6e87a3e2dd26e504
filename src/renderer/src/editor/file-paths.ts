/**
 * Path rules of the web shell's file dialog. The folders are on the machine running `loram serve`, which may
 * not be the browser's, so its separator is read from the paths it sends rather than assumed.
 */

/** The separator of the server's paths: a backslash only for a path with backslashes and no slash (Windows). */
export function pathSeparator(dir: string | undefined): '/' | '\\' {
  return dir?.includes('\\') && !dir.includes('/') ? '\\' : '/';
}

export function joinPath(dir: string, name: string, sep: '/' | '\\'): string {
  return dir.endsWith(sep) ? dir + name : dir + sep + name;
}

/** An absolute path: from the root, or from a drive letter. */
export function isAbsolutePath(p: string): boolean {
  return /^([A-Za-z]:)?[\\/]/.test(p);
}

/**
 * The file the dialog picks for what was typed: an absolute path as it is, a name in the folder shown; a saved
 * recipe gets `.json` when it lacks it. Null when nothing was typed.
 */
export function pickedPath(typed: string, dir: string, mode: 'open' | 'save'): string | null {
  const n = typed.trim();
  if (!n) return null;
  const full = isAbsolutePath(n) ? n : joinPath(dir, n, pathSeparator(dir));
  return mode === 'save' && !/\.json$/i.test(full) ? `${full}.json` : full;
}

/** The last part of a path, on either separator. */
export function baseName(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}
