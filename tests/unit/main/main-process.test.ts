/**
 * The Electron main process with a mocked `electron` (the binary is not needed): the window's security options,
 * navigation / new-window / permission denial, and the IPC payload validation.
 */
import { jest } from '@jest/globals';
import { CHANNELS, ENGINE_OPS, HOST_OPS } from '../../../src/shared/shell-contract';
import { FakeEngine } from '../server/fake-engine';

type Handler = (event: unknown, ...args: unknown[]) => Promise<unknown>;

const handlers = new Map<string, Handler>();
const windows: FakeWindow[] = [];
const sessionMock = {
  permissionRequest: null as null | ((wc: unknown, p: string, cb: (ok: boolean) => void) => void),
  permissionCheck: null as null | ((...a: unknown[]) => boolean),
  headers: null as null | ((d: { responseHeaders: Record<string, string[]> }, cb: (r: unknown) => void) => void),
};
let saveDialogResult: string | null = '/home/u/chosen.json';
const schemes: unknown[] = [];

class FakeWebContents {
  listeners = new Map<string, ((...a: unknown[]) => void)[]>();
  openHandler: ((d: unknown) => unknown) | null = null;
  sent: [string, unknown][] = [];
  on(ev: string, fn: (...a: unknown[]) => void) {
    this.listeners.set(ev, [...(this.listeners.get(ev) ?? []), fn]);
  }
  setWindowOpenHandler(fn: (d: unknown) => unknown) {
    this.openHandler = fn;
  }
  send(ch: string, payload: unknown) {
    this.sent.push([ch, payload]);
  }
  emit(ev: string, ...args: unknown[]) {
    for (const f of this.listeners.get(ev) ?? []) f(...args);
  }
}
class FakeWindow {
  webContents = new FakeWebContents();
  listeners = new Map<string, ((...a: unknown[]) => void)[]>();
  url = '';
  title = '';
  edited = false;
  closed = false;
  constructor(readonly options: Record<string, any>) {
    windows.push(this);
  }
  on(ev: string, fn: (...a: unknown[]) => void) {
    this.listeners.set(ev, [...(this.listeners.get(ev) ?? []), fn]);
    return this;
  }
  once(ev: string, fn: (...a: unknown[]) => void) {
    return this.on(ev, fn);
  }
  emit(ev: string, ...args: unknown[]) {
    for (const f of this.listeners.get(ev) ?? []) f(...args);
  }
  loadURL(u: string) {
    this.url = u;
    return Promise.resolve();
  }
  isDestroyed() {
    return false;
  }
  isMinimized() {
    return false;
  }
  setTitle(t: string) {
    this.title = t;
  }
  setDocumentEdited(e: boolean) {
    this.edited = e;
  }
  close() {
    const e = { defaultPrevented: false, preventDefault() { this.defaultPrevented = true; } };
    this.emit('close', e);
    if (!e.defaultPrevented) this.closed = true;
  }
  show() {}
  focus() {}
  restore() {}
}

jest.unstable_mockModule('electron', () => ({
  app: {
    requestSingleInstanceLock: () => true,
    whenReady: () => Promise.resolve(),
    quit: jest.fn(),
    on: jest.fn(),
    getPath: (n: string) => `/tmp/loram-electron-test/${n}`,
    getVersion: () => '0.1.0',
    addRecentDocument: jest.fn(),
  },
  BrowserWindow: FakeWindow,
  ipcMain: {
    handle: (ch: string, fn: Handler) => handlers.set(ch, fn),
    removeHandler: (ch: string) => handlers.delete(ch),
  },
  dialog: {
    showOpenDialog: async () => ({ canceled: false, filePaths: ['/home/u/opened.json'] }),
    showSaveDialog: async () => ({ canceled: saveDialogResult === null, filePath: saveDialogResult ?? undefined }),
  },
  Menu: { buildFromTemplate: (t: unknown) => ({ template: t }), setApplicationMenu: jest.fn() },
  net: { fetch: jest.fn() },
  protocol: { registerSchemesAsPrivileged: (s: unknown) => schemes.push(s), handle: jest.fn() },
  session: {
    defaultSession: {
      setPermissionRequestHandler: (f: typeof sessionMock.permissionRequest) => (sessionMock.permissionRequest = f),
      setPermissionCheckHandler: (f: typeof sessionMock.permissionCheck) => (sessionMock.permissionCheck = f),
      webRequest: { onHeadersReceived: (f: typeof sessionMock.headers) => (sessionMock.headers = f) },
    },
  },
  utilityProcess: { fork: jest.fn() },
}));

const { startApp } = await import('../../../src/main/app');
const { APP_URL } = await import('../../../src/main/security');
const { EDITOR_CSP: CSP } = await import('../../../src/shared/csp');

const engine = new FakeEngine();
const trusted = { senderFrame: { url: 'app://loram/index.html' } };
const evil = { senderFrame: { url: 'https://evil.example/' } };
const invoke = (ch: string, event: unknown, ...args: unknown[]) => handlers.get(ch)!(event, ...args) as Promise<any>;

beforeAll(async () => {
  await startApp({ argv: ['.', '--open', '/home/u/graphs/quickstart.json'], preload: '/app/out/preload/index.cjs', engine });
});

describe('Electron main process (mocked electron)', () => {
  test('one window, loaded from the app:// protocol, with the secure options', () => {
    expect(windows).toHaveLength(1);
    const w = windows[0]!;
    expect(w.url).toBe(APP_URL);
    expect(w.options.webPreferences).toMatchObject({
      preload: '/app/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
    });
    expect(schemes[0]).toEqual([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
  });

  test('new windows and navigation away from the app are denied', () => {
    const wc = windows[0]!.webContents;
    expect(wc.openHandler!({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    const nav = (url: string) => {
      let prevented = false;
      wc.emit('will-navigate', { preventDefault: () => (prevented = true) }, url);
      return prevented;
    };
    expect(nav('https://example.com/')).toBe(true);
    expect(nav('file:///etc/passwd')).toBe(true);
    expect(nav('app://loram/index.html')).toBe(false);
    let webview = false;
    wc.emit('will-attach-webview', { preventDefault: () => (webview = true) });
    expect(webview).toBe(true);
  });

  test('every permission request is denied and responses carry the strict CSP', () => {
    const answers: boolean[] = [];
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read']) sessionMock.permissionRequest!({}, p, (ok) => answers.push(ok));
    expect(answers).toEqual([false, false, false, false]);
    expect(sessionMock.permissionCheck!({}, 'media')).toBe(false);
    let out: any;
    sessionMock.headers!({ responseHeaders: { 'X-A': ['1'] } }, (r) => (out = r));
    expect(out.responseHeaders['Content-Security-Policy']).toEqual([CSP]);
    expect(CSP).toMatch(/script-src 'self'/);
    expect(CSP).not.toMatch(/unsafe-eval/);
  });

  test('one IPC handler per engine and host operation', () => {
    for (const op of ENGINE_OPS) expect(handlers.has(CHANNELS.engine(op))).toBe(true);
    for (const op of HOST_OPS) expect(handlers.has(CHANNELS.host(op))).toBe(true);
  });

  test('payloads are validated with zod before the engine sees them', async () => {
    const before = engine.calls.length;
    expect(await invoke(CHANNELS.engine('cancel'), trusted, 42)).toMatchObject({ ok: false, error: { code: 'invalid-payload' } });
    expect(await invoke(CHANNELS.engine('getRun'), trusted, '../../etc')).toMatchObject({ ok: false, error: { code: 'invalid-payload' } });
    expect(await invoke(CHANNELS.engine('run'), trusted, {}, { to: 'x', evil: true })).toMatchObject({ ok: false, error: { code: 'invalid-payload' } });
    expect(await invoke(CHANNELS.engine('readArtifact'), trusted, { kind: 'store', artifact: '../x', path: 'a' })).toMatchObject({ ok: false, error: { code: 'invalid-payload' } });
    expect(await invoke(CHANNELS.engine('validate'), trusted)).toMatchObject({ ok: false, error: { code: 'invalid-payload' } });
    expect(engine.calls.length).toBe(before);
    expect(await invoke(CHANNELS.engine('cancel'), trusted, 'run-1')).toEqual({ ok: true, value: null });
    expect(await invoke(CHANNELS.engine('run'), trusted, { format: 'loram-recipe' }, { to: 'prune' })).toEqual({ ok: true, value: { ok: true, runId: 'run-1' } });
    expect(engine.callsOf('run').at(-1)!.args).toEqual([{ format: 'loram-recipe' }, { to: 'prune' }]);
    expect(await invoke(CHANNELS.host('setTitle'), trusted, 123)).toMatchObject({ ok: false, error: { code: 'invalid-payload' } });
    expect(await invoke(CHANNELS.host('writeRecovery'), trusted, { savedAt: 1 })).toMatchObject({ ok: false, error: { code: 'invalid-payload' } });
  });

  test('IPC from a page other than the app is refused', async () => {
    expect(await invoke(CHANNELS.engine('listNodes'), evil)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await invoke(CHANNELS.engine('listNodes'), {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect((await invoke(CHANNELS.engine('listNodes'), trusted)).ok).toBe(true);
  });

  test('recipes are read and written only where the user chose (dialog, start file)', async () => {
    const recipe = { format: 'loram-recipe', version: 2, name: 'r', nodes: [], edges: [] };
    expect(await invoke(CHANNELS.engine('saveRecipe'), trusted, '/etc/cron.d/x.json', recipe)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await invoke(CHANNELS.engine('loadRecipe'), trusted, '/home/u/graphs/quickstart.json')).toMatchObject({ ok: true });
    expect(await invoke(CHANNELS.host('saveDialog'), trusted, { defaultPath: '/home/u' })).toEqual({ ok: true, value: '/home/u/chosen.json' });
    expect(await invoke(CHANNELS.engine('saveRecipe'), trusted, '/home/u/chosen.json', recipe)).toEqual({ ok: true, value: null });
    expect(engine.files.has('/home/u/chosen.json')).toBe(true);
    expect(await invoke(CHANNELS.engine('saveRecipe'), trusted, '/home/u/chosen.json', { ...recipe, nodes: 'x' })).toMatchObject({ ok: false, error: { code: 'invalid-payload' } });
  });

  test('title with a dirty marker; closing with unsaved changes asks the renderer first', async () => {
    const w = windows[0]!;
    await invoke(CHANNELS.host('setTitle'), trusted, 'quickstart.json — LoRAM Studio', true);
    expect(w.title).toBe('● quickstart.json — LoRAM Studio');
    expect(w.edited).toBe(true);
    w.close();
    expect(w.closed).toBe(false);
    expect(w.webContents.sent).toContainEqual([CHANNELS.command, 'requestClose']);
    await invoke(CHANNELS.host('closeWindow'), trusted);
    expect(w.closed).toBe(true);
  });

  test('engine events are forwarded to the window', () => {
    engine.emit({ type: 'node-log', runId: 'r', time: 1, node: 'a', level: 'info', message: 'x' });
    expect(windows[0]!.webContents.sent).toContainEqual([CHANNELS.event, expect.objectContaining({ message: 'x' })]);
  });
});
