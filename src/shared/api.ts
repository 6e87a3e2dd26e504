/**
 * The contract between a UI and the engine. The Electron preload bridge and the web shell's client both
 * implement it; the renderer only ever talks to an EngineClient. Every method is async and every payload is
 * plain JSON, so it crosses IPC, a worker boundary or a WebSocket unchanged.
 */
import type { ValidationError, ValidationResult } from './errors';
import type { EngineEvent, NodeRunSummary } from './events';
import type { NodeSpec } from './node-spec';
import type { Location } from './ports';
import type { Recipe } from './recipe';
import type { ReportModel } from './report';

export interface RunOptions {
  /** Run only this node and what it needs ("run to here"). */
  to?: string;
  /** Recompute every planned node, ignoring (and then replacing) cached results. */
  noCache?: boolean;
  /** Directory relative file paths in node params are resolved against (the recipe file's folder). */
  baseDir?: string;
  /** Where nodes compute: this machine (default) or the queue of workers the engine was started with. */
  target?: 'local' | 'workers';
}

/** Where runs can compute, for the editor's "Run on" choice. */
export interface RunTargets {
  /** The queue of workers the engine was started with, as shown to users (never its password); null: none. */
  workers: string | null;
}

export interface ValidateOptions {
  baseDir?: string;
  /** Also check that the files nodes read exist (default true). */
  checkFiles?: boolean;
}

/** `run` refuses an invalid recipe with its errors instead of starting. */
export type RunStart = { ok: true; runId: string } | { ok: false; errors: ValidationError[] };

export type RunStatus = 'running' | 'finished' | 'failed' | 'cancelled' | 'interrupted';

export interface RunSummary {
  runId: string;
  recipeName: string;
  status: RunStatus;
  startedAt: number;
  endedAt?: number;
  to?: string;
  /** The queue of workers it computed on, as displayed (absent: this machine). */
  workers?: string;
  /** Node counts by outcome. */
  counts: Partial<Record<NodeRunSummary['status'], number>>;
}

export interface RunRecord {
  summary: RunSummary;
  /** The recipe exactly as it was run. */
  recipe: Recipe;
  events: EngineEvent[];
  /** Per node: status, metrics, outputs (the content of metrics.json; empty while running). */
  nodes: Record<string, NodeRunSummary>;
}

/** The cache state of each node of a recipe, for the editor's cached / stale markers. */
export interface CacheStatus {
  nodes: Record<string, { signature: string | null; cached: boolean }>;
}

export interface LoadedRecipe {
  /** Null when the file is not a readable recipe at all. */
  recipe: Recipe | null;
  /** Structural and graph errors found while loading (the recipe may still be opened and fixed). */
  errors: ValidationError[];
  /** The version the file had (older files are migrated in memory; saving writes the current version). */
  fromVersion: number | null;
}

/** Content of an artifact file: parsed JSON for .json, text for other text files. */
export type ArtifactContent = { kind: 'json'; value: unknown } | { kind: 'text'; value: string };

export type EngineListener = (event: EngineEvent) => void;

export interface StoreSummary {
  dir: string;
  bytes: number;
  artifacts: number;
  /** Artifacts no run in the history used (what a clean-up without a cap removes). */
  unusedArtifacts: number;
  unusedBytes: number;
  damaged: { count: number; bytes: number; dir: string };
  /** LORAM_CACHE_MAX_GIB, if set. */
  capBytes: number | null;
  keepRuns: number;
}

export interface StoreCleanup {
  removed: number;
  freedBytes: number;
  bytes: number;
  underCap: boolean;
}

export interface EngineClient {
  /** The node catalogue. */
  listNodes(): Promise<NodeSpec[]>;
  /** Every error of a recipe (structure, params, graph, lineage, missing files) at once. */
  validate(recipe: unknown, opts?: ValidateOptions): Promise<ValidationResult>;
  /** Validate, then start a run in the background; progress arrives as events. */
  run(recipe: unknown, opts?: RunOptions): Promise<RunStart>;
  /** Where runs can compute: this machine always, a queue of workers when the engine has one. */
  runTargets(): Promise<RunTargets>;
  /** Cancel a run; resolves once it has stopped and left the store consistent. Unknown or ended runs: no-op. */
  cancel(runId: string): Promise<void>;
  /** Receive every event of every run; returns the unsubscribe function. */
  subscribe(listener: EngineListener): () => void;
  /** Past and current runs, newest first. */
  listRuns(): Promise<RunSummary[]>;
  getRun(runId: string): Promise<RunRecord | null>;
  /** Which nodes of a recipe would be reused from the cache. */
  cacheStatus(recipe: unknown, opts?: { baseDir?: string }): Promise<CacheStatus>;
  /** The artifact store's size, artifacts and damaged ones kept aside (what `loram cache ls` sums up). */
  storeSummary(): Promise<StoreSummary>;
  /** `loram cache gc`: remove least recently used artifacts, never those of the `keepRuns` newest or running runs. */
  cleanStore(opts?: { maxGib?: number; keepRuns?: number }): Promise<StoreCleanup>;
  /** Read a (small, text or JSON) file of an artifact in the store, e.g. a metrics file. */
  readArtifact(location: Location): Promise<ArtifactContent>;
  /** The per-node metrics of a run (its metrics.json). */
  readMetrics(runId: string): Promise<Record<string, NodeRunSummary>>;
  /** The comparison report of a run (the model `loram report` renders: branches, claims, verdict). */
  reportModel(runId: string): Promise<ReportModel>;
  /** Write a run's report (Markdown + self-contained HTML) into its folder; returns where, and the HTML itself. */
  writeReport(runId: string): Promise<{ dir: string; htmlPath: string; html: string }>;
  loadRecipe(path: string): Promise<LoadedRecipe>;
  /** Validated against the schema, written deterministically and atomically (old file or new, never partial). */
  saveRecipe(path: string, recipe: Recipe): Promise<void>;
}
