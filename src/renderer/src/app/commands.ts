/**
 * What the user can ask the App to do, from the toolbar, a shortcut or the shell's menu: the named actions of the
 * keymap, closing the window, and opening a recent file. Menu commands arrive as strings; they are parsed once here.
 */
import { KEYMAP, type Action } from '../editor/shortcuts';

export type AppCommand = { name: Action } | { name: 'requestClose' } | { name: 'openRecent'; path: string };

const ACTIONS = new Set<string>(KEYMAP.map((b) => b.action));
const OPEN_RECENT = 'openRecent:';

export function parseMenuCommand(command: string): AppCommand | null {
  if (command.startsWith(OPEN_RECENT)) return { name: 'openRecent', path: command.slice(OPEN_RECENT.length) };
  if (command === 'requestClose') return { name: 'requestClose' };
  return ACTIONS.has(command) ? { name: command as Action } : null;
}
