/**
 * IPC handlers: one `ipcMain.handle` per engine and host operation. Every payload is validated with zod before it
 * reaches the engine (src/server/engine-ops.ts, the same schemas the web shell uses), the sender must be the
 * app's own page, and recipe files are read and written only at paths the user chose (a dialog, the recent list,
 * the file given at start). Results are `{ok, value} | {ok: false, error}` (thrown errors lose their fields).
 */
import path from 'node:path';
import { z } from 'zod';
import type { EngineClient } from '../shared/index';
import { CHANNELS, ENGINE_OPS, HOST_OPS, type EngineOp, type HostOp, type IpcResult, type RecoveryData } from '../shared/shell-contract';
import { dispatchEngineOp, errorResult } from '../server/engine-ops';
import { WEB_HOST_ARGS } from '../server/host';
import { isAppUrl } from './security';

/** What ipcMain.handle gives a handler (the parts we use). */
export interface InvokeEvent {
  senderFrame?: { url: string } | null;
  sender?: { id: number };
}
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEvent, ...args: unknown[]) => Promise<unknown> | unknown): void;
  removeHandler(channel: string): void;
}

/** The host side in the main process: native dialogs, recent files, title, recovery file. */
export interface MainHost {
  info(): Promise<unknown> | unknown;
  openDialog(opts?: { defaultPath?: string }): Promise<string | null>;
  saveDialog(opts?: { defaultPath?: string }): Promise<string | null>;
  recentFiles(): Promise<string[]>;
  addRecent(path: string): Promise<string[]>;
  setTitle(title: string, dirty: boolean): Promise<void> | void;
  readRecovery(): Promise<RecoveryData | null>;
  writeRecovery(data: RecoveryData): Promise<void>;
  clearRecovery(): Promise<void>;
  closeWindow(): Promise<void> | void;
}

/** Paths the renderer may load or save: only those the user picked. */
export class ApprovedPaths {
  private readonly set = new Set<string>();
  add(p: string | null | undefined): void {
    if (p) this.set.add(path.resolve(p));
  }
  has(p: string): boolean {
    return this.set.has(path.resolve(p));
  }
}

export interface IpcDeps {
  ipcMain: IpcMainLike;
  engine: EngineClient;
  host: MainHost;
  approved: ApprovedPaths;
  /** Default: the sender frame's URL is the app's own origin. */
  isTrustedSender?: (e: InvokeEvent) => boolean;
}

export function defaultTrustedSender(e: InvokeEvent): boolean {
  const url = e.senderFrame?.url;
  return typeof url === 'string' && isAppUrl(url);
}

const forbidden = (message: string): IpcResult<never> => ({ ok: false, error: { code: 'forbidden', message } });

function hostArgs(op: HostOp, args: unknown[]): unknown[] {
  const a = [...args];
  while (a.length && (a[a.length - 1] === undefined || a[a.length - 1] === null)) a.pop();
  const r = (WEB_HOST_ARGS[op] as z.ZodType).safeParse(a);
  if (!r.success) throw Object.assign(new Error(`${op}: ${r.error.issues.map((i) => `${i.path.length ? `argument ${i.path.join('.')}` : 'arguments'}: ${i.message}`).join('; ')}`), { code: 'invalid-payload' });
  return r.data as unknown[];
}

const dialogOpts = z.strictObject({ defaultPath: z.string().max(4096).optional() }).optional();

/** A refusal thrown inside a host handler; errorResult turns it into the same result as `forbidden`. */
const refusal = (message: string) => Object.assign(new Error(message), { code: 'forbidden' });

type HostHandler = (deps: IpcDeps, raw: unknown[]) => Promise<unknown>;

/** A path chosen in a native dialog becomes one the renderer may load or save. */
async function chooseInDialog(deps: IpcDeps, op: 'openDialog' | 'saveDialog', raw: unknown[]): Promise<string | null> {
  const o = dialogOpts.safeParse(raw[0] ?? undefined);
  if (!o.success) throw Object.assign(new Error(`${op}: invalid options`), { code: 'invalid-payload' });
  const p = op === 'openDialog' ? await deps.host.openDialog(o.data) : await deps.host.saveDialog(o.data);
  deps.approved.add(p);
  return p;
}

/** Each host operation: its arguments checked, approved paths kept up to date. */
const HOST_HANDLERS: Record<HostOp, HostHandler> = {
  openDialog: (deps, raw) => chooseInDialog(deps, 'openDialog', raw),
  saveDialog: (deps, raw) => chooseInDialog(deps, 'saveDialog', raw),
  async listDir() {
    throw Object.assign(new Error('the desktop app uses native file dialogs'), { code: 'not-available' });
  },
  async recentFiles(deps, raw) {
    hostArgs('recentFiles', raw);
    const list = await deps.host.recentFiles();
    list.forEach((p) => deps.approved.add(p));
    return list;
  },
  async addRecent(deps, raw) {
    const [p] = hostArgs('addRecent', raw) as [string];
    if (!deps.approved.has(p)) throw refusal(`addRecent: ${p} was not chosen in a file dialog`);
    return deps.host.addRecent(p);
  },
  async setTitle(deps, raw) {
    const [title, dirty] = hostArgs('setTitle', raw) as [string, boolean];
    return deps.host.setTitle(title, dirty);
  },
  async readRecovery(deps, raw) {
    hostArgs('readRecovery', raw);
    const r = await deps.host.readRecovery();
    deps.approved.add(r?.path);
    return r;
  },
  async writeRecovery(deps, raw) {
    const [data] = hostArgs('writeRecovery', raw) as [RecoveryData];
    return deps.host.writeRecovery(data);
  },
  async clearRecovery(deps, raw) {
    hostArgs('clearRecovery', raw);
    return deps.host.clearRecovery();
  },
  async closeWindow(deps, raw) {
    hostArgs('closeWindow', raw);
    return deps.host.closeWindow();
  },
  async info(deps, raw) {
    hostArgs('info', raw);
    return deps.host.info();
  },
};

type Trusted = (e: InvokeEvent) => boolean;

/** One handler on `channel`, answering only the app's own page; the channel is recorded for removal. */
function handleFromApp(deps: IpcDeps, trusted: Trusted, channels: string[], channel: string, handler: (args: unknown[]) => Promise<IpcResult<unknown>>): void {
  channels.push(channel);
  deps.ipcMain.handle(channel, async (event, ...args) => (trusted(event) ? handler(args) : forbidden('IPC from an unknown page refused')));
}

/** Recipe files are loaded and saved only at paths the user chose. */
async function callEngine(deps: IpcDeps, op: EngineOp, args: unknown[]): Promise<IpcResult<unknown>> {
  if ((op === 'loadRecipe' || op === 'saveRecipe') && typeof args[0] === 'string' && !deps.approved.has(args[0])) {
    return forbidden(`${op}: ${args[0]} was not chosen in a file dialog; use Open or Save as`);
  }
  return dispatchEngineOp(deps.engine, op, args);
}

async function callHost(deps: IpcDeps, op: HostOp, raw: unknown[]): Promise<IpcResult<unknown>> {
  try {
    const value = await HOST_HANDLERS[op](deps, raw);
    return { ok: true, value: value === undefined ? null : value };
  } catch (e) {
    return errorResult(e);
  }
}

/** Register every handler; returns a function that removes them. */
export function registerIpc(deps: IpcDeps): () => void {
  const trusted = deps.isTrustedSender ?? defaultTrustedSender;
  const channels: string[] = [];
  for (const op of ENGINE_OPS as readonly EngineOp[]) handleFromApp(deps, trusted, channels, CHANNELS.engine(op), (args) => callEngine(deps, op, args));
  for (const op of HOST_OPS as readonly HostOp[]) handleFromApp(deps, trusted, channels, CHANNELS.host(op), (raw) => callHost(deps, op, raw));
  return () => channels.forEach((c) => deps.ipcMain.removeHandler(c));
}
