/**
 * The bridge between the renderer and a shell (Electron's preload, or the web shell's HTTP server): channel
 * names, the host API (files, dialogs, recent files, window title, the recovery file), and the result envelope.
 * Types and constants only, so the sandboxed preload, the main process, the server and the renderer can all
 * import it.
 */
import type { EngineClient } from './api';
import type { Recipe } from './recipe';

/** Every EngineClient operation except `subscribe` (events travel separately). One IPC channel / HTTP route each. */
export const ENGINE_OPS = ['listNodes', 'validate', 'run', 'runTargets', 'cancel', 'listRuns', 'getRun', 'cacheStatus', 'storeSummary', 'cleanStore', 'readArtifact', 'readMetrics', 'reportModel', 'writeReport', 'loadRecipe', 'saveRecipe'] as const;
export type EngineOp = (typeof ENGINE_OPS)[number];

export const HOST_OPS = ['info', 'openDialog', 'saveDialog', 'recentFiles', 'addRecent', 'setTitle', 'readRecovery', 'writeRecovery', 'clearRecovery', 'listDir', 'closeWindow'] as const;
export type HostOp = (typeof HOST_OPS)[number];

export const CHANNELS = {
  engine: (op: EngineOp) => `engine:${op}` as const,
  host: (op: HostOp) => `host:${op}` as const,
  /** main → renderer: one engine event. */
  event: 'engine:event',
  /** main → renderer: a menu command (an editor action name, e.g. "save"). */
  command: 'host:command',
} as const;

export interface IpcError {
  code: string;
  message: string;
}
/** What every IPC handler / HTTP endpoint returns: errors as data (Electron keeps only `message` of thrown errors). */
export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: IpcError };

export interface HostInfo {
  shell: 'electron' | 'web';
  /** A recipe to open at start (e.g. the quickstart), absolute. */
  initialFile: string | null;
  /** Where new recipes are saved by default (absolute). */
  defaultDir: string;
  /** Path separator of the machine the files live on. */
  sep: '/' | '\\';
  platform: string;
  appVersion: string;
}

export interface RecoveryData {
  savedAt: number;
  /** The file the recovered document belongs to (null: never saved). */
  path: string | null;
  recipe: Recipe;
}

export interface DirEntry {
  name: string;
  path: string;
  kind: 'dir' | 'file';
  /** For files. */
  size?: number;
  mtime?: number;
}
export interface DirListing {
  path: string;
  parent: string | null;
  entries: DirEntry[];
}

export type MenuCommand = string;

export interface HostApi {
  info(): Promise<HostInfo>;
  /** A native open dialog (Electron); null when cancelled. The web shell has none (its own in-app dialog). */
  openDialog(opts?: { defaultPath?: string }): Promise<string | null>;
  saveDialog(opts?: { defaultPath?: string }): Promise<string | null>;
  recentFiles(): Promise<string[]>;
  addRecent(path: string): Promise<string[]>;
  setTitle(title: string, dirty: boolean): Promise<void>;
  readRecovery(): Promise<RecoveryData | null>;
  writeRecovery(data: RecoveryData): Promise<void>;
  clearRecovery(): Promise<void>;
  /** Folders and recipe files (*.json) of a directory, for the in-app file dialog. */
  listDir(dir?: string): Promise<DirListing>;
  /** Close the window (after the renderer has dealt with unsaved changes). */
  closeWindow(): Promise<void>;
  /** Menu commands from the shell; returns the unsubscribe function. */
  onCommand(listener: (command: MenuCommand) => void): () => void;
}

/** What the preload exposes as `window.loram`. */
export interface LoramBridge {
  engine: EngineClient;
  host: HostApi;
}
