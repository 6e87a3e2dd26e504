/**
 * The Electron main process: one secure window serving the renderer from app://, the typed IPC bridge, native
 * file dialogs, recent files, the title with a dirty marker, an application menu, and the engine in a utility
 * process.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { app, dialog, ipcMain, Menu, net, protocol, session, utilityProcess } from 'electron';
import type { EngineClient } from '../shared/index';
import { CHANNELS, type RecoveryData } from '../shared/shell-contract';
import { FileHost } from '../server/host';
import { createProcessEngine, type ChildLike } from './engine-host';
import { ApprovedPaths, registerIpc, type MainHost } from './ipc';
import { buildMenu } from './menu';
import { APP_SCHEME, hardenSession } from './security';
import { EditorWindow } from './window';
import { EDITOR_CSP } from '../shared/csp';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Repository root (out/main/ → ../..). */
export const ROOT = path.resolve(here, '../..');
const RENDERER_DIR = path.join(ROOT, 'out/renderer');

const RECIPE_FILTERS = [
  { name: 'LoRAM recipes', extensions: ['json'] },
  { name: 'All files', extensions: ['*'] },
];

/** Must run before `app` is ready. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/** Serve out/renderer at app://loram/…, with the CSP header; nothing outside that folder. */
export function serveRenderer(dir = RENDERER_DIR): void {
  protocol.handle(APP_SCHEME, async (req) => {
    const u = new URL(req.url);
    const rel = decodeURIComponent(u.pathname === '/' ? '/index.html' : u.pathname);
    const file = path.resolve(dir, '.' + rel);
    if (!file.startsWith(dir + path.sep)) return new Response('forbidden', { status: 403 });
    const res = await net.fetch(pathToFileURL(file).toString()).catch(() => null);
    if (!res || !res.ok) return new Response('not found', { status: 404 });
    const headers = new Headers(res.headers);
    headers.set('Content-Security-Policy', EDITOR_CSP);
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(res.body, { status: 200, headers });
  });
}

/** The recipe named on the command line (`--open FILE` or a trailing *.json), if any. */
export function initialFileFromArgv(argv: readonly string[]): string | null {
  const i = argv.indexOf('--open');
  if (i >= 0 && argv[i + 1]) return path.resolve(argv[i + 1]!);
  const j = [...argv].reverse().find((a) => /\.json$/i.test(a) && !a.startsWith('-'));
  return j ? path.resolve(j) : null;
}

export interface StartOptions {
  argv?: readonly string[];
  preload?: string;
  engine?: EngineClient & { dispose?(): void };
}

/** Scheme, single-instance lock, readiness, renderer protocol and session: false when another instance runs. */
async function becomeReady(): Promise<boolean> {
  registerAppScheme();
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return false;
  }
  await app.whenReady();
  serveRenderer();
  hardenSession(session.defaultSession);
  return true;
}

/** The engine in an Electron utility process. */
function processEngine(): EngineClient & { dispose?(): void } {
  return createProcessEngine(
    () =>
      utilityProcess.fork(path.join(here, 'engine-process.js'), [], {
        serviceName: 'LoRAM engine',
        stdio: 'inherit',
        env: { ...process.env, LORAM_ENGINE_ENTRY: pathToFileURL(path.join(ROOT, 'src/engine/index.ts')).href },
      }) as unknown as ChildLike,
  );
}

async function createFileHost(initialFile: string | null): Promise<FileHost> {
  const graphs = path.join(ROOT, 'graphs');
  return new FileHost({
    stateDir: app.getPath('userData'),
    defaultDir: await fsp.stat(graphs).then(() => graphs, () => app.getPath('documents')),
    initialFile,
    shell: 'electron',
    appVersion: app.getVersion(),
  });
}

/** The host operations of the desktop shell: native dialogs, the recent list (kept in the menu), title, recovery. */
async function createMainHost(files: FileHost, window: EditorWindow): Promise<MainHost> {
  let recent: string[] = await files.recentFiles();
  const refreshMenu = () => Menu.setApplicationMenu(buildMenu(() => window.current, () => recent));
  refreshMenu();
  return {
    info: () => files.info(),
    async openDialog(o) {
      const r = await dialog.showOpenDialog(window.current!, { title: 'Open recipe', defaultPath: o?.defaultPath ?? files.info().defaultDir, filters: RECIPE_FILTERS, properties: ['openFile'] });
      return r.canceled || !r.filePaths[0] ? null : r.filePaths[0];
    },
    async saveDialog(o) {
      const r = await dialog.showSaveDialog(window.current!, { title: 'Save recipe', defaultPath: o?.defaultPath ?? files.info().defaultDir, filters: RECIPE_FILTERS, properties: ['createDirectory', 'showOverwriteConfirmation'] });
      return r.canceled || !r.filePath ? null : r.filePath;
    },
    recentFiles: () => files.recentFiles(),
    async addRecent(p) {
      recent = await files.addRecent(p);
      app.addRecentDocument(p);
      refreshMenu();
      return recent;
    },
    setTitle: (title, isDirty) => window.setTitle(title, isDirty),
    readRecovery: () => files.readRecovery(),
    writeRecovery: (d: RecoveryData) => files.writeRecovery(d),
    clearRecovery: () => files.clearRecovery(),
    closeWindow: () => window.close(),
  };
}

function handleAppLifecycle(window: EditorWindow, engine: EngineClient & { dispose?(): void }): void {
  app.on('second-instance', () => window.focus());
  app.on('activate', () => {
    if (!window.current) window.open();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('will-quit', () => engine.dispose?.());
}

/** Start the app: call once from the main entry. */
export async function startApp(opts: StartOptions = {}): Promise<void> {
  if (!(await becomeReady())) return;
  const initialFile = initialFileFromArgv(opts.argv ?? process.argv.slice(1));
  const engine = opts.engine ?? processEngine();
  const files = await createFileHost(initialFile);
  const approved = new ApprovedPaths();
  approved.add(initialFile);
  const window = new EditorWindow(opts.preload ?? path.join(here, '../preload/index.cjs'));
  registerIpc({ ipcMain, engine, host: await createMainHost(files, window), approved });
  engine.subscribe((event) => window.send(CHANNELS.event, event));
  window.open();
  handleAppLifecycle(window, engine);
}
