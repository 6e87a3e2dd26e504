/**
 * The Electron main process: one secure window serving the renderer from app://, the typed IPC bridge, native
 * file dialogs, recent files, the title with a dirty marker, an application menu, and the engine in a utility
 * process.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, net, protocol, session, utilityProcess, type MenuItemConstructorOptions } from 'electron';
import type { EngineClient } from '../shared/index';
import { CHANNELS, type RecoveryData } from '../shared/shell-contract';
import { FileHost } from '../server/host';
import { createProcessEngine, type ChildLike } from './engine-host';
import { ApprovedPaths, registerIpc, type MainHost } from './ipc';
import { APP_SCHEME, APP_URL, hardenSession, hardenWebContents, windowOptions } from './security';
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

export function createMainWindow(preload: string): BrowserWindow {
  const win = new BrowserWindow(windowOptions(preload));
  hardenWebContents(win.webContents);
  win.once('ready-to-show', () => win.show());
  return win;
}

/** The recipe named on the command line (`--open FILE` or a trailing *.json), if any. */
export function initialFileFromArgv(argv: readonly string[]): string | null {
  const i = argv.indexOf('--open');
  if (i >= 0 && argv[i + 1]) return path.resolve(argv[i + 1]!);
  const j = [...argv].reverse().find((a) => /\.json$/i.test(a) && !a.startsWith('-'));
  return j ? path.resolve(j) : null;
}

function send(win: BrowserWindow | null, channel: string, payload: unknown): void {
  if (win && !win.isDestroyed()) win.webContents.send(channel, payload);
}

function buildMenu(win: () => BrowserWindow | null, recent: () => string[]): Menu {
  const cmd = (c: string) => () => send(win(), CHANNELS.command, c);
  // Accelerators are shown but not registered: the renderer handles the keys itself (one code path).
  const item = (label: string, command: string, accelerator?: string): MenuItemConstructorOptions => ({ label, click: cmd(command), ...(accelerator ? { accelerator, registerAccelerator: false } : {}) });
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        item('New recipe', 'new', 'CmdOrCtrl+Alt+N'),
        item('Open…', 'open', 'CmdOrCtrl+O'),
        { label: 'Open recent', submenu: recent().length ? recent().map((p) => item(path.basename(p), `openRecent:${p}`)) : [{ label: '(none)', enabled: false }] },
        { type: 'separator' },
        item('Save', 'save', 'CmdOrCtrl+S'),
        item('Save as…', 'saveAs', 'CmdOrCtrl+Shift+S'),
        { type: 'separator' },
        process.platform === 'darwin' ? { role: 'close' } : { role: 'quit' },
      ],
    },
    {
      label: 'Edit',
      submenu: [
        item('Undo', 'undo', 'CmdOrCtrl+Z'),
        item('Redo', 'redo', 'CmdOrCtrl+Shift+Z'),
        { type: 'separator' },
        item('Cut', 'cut', 'CmdOrCtrl+X'),
        item('Copy', 'copy', 'CmdOrCtrl+C'),
        item('Paste', 'paste', 'CmdOrCtrl+V'),
        item('Duplicate', 'duplicate', 'CmdOrCtrl+D'),
        item('Delete', 'delete', 'Delete'),
        item('Select all', 'selectAll', 'CmdOrCtrl+A'),
      ],
    },
    {
      label: 'Run',
      submenu: [item('Run', 'run', 'CmdOrCtrl+Enter'), item('Run to selected node', 'runToHere', 'CmdOrCtrl+Shift+Enter'), item('Cancel run', 'cancel', 'CmdOrCtrl+.')],
    },
    {
      label: 'View',
      submenu: [
        item('Quick add node', 'quickAdd', '/'),
        item('Fit view', 'fitView', 'Shift+1'),
        item('Toggle minimap', 'toggleMinimap', 'Alt+Shift+M'),
        item('Dark / light theme', 'toggleTheme', 'Alt+Shift+T'),
        { type: 'separator' },
        { role: 'toggleDevTools' },
        { role: 'togglefullscreen' },
      ],
    },
    { label: 'Help', submenu: [item('Keyboard shortcuts', 'help', '?')] },
  ];
  return Menu.buildFromTemplate(template);
}

export interface StartOptions {
  argv?: readonly string[];
  preload?: string;
  engine?: EngineClient & { dispose?(): void };
}

/** Start the app: call once from the main entry. */
export async function startApp(opts: StartOptions = {}): Promise<void> {
  registerAppScheme();
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  await app.whenReady();
  serveRenderer();
  hardenSession(session.defaultSession);

  const preload = opts.preload ?? path.join(here, '../preload/index.cjs');
  const initialFile = initialFileFromArgv(opts.argv ?? process.argv.slice(1));
  const engine =
    opts.engine ??
    createProcessEngine(
      () =>
        utilityProcess.fork(path.join(here, 'engine-process.js'), [], {
          serviceName: 'LoRAM engine',
          stdio: 'inherit',
          env: { ...process.env, LORAM_ENGINE_ENTRY: pathToFileURL(path.join(ROOT, 'src/engine/index.ts')).href },
        }) as unknown as ChildLike,
    );

  const files = new FileHost({
    stateDir: app.getPath('userData'),
    defaultDir: await fsp.stat(path.join(ROOT, 'graphs')).then(() => path.join(ROOT, 'graphs'), () => app.getPath('documents')),
    initialFile,
    shell: 'electron',
    appVersion: app.getVersion(),
  });
  const approved = new ApprovedPaths();
  approved.add(initialFile);

  let win: BrowserWindow | null = null;
  let dirty = false;
  let forceClose = false;
  let recent: string[] = await files.recentFiles();
  const refreshMenu = () => Menu.setApplicationMenu(buildMenu(() => win, () => recent));

  const host: MainHost = {
    info: () => files.info(),
    async openDialog(o) {
      const r = await dialog.showOpenDialog(win!, { title: 'Open recipe', defaultPath: o?.defaultPath ?? files.info().defaultDir, filters: RECIPE_FILTERS, properties: ['openFile'] });
      return r.canceled || !r.filePaths[0] ? null : r.filePaths[0];
    },
    async saveDialog(o) {
      const r = await dialog.showSaveDialog(win!, { title: 'Save recipe', defaultPath: o?.defaultPath ?? files.info().defaultDir, filters: RECIPE_FILTERS, properties: ['createDirectory', 'showOverwriteConfirmation'] });
      return r.canceled || !r.filePath ? null : r.filePath;
    },
    recentFiles: () => files.recentFiles(),
    async addRecent(p) {
      recent = await files.addRecent(p);
      app.addRecentDocument(p);
      refreshMenu();
      return recent;
    },
    setTitle(title, isDirty) {
      dirty = isDirty;
      if (win && !win.isDestroyed()) {
        win.setTitle(`${isDirty ? '● ' : ''}${title}`);
        win.setDocumentEdited(isDirty);
      }
    },
    readRecovery: () => files.readRecovery(),
    writeRecovery: (d: RecoveryData) => files.writeRecovery(d),
    clearRecovery: () => files.clearRecovery(),
    closeWindow() {
      forceClose = true;
      win?.close();
    },
  };

  registerIpc({ ipcMain, engine, host, approved });
  engine.subscribe((event) => send(win, CHANNELS.event, event));
  refreshMenu();

  const open = () => {
    win = createMainWindow(preload);
    forceClose = false;
    win.on('close', (e) => {
      if (dirty && !forceClose) {
        // The renderer asks Save / Don't save / Cancel, then calls closeWindow.
        e.preventDefault();
        send(win, CHANNELS.command, 'requestClose');
      }
    });
    win.on('closed', () => {
      win = null;
    });
    void win.loadURL(APP_URL);
  };
  open();

  app.on('second-instance', () => {
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });
  app.on('activate', () => {
    if (!win) open();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('will-quit', () => engine.dispose?.());
}
