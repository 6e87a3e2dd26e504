/**
 * Where a location's bytes are on disk. One function for the engine's store and its worker, because the check
 * lives here: a store location may not leave its artifact's directory (a value is JSON a node wrote; its `path`
 * must not reach other artifacts or the rest of the disk).
 */
import path from 'node:path';
import type { Location } from '../shared';

/** An artifact's directory; its id is a node signature (hex). */
export function artifactDir(storeDir: string, artifact: string): string {
  if (!/^[0-9a-f]{16,128}$/.test(artifact)) throw new Error(`not an artifact id: "${artifact}"`);
  return path.join(storeDir, artifact);
}

/** Absolute path of a location. Store paths may not escape their artifact. */
export function resolveLocation(storeDir: string, loc: Location): string {
  if (loc.kind === 'external') return loc.path;
  const base = artifactDir(storeDir, loc.artifact);
  const p = path.resolve(base, loc.path);
  if (p !== base && !p.startsWith(base + path.sep)) throw new Error(`artifact path "${loc.path}" leaves its artifact`);
  return p;
}

/** Every store artifact a value refers to (its own location, and those inside it: a prune plan in a lineage). */
export function storeArtifactsIn(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) storeArtifactsIn(v, out);
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (o.kind === 'store' && typeof o.artifact === 'string') out.add(o.artifact);
    else for (const v of Object.values(o)) storeArtifactsIn(v, out);
  }
  return out;
}
