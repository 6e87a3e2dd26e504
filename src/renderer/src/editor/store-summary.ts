/** The artifact store in words, for the Runs tab: size, what a clean-up would remove, the limits that apply. */
import type { StoreSummary } from '../../../shared';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

export function describeStore(s: StoreSummary): { size: string; unused: string; limits: string; damaged: string | null } {
  return {
    size: `${formatBytes(s.bytes)} in ${s.artifacts} artifact${s.artifacts === 1 ? '' : 's'}`,
    unused: s.unusedArtifacts ? `${s.unusedArtifacts} used by no run in the history (${formatBytes(s.unusedBytes)})` : 'every artifact belongs to a run in the history',
    limits: `${s.capBytes === null ? 'no size cap (LORAM_CACHE_MAX_GIB)' : `cap ${formatBytes(s.capBytes)}`}; the ${s.keepRuns} newest runs are always kept`,
    damaged: s.damaged.count ? `${s.damaged.count} damaged artifact${s.damaged.count === 1 ? '' : 's'} kept for inspection in ${s.damaged.dir} (${formatBytes(s.damaged.bytes)})` : null,
  };
}
