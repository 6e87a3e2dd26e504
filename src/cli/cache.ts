/**
 * `loram cache ls | verify [--repair] | gc [--max-gib N] [--keep-runs K] [--dry-run]` — the artifact store under
 * LORAM_HOME (the logic: src/engine/cache.ts). Exit codes: 0 ok; 1 `verify` found damage it did not move aside,
 * or `gc` could not get under the cap (what is left belongs to kept or running runs); 2 usage.
 */
import { parseArgs } from 'node:util';
import type { Io } from './main';

export const CACHE_USAGE = `usage:
  loram cache ls [--json]                   the artifact store: each artifact's size, producer, state, last use
  loram cache verify [--repair] [--json]    hash every artifact against its manifest; --repair moves the
                                            damaged ones to LORAM_HOME/damaged/ (the next run recomputes them)
  loram cache gc [--max-gib N] [--keep-runs K] [--dry-run] [--json]
                                            remove least recently used artifacts until the store is under N GiB
                                            (default LORAM_CACHE_MAX_GIB; without a cap: only artifacts no run
                                            used), never those of the K most recent runs (default 5) or of a
                                            run in progress
`;

function usageError(io: Io, message: string): number {
  io.err.write(`loram cache: ${message}\n\n${CACHE_USAGE}`);
  return 2;
}

function parse(argv: string[], options: NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>): { values: Record<string, string | boolean | undefined>; positionals: string[] } | string {
  try {
    const r = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (e) {
    return (e as Error).message;
  }
}

function when(ms: number | undefined): string {
  if (!ms) return '-';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

type Cache = typeof import('../engine/cache');

export async function cmdCache(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const { loramHome } = await import('../engine/home');
  const cache = await import('../engine/cache');
  const home = loramHome();
  switch (sub) {
    case 'ls':
      return cacheLs(rest, io, cache, home);
    case 'verify':
      return cacheVerify(rest, io, cache, home);
    case 'gc':
      return cacheGc(rest, io, cache, home);
    case undefined:
    case 'help':
      io.out.write(CACHE_USAGE);
      return sub ? 0 : 2;
    default:
      return usageError(io, `unknown subcommand "${sub}"`);
  }
}

/** `cache ls`: each artifact's size, producer, state and last use, newest first. */
async function cacheLs(rest: string[], io: Io, cache: Cache, home: string): Promise<number> {
  const a = parse(rest, { json: { type: 'boolean' } });
  if (typeof a === 'string') return usageError(io, a);
  if (a.positionals.length) return usageError(io, `ls takes no arguments`);
  const l = await cache.listStore(home);
  if (a.values.json) {
    io.out.write(JSON.stringify(l, null, 2) + '\n');
    return 0;
  }
  const rows = [...l.artifacts].sort((x, y) => y.lastUsed - x.lastUsed);
  const w = Math.max(4, ...rows.map((r) => `${r.node ?? '?'} (${r.nodeType ?? '?'})`.length));
  io.out.write(`${'ARTIFACT'.padEnd(12)}  ${'SIZE'.padStart(10)}  ${'NODE'.padEnd(w)}  ${'STATE'.padEnd(7)}  RUNS  LAST USED\n`);
  for (const r of rows) {
    io.out.write(`${r.signature.slice(0, 12)}  ${cache.fmtBytes(r.bytes).padStart(10)}  ${`${r.node ?? '?'} (${r.nodeType ?? '?'})`.padEnd(w)}  ${r.state.padEnd(7)}  ${String(r.runs).padStart(4)}  ${when(r.lastUsed)}\n`);
    for (const p of r.problems ?? []) io.out.write(`    ${p}\n`);
  }
  let cap = '';
  try {
    const c = cache.capFromEnv();
    if (c !== undefined) cap = ` (cap LORAM_CACHE_MAX_GIB=${process.env.LORAM_CACHE_MAX_GIB})`;
  } catch (e) {
    cap = ` (${(e as Error).message})`;
  }
  io.out.write(`\n${rows.length} artifact(s), ${cache.fmtBytes(l.totalBytes)} in ${l.storeDir}${cap}\n`);
  if (l.damaged.count) io.out.write(`${l.damaged.count} damaged artifact(s) kept for inspection, ${cache.fmtBytes(l.damaged.bytes)}, in ${l.damaged.dir} (delete them when done)\n`);
  const bad = rows.filter((r) => r.state === 'damaged').length;
  if (bad) io.out.write(`${bad} artifact(s) damaged: \`loram cache verify --repair\` moves them aside, the next run recomputes them\n`);
  return 0;
}

/** `cache verify [--repair]`: hash every artifact against its manifest. */
async function cacheVerify(rest: string[], io: Io, cache: Cache, home: string): Promise<number> {
  const a = parse(rest, { json: { type: 'boolean' }, repair: { type: 'boolean' } });
  if (typeof a === 'string') return usageError(io, a);
  if (a.positionals.length) return usageError(io, `verify takes no arguments`);
  const r = await cache.verifyStore(home, { repair: !!a.values.repair });
  const unrepaired = r.damaged.filter((d) => !d.movedTo).length;
  if (a.values.json) io.out.write(JSON.stringify(r, null, 2) + '\n');
  else {
    for (const d of r.damaged) {
      io.out.write(`${d.signature.slice(0, 12)}: DAMAGED\n${d.problems.map((p) => `    ${p}\n`).join('')}`);
      if (d.movedTo) io.out.write(`    moved to ${d.movedTo}; the next run that needs it recomputes it\n`);
      else if (a.values.repair) io.out.write(`    not moved: it is locked (being computed by a run)\n`);
    }
    for (const s of r.adopted) io.out.write(`${s.slice(0, 12)}: published before manifests; manifest written from its current content\n`);
    io.out.write(`${r.checked} artifact(s) checked: ${r.ok.length + r.adopted.length} intact, ${r.damaged.length} damaged${r.damaged.length && !a.values.repair ? ' (run `loram cache verify --repair` to move them aside)' : ''}\n`);
  }
  return unrepaired ? 1 : 0;
}

/** `cache gc`: the cap and the runs to keep, from the flags or the settings. */
function gcLimits(a: { values: Record<string, string | boolean | undefined> }, cache: Cache): { maxBytes?: number; keepRuns: number } | string {
  let maxBytes: number | undefined;
  let keepRuns: number;
  try {
    const mg = a.values['max-gib'];
    if (typeof mg === 'string') {
      const n = Number(mg);
      if (mg.trim() === '' || !Number.isFinite(n) || n < 0) return `--max-gib must be a number of GiB ≥ 0, not "${mg}"`;
      maxBytes = n * cache.GIB;
    } else maxBytes = cache.capFromEnv();
    const kr = a.values['keep-runs'];
    if (typeof kr === 'string') {
      const n = Number(kr);
      if (kr.trim() === '' || !Number.isInteger(n) || n < 0) return `--keep-runs must be a whole number ≥ 0, not "${kr}"`;
      keepRuns = n;
    } else keepRuns = cache.keepRunsFromEnv();
  } catch (e) {
    return (e as Error).message;
  }
  return { ...(maxBytes !== undefined ? { maxBytes } : {}), keepRuns };
}

/** `cache gc [--max-gib N] [--keep-runs K] [--dry-run]`. */
async function cacheGc(rest: string[], io: Io, cache: Cache, home: string): Promise<number> {
  const a = parse(rest, { json: { type: 'boolean' }, 'max-gib': { type: 'string' }, 'keep-runs': { type: 'string' }, 'dry-run': { type: 'boolean' } });
  if (typeof a === 'string') return usageError(io, a);
  if (a.positionals.length) return usageError(io, `gc takes no arguments`);
  const limits = gcLimits(a, cache);
  if (typeof limits === 'string') return usageError(io, limits);
  const r = await cache.gcStore(home, { ...limits, dryRun: !!a.values['dry-run'] });
  if (a.values.json) io.out.write(JSON.stringify(r, null, 2) + '\n');
  else {
    const verb = a.values['dry-run'] ? 'would remove' : 'removed';
    for (const x of r.removed) io.out.write(`${verb} ${x.signature.slice(0, 12)}  ${cache.fmtBytes(x.bytes).padStart(10)}  ${x.node ?? '?'} (${x.nodeType ?? '?'})\n`);
    io.out.write(
      `${verb} ${r.removed.length} artifact(s), ${cache.fmtBytes(r.before - r.after)}: the store ${a.values['dry-run'] ? 'would hold' : 'holds'} ${cache.fmtBytes(r.after)}` +
        (r.maxBytes === null ? ' (no cap: only artifacts no run used were candidates)' : ` (cap ${cache.fmtBytes(r.maxBytes)})`) +
        `; kept: the ${r.keepRuns} most recent run(s), runs in progress, locked artifacts (${cache.fmtBytes(r.protectedBytes)})\n`,
    );
    if (!r.underCap) io.err.write(`loram cache gc: still over the cap: what is left belongs to kept or running runs (lower --keep-runs)\n`);
  }
  return r.underCap ? 0 : 1;
}
