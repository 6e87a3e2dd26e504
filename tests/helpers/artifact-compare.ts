/**
 * An artifact directory as something two runs can be compared on bit for bit: every file's SHA-256, except JSON
 * files, which are compared as values with what a run *measures* about itself removed (wall time, throughput,
 * process memory, when and in which run it was made). Weights, losses, perplexities and accuracies stay.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';

/** Keys whose values are measurements of the machine, not results of the computation. */
const MEASURED = new Set(['trainSeconds', 'tokensPerSec', 'peakRssBytes', 'rssRiseBytes', 'elapsedMs', 'durationMs', 'createdAt', 'runId', 'stepMs', 'seconds', 'msPerStep', 'evalSeconds', 'memoryGapPct']);
/** The manifest hashes outputs.json, which holds measurements: its other entries are compared file by file. */
const SKIPPED = new Set(['manifest.json']);

function strip(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(strip);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !MEASURED.has(k) && !/(Seconds|PerSec|Ms|RssBytes|MemoryBytes)$/.test(k)).map(([k, x]) => [k, strip(x)]));
  return v;
}

export async function comparableArtifact(dir: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of await fsp.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const rel = path.relative(dir, p).split(path.sep).join('/');
      if (e.isDirectory()) await walk(p);
      else if (SKIPPED.has(rel)) continue;
      else if (rel.endsWith('.json')) out[rel] = strip(JSON.parse(await fsp.readFile(p, 'utf8')));
      else out[rel] = createHash('sha256').update(await fsp.readFile(p)).digest('hex');
    }
  };
  await walk(dir);
  return out;
}
