/** A scriptable EngineClient for UI and transport tests: the real node catalogue, canned answers, manual events. */
import { NODE_DEFINITIONS, nodeSpec } from '../../../src/nodes/index';
import type {
  ReportModel,
  ArtifactContent,
  CacheStatus,
  StoreCleanup,
  StoreSummary,
  EngineClient,
  EngineEvent,
  EngineListener,
  LoadedRecipe,
  Location,
  NodeRunSummary,
  NodeSpec,
  Recipe,
  RunOptions,
  RunRecord,
  RunStart,
  RunSummary,
  RunTargets,
  ValidationError,
  ValidationResult,
} from '../../../src/shared/index';

export const SPECS: NodeSpec[] = NODE_DEFINITIONS.map((d) => nodeSpec(d as never));

export class FakeEngine implements EngineClient {
  calls: { op: string; args: unknown[] }[] = [];
  listeners = new Set<EngineListener>();
  files = new Map<string, Recipe>();
  validationErrors: ValidationError[] = [];
  runAnswer: RunStart = { ok: true, runId: 'run-1' };
  cache: CacheStatus = { nodes: {} };
  artifacts = new Map<string, ArtifactContent>();
  runs: RunSummary[] = [];
  records = new Map<string, RunRecord>();

  private log(op: string, args: unknown[]): void {
    this.calls.push({ op, args });
  }
  callsOf(op: string) {
    return this.calls.filter((c) => c.op === op);
  }
  emit(e: EngineEvent): void {
    for (const l of [...this.listeners]) l(e);
  }

  async listNodes(): Promise<NodeSpec[]> {
    this.log('listNodes', []);
    return SPECS;
  }
  async validate(recipe: unknown, opts?: unknown): Promise<ValidationResult> {
    this.log('validate', [recipe, opts]);
    return { ok: this.validationErrors.length === 0, errors: this.validationErrors };
  }
  async run(recipe: unknown, opts?: RunOptions): Promise<RunStart> {
    this.log('run', [recipe, opts]);
    return this.runAnswer;
  }
  targets: RunTargets = { workers: null };
  async runTargets(): Promise<RunTargets> {
    this.log('runTargets', []);
    return this.targets;
  }
  async cancel(runId: string): Promise<void> {
    this.log('cancel', [runId]);
  }
  subscribe(listener: EngineListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  async listRuns(): Promise<RunSummary[]> {
    this.log('listRuns', []);
    return this.runs;
  }
  async getRun(runId: string): Promise<RunRecord | null> {
    this.log('getRun', [runId]);
    return this.records.get(runId) ?? null;
  }
  async cacheStatus(recipe: unknown, opts?: unknown): Promise<CacheStatus> {
    this.log('cacheStatus', [recipe, opts]);
    return this.cache;
  }
  store: StoreSummary = { dir: '/home/store', bytes: 3 * 2 ** 20, artifacts: 4, unusedArtifacts: 1, unusedBytes: 2 ** 20, damaged: { count: 0, bytes: 0, dir: '/home/damaged' }, capBytes: null, keepRuns: 5 };
  async storeSummary(): Promise<StoreSummary> {
    this.log('storeSummary', []);
    return this.store;
  }
  async cleanStore(opts?: { maxGib?: number; keepRuns?: number }): Promise<StoreCleanup> {
    this.log('cleanStore', [opts]);
    const freed = this.store.unusedBytes;
    this.store = { ...this.store, bytes: this.store.bytes - freed, artifacts: this.store.artifacts - this.store.unusedArtifacts, unusedArtifacts: 0, unusedBytes: 0 };
    return { removed: freed ? 1 : 0, freedBytes: freed, bytes: this.store.bytes, underCap: true };
  }
  async readArtifact(location: Location): Promise<ArtifactContent> {
    this.log('readArtifact', [location]);
    const key = location.kind === 'store' ? `${location.artifact}/${location.path}` : location.path;
    const a = this.artifacts.get(key);
    if (!a) throw new Error(`no artifact ${key}`);
    return a;
  }
  async readMetrics(runId: string): Promise<Record<string, NodeRunSummary>> {
    this.log('readMetrics', [runId]);
    return {};
  }
  async reportModel(runId: string): Promise<ReportModel> {
    this.log('reportModel', [runId]);
    throw new Error(`no run "${runId}"`);
  }
  async writeReport(runId: string): Promise<{ dir: string; htmlPath: string; html: string }> {
    this.log('writeReport', [runId]);
    return { dir: '/runs/x/report', htmlPath: '/runs/x/report/report.html', html: '<html></html>' };
  }
  async loadRecipe(path: string): Promise<LoadedRecipe> {
    this.log('loadRecipe', [path]);
    const r = this.files.get(path);
    return r ? { recipe: structuredClone(r), errors: [], fromVersion: 1 } : { recipe: null, errors: [{ code: 'invalid-recipe', node: null, field: null, message: `cannot read ${path}` }], fromVersion: null };
  }
  async saveRecipe(path: string, recipe: Recipe): Promise<void> {
    this.log('saveRecipe', [path, recipe]);
    this.files.set(path, structuredClone(recipe));
  }
}
