/**
 * The editor's state and every action on it, without React: the document and its history, the file it
 * belongs to, validation and cache status, runs and their events, the log, metrics files for the plots, the
 * recovery file. React components read `getSnapshot()` (via useSyncExternalStore) and call the methods.
 */
import {
  canonicalJson,
  emptyRecipe,
  type CacheStatus,
  type Connection,
  type EngineClient,
  type EngineEvent,
  type MetricsFile,
  type NodeSpec,
  type Recipe,
  type RunSummary,
  type StoreSummary,
  type ValidationError,
} from '../../../shared';
import { formatBytes } from './store-summary';
import type { HostApi, HostInfo, RecoveryData } from '../../../shared/shell-contract';
import { specMap } from './catalog';
import { copyNodes, duplicateNodes, pasteNodes, type ClipboardData, type PasteResult } from './clipboard';
import { addNode, connect, findNode, moveNodes, nodeName, removeElements, setLabel, setParam, setRecipeDescription, setRecipeName, type Position } from './document';
import { History, type CommitOptions } from './history';
import { locationKey, metricsOutputs } from './results';
import { setSweepMode, setSweepValues } from './sweep-edit';
import { groupNodes, ungroup, updateGroup } from './groups';
import { branchCopies, foldCache, foldRunView } from './branches';
import { emptyRunView, logLines, MAX_LOG, nodeStatuses, reduceRun, type LogEntry, type NodeStatus, type RunView } from './run-state';
import { LOCAL_ONLY, targetOption, type RunTarget } from './run-target';

/** What a notice is about, for the UI to react to beyond showing it (e.g. open the Problems tab). */
export type NoticeSubject = 'run-refused';

export interface Notice {
  seq: number;
  kind: 'info' | 'success' | 'error' | 'refused';
  text: string;
  about?: NoticeSubject;
}

export interface EditorSnapshot {
  phase: 'loading' | 'ready' | 'error';
  loadError: string | null;
  host: HostInfo | null;
  specs: NodeSpec[];
  specs_: ReadonlyMap<string, NodeSpec>;
  doc: Recipe;
  canUndo: boolean;
  canRedo: boolean;
  undoLabel: string | null;
  redoLabel: string | null;
  filePath: string | null;
  dirty: boolean;
  /** Problems found when the file was loaded (it may still be opened and fixed). */
  fileErrors: ValidationError[];
  /** The engine's validation of the current document (every problem, pinned to nodes and fields). */
  errors: ValidationError[];
  validating: boolean;
  cache: CacheStatus | null;
  /** The document `cache` was computed for (a cache of an older version is not used for markers). */
  cacheFor: Recipe | null;
  run: RunView;
  /** The recipe snapshot of a run opened from the history (its branches' names); null for the live run. */
  runRecipe: Recipe | null;
  /** `run` folded onto the nodes as written (a swept node's copies give one view): what the cards show. */
  cardRun: RunView;
  /** Branches the document's sweeps expand to (1 without sweeps). */
  branches: number;
  /** True between asking the engine to run and the run's end. */
  running: boolean;
  /** The run shown is a past one opened from the history (not the live one). */
  historical: boolean;
  /** The last run this editor started (null: none yet). */
  liveRunId: string | null;
  /** The queue of workers runs may compute on, as the engine displays it (null: this machine only). */
  workers: string | null;
  /** Where Run computes (the toolbar's "Run on"), kept for the session. */
  runTarget: RunTarget;
  log: LogEntry[];
  statuses: Record<string, NodeStatus>;
  /** Metrics files of the shown run's metrics outputs, by location key. */
  files: Record<string, MetricsFile>;
  runs: RunSummary[];
  /** The artifact store's size (Runs tab); null until read. */
  store: StoreSummary | null;
  notice: Notice | null;
  /** Unsaved work found in the recovery file at start. */
  recovery: RecoveryData | null;
  /** The web shell lost its server (the event connection closed): nothing can run, open or save. */
  serverDown: boolean;
  /** The document as last written to the recovery file (null: nothing unsaved was written). */
  keptInRecovery: Recipe | null;
  recent: string[];
}

export interface ControllerOptions {
  /** Delay before validating after an edit (ms). */
  validateDelayMs?: number;
  /** Delay before writing the recovery file after an edit (ms). */
  autosaveDelayMs?: number;
  now?: () => number;
}

type Listener = () => void;

/** How often, at most, progress and log lines of a run re-render the editor (ms). */
const FLUSH_MS = 100;

export function dirname(p: string, sep: string = p.includes('\\') && !p.includes('/') ? '\\' : '/'): string {
  const i = p.lastIndexOf(sep);
  if (i < 0) return '.';
  return i === 0 ? sep : p.slice(0, i);
}
export function basename(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}

export class EditorController {
  private readonly history = new History<Recipe>(emptyRecipe());
  private saved: Recipe = this.history.present;
  private listeners = new Set<Listener>();
  private snap: EditorSnapshot;
  private validateTimer: ReturnType<typeof setTimeout> | null = null;
  private autosaveTimer: ReturnType<typeof setTimeout> | null = null;
  private checkSeq = 0;
  private noticeSeq = 0;
  private logSeq = 0;
  private clipboard: ClipboardData | null = null;
  /** Log lines and run progress received but not yet shown (see flushRun). */
  private pendingLog: LogEntry[] | null = null;
  private runFlushTimer: ReturnType<typeof setTimeout> | null = null;
  private unsubscribe: (() => void) | null = null;
  /** Set while `run()` waits for the engine's answer: the first run-started seen then is ours. */
  private awaitingRun = false;
  private myRuns = new Set<string>();
  private liveRun: RunView = emptyRunView();
  /** Per node: the signature of the last result seen this session (for stale markers). */
  private known: Record<string, string> = {};
  private readonly validateDelay: number;
  private readonly autosaveDelay: number;
  private readonly now: () => number;

  constructor(
    readonly engine: EngineClient,
    readonly host: HostApi,
    opts: ControllerOptions = {},
  ) {
    this.validateDelay = opts.validateDelayMs ?? 150;
    this.autosaveDelay = opts.autosaveDelayMs ?? 1000;
    this.now = opts.now ?? Date.now;
    const doc = this.history.present;
    this.snap = {
      phase: 'loading',
      loadError: null,
      host: null,
      specs: [],
      specs_: new Map(),
      doc,
      canUndo: false,
      canRedo: false,
      undoLabel: null,
      redoLabel: null,
      filePath: null,
      dirty: false,
      fileErrors: [],
      errors: [],
      validating: false,
      cache: null,
      cacheFor: null,
      run: emptyRunView(),
      cardRun: emptyRunView(),
      runRecipe: null,
      branches: 1,
      running: false,
      historical: false,
      liveRunId: null,
      workers: null,
      runTarget: 'local',
      log: [],
      statuses: {},
      files: {},
      runs: [],
      store: null,
      notice: null,
      recovery: null,
      serverDown: false,
      keptInRecovery: null,
      recent: [],
    };
  }

  // ---- store plumbing ------------------------------------------------------------------------------------------

  subscribe = (l: Listener): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };
  getSnapshot = (): EditorSnapshot => this.snap;

  private set(patch: Partial<EditorSnapshot>): void {
    const next = { ...this.snap, ...patch };
    const { copies, branches } = branchCopies(next.doc, next.specs_);
    next.branches = branches;
    next.cardRun = foldRunView(next.run, copies);
    next.statuses = nodeStatuses(next.doc, foldRunView(this.liveRun, copies), foldCache(next.cache, copies), this.known, next.cacheFor === next.doc);
    this.snap = next;
    for (const l of [...this.listeners]) l();
  }

  private docPatch(): Partial<EditorSnapshot> {
    const h = this.history;
    const doc = h.present;
    return {
      doc,
      canUndo: h.canUndo,
      canRedo: h.canRedo,
      undoLabel: h.undoLabel,
      redoLabel: h.redoLabel,
      dirty: doc !== this.saved && canonicalJson(doc) !== canonicalJson(this.saved),
    };
  }

  notify(kind: Notice['kind'], text: string, about?: NoticeSubject): void {
    this.set({ notice: { seq: ++this.noticeSeq, kind, text, ...(about ? { about } : {}) } });
  }

  get doc(): Recipe {
    return this.history.present;
  }

  get baseDir(): string | undefined {
    const p = this.snap.filePath;
    if (p) return dirname(p, this.snap.host?.sep);
    return this.snap.host?.defaultDir;
  }

  // ---- start / stop --------------------------------------------------------------------------------------------

  /** Load the catalogue, subscribe to events, open the initial file (or the recovered work). */
  async init(): Promise<void> {
    try {
      const [info, specs, runs, recent, recovery, targets] = await Promise.all([
        this.host.info(),
        this.engine.listNodes(),
        this.engine.listRuns().catch(() => [] as RunSummary[]),
        this.host.recentFiles().catch(() => [] as string[]),
        this.host.readRecovery().catch(() => null),
        this.engine.runTargets().catch(() => LOCAL_ONLY),
      ]);
      this.unsubscribe = this.engine.subscribe((e) => this.onEvent(e));
      this.set({ host: info, specs, specs_: specMap(specs), runs, recent, workers: targets.workers, phase: 'ready' });
      if (info.initialFile) await this.open(info.initialFile, { quiet: true });
      else this.afterDocChange();
      if (recovery && canonicalJson(recovery.recipe) !== canonicalJson(this.doc)) this.set({ recovery });
      this.updateTitle();
    } catch (e) {
      this.set({ phase: 'error', loadError: (e as Error).message });
    }
  }

  /** Told by the web shell's client when its connection to the server goes down or comes back. */
  setServerConnected(connected: boolean): void {
    if (this.snap.serverDown === !connected) return;
    this.set({ serverDown: !connected });
    // Back: write the recovery file at once (edits made while it was away were not written); the server may
    // have been restarted with other workers, or none.
    if (connected) {
      void this.autosave();
      void this.refreshTargets();
    }
  }

  /** Ask the engine where runs can compute; without workers, Run computes here again. */
  async refreshTargets(): Promise<void> {
    const { workers } = await this.engine.runTargets().catch(() => LOCAL_ONLY);
    this.set({ workers, ...(workers ? {} : { runTarget: 'local' as const }) });
  }

  /** The toolbar's "Run on": workers only when the engine has them. */
  setRunTarget(target: RunTarget): void {
    if (target === 'workers' && !this.snap.workers) return;
    this.set({ runTarget: target });
  }

  dispose(): void {
    this.unsubscribe?.();
    if (this.validateTimer) clearTimeout(this.validateTimer);
    if (this.autosaveTimer) clearTimeout(this.autosaveTimer);
    if (this.runFlushTimer) clearTimeout(this.runFlushTimer);
  }

  // ---- document edits ------------------------------------------------------------------------------------------

  /** Record a new document version (one undo step, or folded into the open stream of `coalesce`). */
  commit(next: Recipe, opts: CommitOptions = {}): boolean {
    if (!this.history.commit(next, opts)) return false;
    this.set(this.docPatch());
    this.afterDocChange();
    return true;
  }

  /** End a stream of coalesced edits (a field lost focus). */
  seal(): void {
    this.history.seal();
  }

  undo(): void {
    const label = this.history.undo();
    if (label === null) return;
    this.set(this.docPatch());
    this.afterDocChange();
    this.notify('info', `Undid: ${label}`);
  }

  redo(): void {
    const label = this.history.redo();
    if (label === null) return;
    this.set(this.docPatch());
    this.afterDocChange();
    this.notify('info', `Redid: ${label}`);
  }

  addNode(type: string, position: Position): string | null {
    const spec = this.snap.specs_.get(type);
    if (!spec) {
      this.notify('error', `Unknown node kind "${type}"`);
      return null;
    }
    const r = addNode(this.doc, spec, position);
    this.commit(r.doc, { label: `Add ${spec.title}` });
    return r.id;
  }

  /** Connect two ports; refused connections leave the document alone and say why. */
  connect(conn: Connection): { ok: true; edgeId: string } | { ok: false; reason: string } {
    const r = connect(this.doc, conn, this.snap.specs_);
    if (!r.ok) {
      this.notify('refused', `Connection refused: ${r.reason}`);
      return { ok: false, reason: r.reason };
    }
    this.commit(r.doc, { label: 'Connect' });
    return { ok: true, edgeId: r.edge.id };
  }

  deleteElements(nodes: Iterable<string>, edges: Iterable<string> = []): void {
    const n = [...nodes];
    const e = [...edges];
    const next = removeElements(this.doc, n, e);
    const what = n.length && e.length ? `${n.length} node${n.length > 1 ? 's' : ''} and ${e.length} connection${e.length > 1 ? 's' : ''}` : n.length ? `${n.length === 1 ? nodeName(findNode(this.doc, n[0]!) ?? { id: n[0]! }) : `${n.length} nodes`}` : `${e.length} connection${e.length > 1 ? 's' : ''}`;
    this.commit(next, { label: `Delete ${what}` });
  }

  moveNodes(positions: Record<string, Position>): void {
    const ids = Object.keys(positions);
    this.commit(moveNodes(this.doc, positions), { label: ids.length === 1 ? `Move ${ids[0]}` : `Move ${ids.length} nodes` });
  }

  /** One field edit; consecutive edits of the same field fold into one undo step until `seal()`. */
  setParam(nodeId: string, key: string, value: unknown): void {
    this.commit(setParam(this.doc, nodeId, key, value), { label: `Edit ${nodeId}.${key}`, coalesce: `param:${nodeId}:${key}` });
  }

  /** Sweep a param over a list of values (null: stop sweeping it): one undo step per field edit. */
  setSweep(nodeId: string, param: string, values: unknown[] | null): void {
    this.commit(setSweepValues(this.doc, nodeId, param, values), { label: values ? `Sweep ${nodeId}.${param}` : `Stop sweeping ${nodeId}.${param}`, coalesce: `sweep:${nodeId}:${param}` });
  }

  setSweepMode(nodeId: string, mode: 'product' | 'zip'): void {
    this.commit(setSweepMode(this.doc, nodeId, mode), { label: `Combine ${nodeId}'s axes as ${mode}` });
  }

  /** Group the given nodes under a new frame; returns its id. One undo step. */
  groupNodes(ids: readonly string[], title = 'Group'): string | null {
    const r = groupNodes(this.doc, ids, title);
    if (!r) return null;
    this.commit(r.doc, { label: `Group ${ids.length} node${ids.length === 1 ? '' : 's'}` });
    return r.id;
  }

  ungroup(groupId: string): void {
    this.commit(ungroup(this.doc, groupId), { label: 'Ungroup' });
  }

  /** Rename (typing folds into one step until seal), recolour, collapse or expand a group. */
  updateGroup(groupId: string, patch: { title?: string; color?: string; collapsed?: boolean }): void {
    const what = patch.title !== undefined ? 'Rename' : patch.color !== undefined ? 'Recolour' : patch.collapsed ? 'Collapse' : 'Expand';
    this.commit(updateGroup(this.doc, groupId, patch), { label: `${what} group`, ...(patch.title !== undefined ? { coalesce: `group-title:${groupId}` } : {}) });
  }

  setLabel(nodeId: string, label: string): void {
    this.commit(setLabel(this.doc, nodeId, label), { label: `Rename ${nodeId}`, coalesce: `label:${nodeId}` });
  }

  setRecipeName(name: string): void {
    this.commit(setRecipeName(this.doc, name), { label: 'Rename recipe', coalesce: 'recipe:name' });
  }

  setRecipeDescription(text: string): void {
    this.commit(setRecipeDescription(this.doc, text), { label: 'Edit description', coalesce: 'recipe:description' });
  }

  copy(ids: Iterable<string>): ClipboardData | null {
    const data = copyNodes(this.doc, ids);
    if (data) this.clipboard = data;
    return data;
  }

  get clipboardData(): ClipboardData | null {
    return this.clipboard;
  }

  /** Paste a branch (the internal clipboard unless `data` is given): one undo step. */
  paste(data: ClipboardData | null = this.clipboard, at?: Position): PasteResult | null {
    if (!data) return null;
    const r = pasteNodes(this.doc, data, at ? { at } : {});
    this.commit(r.doc, { label: `Paste ${r.nodeIds.length} node${r.nodeIds.length > 1 ? 's' : ''}` });
    // Paste again → a further offset, like most editors.
    if (!at && data === this.clipboard) this.clipboard = { ...data, nodes: data.nodes.map((n) => ({ ...n, position: { x: n.position.x + 40, y: n.position.y + 40 } })) };
    return r;
  }

  duplicate(ids: Iterable<string>): PasteResult | null {
    const r = duplicateNodes(this.doc, ids);
    if (!r) return null;
    this.commit(r.doc, { label: `Duplicate ${r.nodeIds.length} node${r.nodeIds.length > 1 ? 's' : ''}` });
    return r;
  }

  // ---- checks --------------------------------------------------------------------------------------------------

  private afterDocChange(): void {
    if (this.validateTimer) clearTimeout(this.validateTimer);
    this.set({ validating: true });
    this.validateTimer = setTimeout(() => void this.check(), this.validateDelay);
    this.scheduleAutosave();
    this.updateTitle();
  }

  /** Validate the current document and refresh its cache status now. */
  async check(): Promise<ValidationError[]> {
    if (this.validateTimer) {
      clearTimeout(this.validateTimer);
      this.validateTimer = null;
    }
    const seq = ++this.checkSeq;
    const doc = this.doc;
    const baseDir = this.baseDir;
    try {
      const [v, cache] = await Promise.all([
        this.engine.validate(doc, baseDir ? { baseDir } : {}),
        this.engine.cacheStatus(doc, baseDir ? { baseDir } : {}).catch(() => null),
      ]);
      if (seq !== this.checkSeq) return v.errors;
      if (cache) this.remember(Object.entries(cache.nodes).filter(([, c]) => c.cached && c.signature).map(([id, c]) => [id, c.signature!]));
      this.set({ errors: v.errors, cache, cacheFor: doc, validating: false });
      return v.errors;
    } catch (e) {
      if (seq === this.checkSeq) this.set({ validating: false });
      this.notify('error', `Validation failed: ${(e as Error).message}`);
      return [];
    }
  }

  // ---- files ---------------------------------------------------------------------------------------------------

  private updateTitle(): void {
    const s = this.snap;
    const name = s.filePath ? basename(s.filePath) : s.doc.name || 'untitled';
    void this.host.setTitle(`${name} — LoRAM Studio`, s.dirty).catch(() => undefined);
  }

  private scheduleAutosave(): void {
    if (this.autosaveTimer) clearTimeout(this.autosaveTimer);
    this.autosaveTimer = setTimeout(() => void this.autosave(), this.autosaveDelay);
  }

  /** Write the recovery file now (when there are unsaved changes) or clear it. */
  async autosave(): Promise<void> {
    if (this.autosaveTimer) {
      clearTimeout(this.autosaveTimer);
      this.autosaveTimer = null;
    }
    const doc = this.doc;
    try {
      if (this.snap.dirty) await this.host.writeRecovery({ savedAt: this.now(), path: this.snap.filePath, recipe: doc });
      else await this.host.clearRecovery();
      this.set({ keptInRecovery: this.snap.dirty ? doc : null });
    } catch {
      // the recovery file is best effort (what it holds is said by keptInRecovery)
    }
  }

  private remember(entries: [string, string][]): void {
    if (!entries.some(([id, sig]) => this.known[id] !== sig)) return;
    this.known = { ...this.known, ...Object.fromEntries(entries) };
  }

  private replaceDocument(doc: Recipe, filePath: string | null, fileErrors: ValidationError[] = [], dirty = false): void {
    this.history.reset(doc);
    this.known = {};
    this.saved = dirty ? emptyRecipe('\u0000never') : doc;
    // The previous recipe's results do not belong to this one (a run still going keeps its view until it ends).
    const keepRun = this.snap.running;
    if (!keepRun) this.liveRun = emptyRunView();
    const runPatch: Partial<EditorSnapshot> = keepRun ? {} : { run: this.liveRun, runRecipe: null, historical: false, files: {}, liveRunId: null };
    this.set({ ...this.docPatch(), ...runPatch, filePath, fileErrors, errors: [], cache: null, cacheFor: null });
    this.afterDocChange();
  }

  newDocument(name = 'untitled'): void {
    this.replaceDocument(emptyRecipe(name), null);
    this.notify('info', 'New recipe');
  }

  async open(path: string, opts: { quiet?: boolean } = {}): Promise<boolean> {
    let loaded;
    try {
      loaded = await this.engine.loadRecipe(path);
    } catch (e) {
      this.notify('error', `Cannot open ${path}: ${(e as Error).message}`);
      return false;
    }
    if (!loaded.recipe) {
      this.notify('error', `Cannot open ${basename(path)}: ${loaded.errors.map((e) => e.message).join('; ') || 'not a recipe'}`);
      return false;
    }
    this.replaceDocument(loaded.recipe, path, loaded.errors);
    this.rememberRecent(path);
    void this.showLatestRunOf(loaded.recipe);
    if (!opts.quiet) this.notify('info', `Opened ${basename(path)}${loaded.errors.length ? ` (${loaded.errors.length} problem${loaded.errors.length > 1 ? 's' : ''})` : ''}`);
    return true;
  }

  private rememberRecent(path: string): void {
    void this.host
      .addRecent(path)
      .then((recent) => this.set({ recent }))
      .catch(() => undefined);
  }

  /** Save to the current file; false when there is none (the UI then asks for a path: saveAs). */
  async save(): Promise<boolean> {
    if (!this.snap.filePath) return false;
    return this.saveAs(this.snap.filePath);
  }

  async saveAs(path: string): Promise<boolean> {
    // An untitled recipe takes the name of the file it is first saved as.
    if (!this.doc.name.trim() || this.doc.name === 'untitled') {
      const name = basename(path).replace(/\.json$/i, '');
      if (name) this.commit(setRecipeName(this.doc, name), { label: 'Name the recipe' });
    }
    const doc = this.doc;
    try {
      await this.engine.saveRecipe(path, doc);
    } catch (e) {
      this.notify('error', `Could not save: ${(e as Error).message}`);
      return false;
    }
    this.saved = doc;
    this.set({ ...this.docPatch(), filePath: path });
    this.rememberRecent(path);
    this.updateTitle();
    await this.host.clearRecovery().catch(() => undefined);
    this.notify('success', `Saved ${basename(path)}`);
    return true;
  }

  /** Reopen the work found in the recovery file. */
  restoreRecovery(): void {
    const r = this.snap.recovery;
    if (!r) return;
    this.replaceDocument(r.recipe, r.path, [], true);
    this.set({ recovery: null });
    this.notify('info', 'Restored unsaved work');
  }

  discardRecovery(): void {
    this.set({ recovery: null });
    void this.host.clearRecovery().catch(() => undefined);
  }

  // ---- runs ----------------------------------------------------------------------------------------------------

  /** Validate, then run (everything, or only what `to` needs). Invalid recipes are refused with pinned errors. */
  async run(to?: string, opts: { noCache?: boolean } = {}): Promise<boolean> {
    if (this.snap.running) {
      this.notify('info', 'A run is already going on');
      return false;
    }
    const baseDir = this.baseDir;
    this.awaitingRun = true;
    this.set({ running: true });
    let res;
    try {
      res = await this.engine.run(this.doc, { ...(to ? { to } : {}), ...(opts.noCache ? { noCache: true } : {}), ...(baseDir ? { baseDir } : {}), ...targetOption(this.snap.runTarget) });
    } catch (e) {
      this.awaitingRun = false;
      this.set({ running: false });
      this.notify('error', `Could not start the run: ${(e as Error).message}`);
      return false;
    }
    this.awaitingRun = false;
    const unreachable = !res.ok && res.errors.find((e) => e.code === 'workers-unavailable');
    if (unreachable) {
      // Not the recipe's fault: nothing to pin on its nodes.
      this.set({ running: false });
      this.notify('error', `Not run: the workers cannot be reached (${unreachable.message})`);
      return false;
    }
    if (!res.ok) {
      this.set({ running: false, errors: res.errors, validating: false });
      this.notify('error', `Not run: ${res.errors.length} problem${res.errors.length === 1 ? '' : 's'} to fix first (see the nodes marked in red)`, 'run-refused');
      return false;
    }
    this.myRuns.add(res.runId);
    // The run may have ended before we got its id (everything cached).
    if (this.liveRun.runId === res.runId && this.liveRun.status !== 'running') this.set({ running: false });
    return true;
  }

  async cancel(): Promise<void> {
    const id = this.liveRun.runId;
    if (!id || this.liveRun.status !== 'running') return;
    this.notify('info', 'Cancelling…');
    try {
      await this.engine.cancel(id);
    } catch (e) {
      this.notify('error', `Cancel failed: ${(e as Error).message}`);
    }
  }

  /** The log with the lines `ev` adds (the same array when it adds none). */
  private logWith(ev: EngineEvent): LogEntry[] {
    const names = (id: string) => {
      const n = findNode(this.doc, id);
      return n ? nodeName(n) : id;
    };
    const lines = logLines(ev, names);
    const base = this.pendingLog ?? this.snap.log;
    if (!lines.length) return base;
    const log = [...base, ...lines.map((l) => ({ ...l, seq: ++this.logSeq }))];
    return log.length > MAX_LOG ? log.slice(log.length - MAX_LOG) : log;
  }

  private onEvent(ev: EngineEvent): void {
    if (ev.type === 'run-started') {
      if (!this.awaitingRun && !this.myRuns.has(ev.runId)) return;
      this.myRuns.add(ev.runId);
      this.awaitingRun = false;
    } else if (!this.myRuns.has(ev.runId)) {
      return;
    }
    this.liveRun = reduceRun(this.liveRun, ev);
    if (ev.type === 'node-finished' || ev.type === 'node-cached') this.remember([[ev.node, ev.signature]]);
    this.pendingLog = this.logWith(ev);
    // Progress and log lines come many a second while training: shown at most every FLUSH_MS, not one render each.
    if (ev.type === 'node-progress' || ev.type === 'node-log') return this.scheduleRunFlush();
    const patch: Partial<EditorSnapshot> = {};
    if (ev.type === 'run-started') {
      patch.liveRunId = ev.runId;
      patch.historical = false;
      patch.files = {};
    }
    if (ev.type === 'node-failed' && ev.error.code !== 'cancelled') this.notify('error', `${ev.node} failed: ${ev.error.message}`);
    if (ev.type === 'run-finished' || ev.type === 'run-cancelled') {
      patch.running = false;
      if (ev.type === 'run-finished') this.notify(ev.ok ? 'success' : 'error', ev.ok ? 'Run finished' : 'Run finished with failures');
      else this.notify('info', 'Run cancelled');
      void this.refreshRuns();
      void this.check();
    }
    this.flushRun(patch);
    if (ev.type === 'node-finished' || ev.type === 'node-cached') void this.loadMetricsFiles(this.liveRun);
  }

  private scheduleRunFlush(): void {
    this.runFlushTimer ??= setTimeout(() => this.flushRun(), FLUSH_MS);
  }

  /** Show the live run (unless a past one is shown) and the log as they are now, with `patch`: one render. */
  private flushRun(patch: Partial<EditorSnapshot> = {}): void {
    if (this.runFlushTimer) clearTimeout(this.runFlushTimer);
    this.runFlushTimer = null;
    const historical = patch.historical ?? this.snap.historical;
    const live: Partial<EditorSnapshot> = historical ? {} : { run: this.liveRun, historical: false, runRecipe: null };
    const log = this.pendingLog;
    this.pendingLog = null;
    this.set({ ...live, ...(log && log !== this.snap.log ? { log } : {}), ...patch });
  }

  /** Fetch the metrics files the run's metrics outputs point to (for plots and the Compare view). */
  async loadMetricsFiles(run: RunView): Promise<void> {
    for (const o of metricsOutputs(run)) {
      const key = locationKey(o.value.location);
      if (this.snap.files[key]) continue;
      try {
        const c = await this.engine.readArtifact(o.value.location);
        if (c.kind === 'json' && c.value && typeof c.value === 'object') this.set({ files: { ...this.snap.files, [key]: c.value as MetricsFile } });
      } catch {
        // a missing metrics file only leaves a plot empty
      }
    }
  }

  async refreshRuns(): Promise<void> {
    try {
      this.set({ runs: await this.engine.listRuns() });
    } catch {
      // keep the old list
    }
    await this.refreshStore();
  }

  async refreshStore(): Promise<void> {
    try {
      this.set({ store: await this.engine.storeSummary() });
    } catch {
      // keep the old numbers
    }
  }

  /** `loram cache gc` from the Runs tab: artifacts no run used (or, with a cap set, the oldest beyond it) go. */
  async cleanStore(): Promise<void> {
    try {
      const r = await this.engine.cleanStore();
      this.notify('success', r.removed ? `Removed ${r.removed} artifact${r.removed === 1 ? '' : 's'} (${formatBytes(r.freedBytes)}); the store holds ${formatBytes(r.bytes)}` : `Nothing to remove: every artifact belongs to a run in the history${r.underCap ? '' : ' (still over LORAM_CACHE_MAX_GIB: what is left belongs to kept or running runs)'}`);
    } catch (e) {
      this.notify('error', `Clean-up failed: ${(e as Error).message}`);
    }
    await this.refreshStore();
  }

  /** Show a past run (its per-node results, log and plots) from the history. */
  /** Write the run's full report and open it (a new window; where windows are refused, say where it is). */
  async openReport(runId: string): Promise<void> {
    try {
      const r = await this.engine.writeReport(runId);
      const url = URL.createObjectURL(new Blob([r.html], { type: 'text/html' }));
      const w = typeof window !== 'undefined' ? window.open(url, '_blank') : null;
      this.notify('info', w ? `Report opened (also written to ${r.htmlPath})` : `Report written to ${r.htmlPath}`);
    } catch (e) {
      this.notify('error', `Cannot write the report: ${(e as Error).message}`);
    }
  }

  async showRun(runId: string): Promise<void> {
    if (runId === this.liveRun.runId) {
      this.set({ run: this.liveRun, runRecipe: null, historical: false });
      await this.loadMetricsFiles(this.liveRun);
      return;
    }
    const rec = await this.engine.getRun(runId);
    if (!rec) {
      this.notify('error', `No run ${runId}`);
      return;
    }
    let view = emptyRunView();
    for (const e of rec.events) view = reduceRun(view, e);
    this.set({ run: view, runRecipe: rec.recipe, historical: true, files: {} });
    await this.loadMetricsFiles(view);
  }

  /**
   * After opening a recipe, show the results of its latest finished run from the history (if this session has no
   * run of its own yet): a run of a recipe with the same name whose node ids it has, or — the recipe was renamed,
   * e.g. an untitled one by its first Save as — a run of exactly the same nodes under another name.
   */
  async showLatestRunOf(doc: Recipe): Promise<void> {
    if (this.liveRun.runId) return;
    await this.refreshRuns();
    const ids = new Set(doc.nodes.map((n) => `${n.id}:${n.type}`));
    const finished = this.snap.runs.filter((x) => x.status === 'finished');
    const candidates = [...finished.filter((x) => x.recipeName === doc.name).slice(0, 5), ...finished.filter((x) => x.recipeName !== doc.name).slice(0, 3)];
    for (const r of candidates) {
      const rec = await this.engine.getRun(r.runId).catch(() => null);
      if (!rec || this.doc !== doc || this.liveRun.runId) return;
      const runIds = rec.recipe.nodes.map((n) => `${n.id}:${n.type}`);
      const sameName = r.recipeName === doc.name;
      const fits = sameName ? runIds.length > 0 && runIds.every((id) => ids.has(id)) && runIds.length >= ids.size / 2 : runIds.length === ids.size && runIds.every((id) => ids.has(id));
      if (fits) {
        await this.showRun(r.runId);
        return;
      }
    }
  }

  /** Back to the live (last started) run. */
  showLiveRun(): void {
    this.set({ run: this.liveRun, runRecipe: null, historical: false });
    void this.loadMetricsFiles(this.liveRun);
  }
}
