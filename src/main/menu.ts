/** The application menu: each item sends its command to the renderer, which handles it as its own keys do. */
import path from 'node:path';
import { Menu, type BrowserWindow, type MenuItemConstructorOptions } from 'electron';
import { CHANNELS } from '../shared/shell-contract';
import { sendToWindow } from './window';

export function buildMenu(win: () => BrowserWindow | null, recent: () => string[]): Menu {
  const cmd = (c: string) => () => sendToWindow(win(), CHANNELS.command, c);
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

