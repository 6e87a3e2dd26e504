/**
 * The web shell's host side: what Electron's main process does with native dialogs and app paths, done with
 * plain files — recent files, the recovery file, directory listings for the in-app file dialog.
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { recipeSchema } from '../shared/index';
import type { DirListing, HostInfo, HostOp, RecoveryData } from '../shared/shell-contract';

export const MAX_RECENT = 10;

export interface FileHostOptions {
  /** Folder for recent.json and recovery.json. */
  stateDir: string;
  /** Where new recipes go and the file dialog starts. */
  defaultDir: string;
  initialFile?: string | null;
  shell: HostInfo['shell'];
  appVersion: string;
}

/** Atomic write: temp file + rename, so a crash never leaves a half-written state file. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await fsp.writeFile(tmp, text);
  await fsp.rename(tmp, file);
}

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch {
    return null;
  }
}

const recoverySchema = z.strictObject({ savedAt: z.number(), path: z.string().nullable(), recipe: recipeSchema });

/** Recent files and the recovery file kept in a state folder (shared by the web shell and Electron's main). */
export class FileHost {
  constructor(readonly opts: FileHostOptions) {}

  private get recentFile(): string {
    return path.join(this.opts.stateDir, 'recent.json');
  }
  private get recoveryFile(): string {
    return path.join(this.opts.stateDir, 'recovery.json');
  }

  info(): HostInfo {
    return {
      shell: this.opts.shell,
      initialFile: this.opts.initialFile ? path.resolve(this.opts.initialFile) : null,
      defaultDir: path.resolve(this.opts.defaultDir),
      sep: path.sep === '\\' ? '\\' : '/',
      platform: process.platform,
      appVersion: this.opts.appVersion,
    };
  }

  async recentFiles(): Promise<string[]> {
    const v = await readJson(this.recentFile);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, MAX_RECENT) : [];
  }

  async addRecent(file: string): Promise<string[]> {
    const abs = path.resolve(file);
    const list = [abs, ...(await this.recentFiles()).filter((f) => f !== abs)].slice(0, MAX_RECENT);
    await writeFileAtomic(this.recentFile, JSON.stringify(list, null, 2) + '\n');
    return list;
  }

  async readRecovery(): Promise<RecoveryData | null> {
    const r = recoverySchema.safeParse(await readJson(this.recoveryFile));
    return r.success ? (r.data as RecoveryData) : null;
  }

  async writeRecovery(data: RecoveryData): Promise<void> {
    await writeFileAtomic(this.recoveryFile, JSON.stringify(data) + '\n');
  }

  async clearRecovery(): Promise<void> {
    await fsp.rm(this.recoveryFile, { force: true });
  }

  /** Sub-folders and *.json files of `dir` (default: the default folder), hidden entries left out. */
  async listDir(dir?: string): Promise<DirListing> {
    const abs = path.resolve(dir && dir.trim() ? dir.replace(/^~(?=$|[\\/])/, os.homedir()) : this.opts.defaultDir);
    const names = await fsp.readdir(abs, { withFileTypes: true });
    const entries: DirListing['entries'] = [];
    for (const d of names) {
      if (d.name.startsWith('.')) continue;
      const p = path.join(abs, d.name);
      let isDir = d.isDirectory();
      if (d.isSymbolicLink()) isDir = await fsp.stat(p).then((s) => s.isDirectory()).catch(() => false);
      if (isDir) entries.push({ name: d.name, path: p, kind: 'dir' });
      else if (/\.json$/i.test(d.name)) {
        const st = await fsp.stat(p).catch(() => null);
        entries.push({ name: d.name, path: p, kind: 'file', ...(st ? { size: st.size, mtime: st.mtimeMs } : {}) });
      }
    }
    entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'dir' ? -1 : 1));
    const parent = path.dirname(abs);
    return { path: abs, parent: parent === abs ? null : parent, entries };
  }
}

const filePath = z.string().min(1).max(4096).refine((p) => !p.includes('\0'), 'must not contain NUL');

/** Host operations the web shell serves, with their argument schemas. */
export const WEB_HOST_ARGS = {
  info: z.tuple([]),
  openDialog: z.tuple([z.unknown().optional()]),
  saveDialog: z.tuple([z.unknown().optional()]),
  recentFiles: z.tuple([]),
  addRecent: z.tuple([filePath]),
  setTitle: z.tuple([z.string().max(500), z.boolean()]),
  readRecovery: z.tuple([]),
  writeRecovery: z.tuple([recoverySchema]),
  clearRecovery: z.tuple([]),
  listDir: z.tuple([filePath.optional()]),
  closeWindow: z.tuple([]),
} satisfies Record<HostOp, z.ZodType>;

export async function callFileHost(host: FileHost, op: HostOp, rawArgs: unknown): Promise<unknown> {
  if (!Array.isArray(rawArgs)) throw Object.assign(new Error(`${op}: the arguments must be an array`), { code: 'invalid-payload' });
  const a = [...rawArgs];
  while (a.length && (a[a.length - 1] === undefined || a[a.length - 1] === null)) a.pop();
  const r = WEB_HOST_ARGS[op].safeParse(a);
  if (!r.success) throw Object.assign(new Error(`${op}: ${r.error.issues.map((i) => i.message).join('; ')}`), { code: 'invalid-payload' });
  const args = r.data as unknown[];
  switch (op) {
    case 'info':
      return host.info();
    case 'openDialog':
    case 'saveDialog':
      return null;
    case 'recentFiles':
      return host.recentFiles();
    case 'addRecent':
      return host.addRecent(args[0] as string);
    case 'setTitle':
    case 'closeWindow':
      return null;
    case 'readRecovery':
      return host.readRecovery();
    case 'writeRecovery':
      return host.writeRecovery(args[0] as RecoveryData);
    case 'clearRecovery':
      return host.clearRecovery();
    case 'listDir':
      return host.listDir(args[0] as string | undefined);
  }
}
