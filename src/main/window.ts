/** The editor's one window: its title with a dirty marker, and a close that asks first while there are unsaved changes. */
import { BrowserWindow } from 'electron';
import { CHANNELS } from '../shared/shell-contract';
import { APP_URL, hardenWebContents, windowOptions } from './security';

export function sendToWindow(win: BrowserWindow | null, channel: string, payload: unknown): void {
  if (win && !win.isDestroyed()) win.webContents.send(channel, payload);
}

export function createMainWindow(preload: string): BrowserWindow {
  const win = new BrowserWindow(windowOptions(preload));
  hardenWebContents(win.webContents);
  win.once('ready-to-show', () => win.show());
  return win;
}

export class EditorWindow {
  /** null while no window is open (macOS keeps the app running without one). */
  current: BrowserWindow | null = null;
  private dirty = false;
  /** Set once the renderer has asked the user and decided to close anyway. */
  private forceClose = false;

  constructor(private readonly preload: string) {}

  open(): void {
    const win = createMainWindow(this.preload);
    this.current = win;
    this.forceClose = false;
    win.on('close', (e) => {
      if (this.dirty && !this.forceClose) {
        // The renderer asks Save / Don't save / Cancel, then calls closeWindow.
        e.preventDefault();
        this.send(CHANNELS.command, 'requestClose');
      }
    });
    win.on('closed', () => {
      this.current = null;
    });
    void win.loadURL(APP_URL);
  }

  send(channel: string, payload: unknown): void {
    sendToWindow(this.current, channel, payload);
  }

  setTitle(title: string, isDirty: boolean): void {
    this.dirty = isDirty;
    const win = this.current;
    if (win && !win.isDestroyed()) {
      win.setTitle(`${isDirty ? '● ' : ''}${title}`);
      win.setDocumentEdited(isDirty);
    }
  }

  /** Close without asking: the renderer has already asked. */
  close(): void {
    this.forceClose = true;
    this.current?.close();
  }

  /** A second start of the app shows this window instead. */
  focus(): void {
    const win = this.current;
    if (!win) return;
    if (win.isMinimized()) win.restore();
    win.focus();
  }
}
