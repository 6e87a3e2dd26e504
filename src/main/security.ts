/**
 * The window's security settings (Electron's security checklist): context isolation, the process sandbox, no
 * Node in the renderer, a strict CSP, navigation and new windows denied, every permission request denied.
 * Plain functions over Electron objects, so tests check them with a mocked `electron`.
 */
import type { BrowserWindowConstructorOptions, Session, WebContents } from 'electron';
import { EDITOR_CSP } from '../shared/csp';

/** The scheme the renderer is served from (a custom protocol, not file://). */
export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://loram`;
export const APP_URL = `${APP_ORIGIN}/index.html`;

export function windowOptions(preload: string): BrowserWindowConstructorOptions {
  return {
    width: 1440,
    height: 900,
    minWidth: 960,
    minHeight: 600,
    show: false,
    backgroundColor: '#0f1217',
    title: 'LoRAM Studio',
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      safeDialogs: true,
      devTools: true,
    },
  };
}

/** True for URLs of the app itself. */
export function isAppUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}` === APP_ORIGIN;
  } catch {
    return false;
  }
}

/** Deny new windows, navigation away from the app, webviews. */
export function hardenWebContents(wc: WebContents): void {
  wc.setWindowOpenHandler(() => ({ action: 'deny' }));
  const block = (e: { preventDefault(): void }, url: string) => {
    if (!isAppUrl(url)) e.preventDefault();
  };
  wc.on('will-navigate', block);
  wc.on('will-redirect', block);
  wc.on('will-frame-navigate', (e: { preventDefault(): void; url: string }) => {
    if (!isAppUrl(e.url)) e.preventDefault();
  });
  wc.on('will-attach-webview', (e: { preventDefault(): void }) => e.preventDefault());
}

/** Deny every permission (camera, notifications, clipboard-read, …) and add the CSP to every response. */
export function hardenSession(ses: Session): void {
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [EDITOR_CSP] } });
  });
}
