/**
 * Run history under LORAM_HOME/runs/<runId>/: recipe.json (the snapshot that ran), events.jsonl (every event,
 * one per line, appended as they happen), metrics.json (per node: status, metrics, outputs; written at the end)
 * and run.json (the summary, rewritten at start and end). A run whose process died stays "running" in run.json
 * and is reported as "interrupted".
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { atomicWriteFile } from '../loram/io/atomic';
import { serializeRecipe, type EngineEvent, type NodeRunSummary, type Recipe, type RunRecord, type RunSummary } from '../shared';
import { processAlive } from './process-alive';

interface StoredSummary extends RunSummary {
  pid: number;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** Sortable, readable and unique: 20250314-093005-123-1a2b3c. */
export function newRunId(now = new Date()): string {
  const d = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}`;
  const t = `${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}-${pad(now.getMilliseconds(), 3)}`;
  return `${d}-${t}-${randomBytes(3).toString('hex')}`;
}

export function countStatuses(nodes: Record<string, NodeRunSummary>): RunSummary['counts'] {
  const counts: RunSummary['counts'] = {};
  for (const n of Object.values(nodes)) counts[n.status] = (counts[n.status] ?? 0) + 1;
  return counts;
}

export class RunLog {
  private queue: Promise<void> = Promise.resolve();
  constructor(
    readonly dir: string,
    private summary: StoredSummary,
  ) {}

  /** Append an event (writes are serialised in order). */
  append(e: EngineEvent): void {
    const line = JSON.stringify(e) + '\n';
    this.queue = this.queue.then(() => fsp.appendFile(path.join(this.dir, 'events.jsonl'), line)).catch(() => undefined);
  }

  async finish(status: RunSummary['status'], nodes: Record<string, NodeRunSummary>): Promise<void> {
    await this.queue;
    this.summary = { ...this.summary, status, endedAt: Date.now(), counts: countStatuses(nodes) };
    await atomicWriteFile(path.join(this.dir, 'metrics.json'), JSON.stringify(nodes, null, 2) + '\n');
    await atomicWriteFile(path.join(this.dir, 'run.json'), JSON.stringify(this.summary, null, 2) + '\n');
  }

  async flush(): Promise<void> {
    await this.queue;
  }
}

export class RunStore {
  readonly dir: string;
  constructor(home: string) {
    this.dir = path.join(home, 'runs');
  }

  private runDir(runId: string): string {
    if (!/^[0-9A-Za-z_.-]+$/.test(runId) || runId.startsWith('.')) throw new Error(`not a run id: "${runId}"`);
    return path.join(this.dir, runId);
  }

  /** `workers`: the queue of workers the run computes on, as displayed (absent: this machine). */
  async create(runId: string, recipe: Recipe, to?: string, workers?: string): Promise<RunLog> {
    const dir = this.runDir(runId);
    await fsp.mkdir(dir, { recursive: true });
    await atomicWriteFile(path.join(dir, 'recipe.json'), serializeRecipe(recipe));
    const summary: StoredSummary = { runId, recipeName: recipe.name, status: 'running', startedAt: Date.now(), counts: {}, pid: process.pid, ...(to ? { to } : {}), ...(workers ? { workers } : {}) };
    await atomicWriteFile(path.join(dir, 'run.json'), JSON.stringify(summary, null, 2) + '\n');
    return new RunLog(dir, summary);
  }

  private async readSummary(runId: string, active: ReadonlySet<string>): Promise<RunSummary | null> {
    try {
      const s = JSON.parse(await fsp.readFile(path.join(this.runDir(runId), 'run.json'), 'utf8')) as StoredSummary;
      const { pid, ...rest } = s;
      if (rest.status === 'running' && !active.has(runId) && !(pid !== process.pid && processAlive(pid))) rest.status = 'interrupted';
      return rest;
    } catch {
      return null;
    }
  }

  async list(active: ReadonlySet<string> = new Set()): Promise<RunSummary[]> {
    let names: string[];
    try {
      names = await fsp.readdir(this.dir);
    } catch {
      return [];
    }
    const out: RunSummary[] = [];
    for (const n of names.sort().reverse()) {
      if (n.startsWith('.')) continue;
      const s = await this.readSummary(n, active);
      if (s) out.push(s);
    }
    return out;
  }

  async get(runId: string, active: ReadonlySet<string> = new Set()): Promise<RunRecord | null> {
    const summary = await this.readSummary(runId, active);
    if (!summary) return null;
    const dir = this.runDir(runId);
    const recipe = JSON.parse(await fsp.readFile(path.join(dir, 'recipe.json'), 'utf8')) as Recipe;
    const text = await fsp.readFile(path.join(dir, 'events.jsonl'), 'utf8').catch(() => '');
    const events: EngineEvent[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        events.push(JSON.parse(line) as EngineEvent);
      } catch {
        // a line cut short by a crash: ignore it
      }
    }
    return { summary, recipe, events, nodes: await this.metrics(runId) };
  }

  async metrics(runId: string): Promise<Record<string, NodeRunSummary>> {
    try {
      return JSON.parse(await fsp.readFile(path.join(this.runDir(runId), 'metrics.json'), 'utf8')) as Record<string, NodeRunSummary>;
    } catch {
      return {};
    }
  }
}
