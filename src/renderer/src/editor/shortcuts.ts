/** Keyboard shortcuts: one table of named actions (shown in menus and the help overlay) and a matcher. */

export type Action =
  | 'undo'
  | 'redo'
  | 'copy'
  | 'cut'
  | 'paste'
  | 'duplicate'
  | 'delete'
  | 'selectAll'
  | 'group'
  | 'ungroup'
  | 'new'
  | 'open'
  | 'save'
  | 'saveAs'
  | 'run'
  | 'runToHere'
  | 'cancel'
  | 'quickAdd'
  | 'fitView'
  | 'toggleMinimap'
  | 'toggleTheme'
  | 'help';

export interface Binding {
  action: Action;
  /** e.g. "Mod+Z" (Mod = Cmd on macOS, Ctrl elsewhere), "Shift+Mod+Z", "Delete", "/". */
  keys: string[];
  label: string;
  /** Also fires while typing in a text field. */
  inTextFields?: boolean;
}

export const KEYMAP: readonly Binding[] = [
  { action: 'undo', keys: ['Mod+Z'], label: 'Undo' },
  { action: 'redo', keys: ['Shift+Mod+Z', 'Mod+Y'], label: 'Redo' },
  { action: 'copy', keys: ['Mod+C'], label: 'Copy' },
  { action: 'cut', keys: ['Mod+X'], label: 'Cut' },
  { action: 'paste', keys: ['Mod+V'], label: 'Paste' },
  { action: 'duplicate', keys: ['Mod+D'], label: 'Duplicate' },
  { action: 'delete', keys: ['Delete', 'Backspace'], label: 'Delete' },
  { action: 'selectAll', keys: ['Mod+A'], label: 'Select all' },
  { action: 'group', keys: ['Mod+G'], label: 'Group the selected nodes' },
  { action: 'ungroup', keys: ['Shift+Mod+G'], label: 'Ungroup the selected nodes\' groups' },
  { action: 'new', keys: ['Alt+Mod+N'], label: 'New recipe', inTextFields: true },
  { action: 'open', keys: ['Mod+O'], label: 'Open…', inTextFields: true },
  { action: 'save', keys: ['Mod+S'], label: 'Save', inTextFields: true },
  { action: 'saveAs', keys: ['Shift+Mod+S'], label: 'Save as…', inTextFields: true },
  { action: 'run', keys: ['Mod+Enter'], label: 'Run', inTextFields: true },
  { action: 'runToHere', keys: ['Shift+Mod+Enter'], label: 'Run to selected node', inTextFields: true },
  { action: 'cancel', keys: ['Mod+.'], label: 'Cancel run', inTextFields: true },
  { action: 'quickAdd', keys: ['/'], label: 'Quick add node' },
  { action: 'fitView', keys: ['Shift+1', 'F'], label: 'Fit view' },
  { action: 'toggleMinimap', keys: ['Alt+Shift+M'], label: 'Toggle minimap' },
  { action: 'toggleTheme', keys: ['Alt+Shift+T'], label: 'Dark / light theme' },
  { action: 'help', keys: ['?'], label: 'Keyboard shortcuts' },
];

export interface KeyLike {
  key: string;
  code?: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}

function keyName(e: KeyLike): string {
  if (e.key === ' ') return 'Space';
  if (e.code?.startsWith('Digit')) return e.code.slice(5);
  if (e.code?.startsWith('Key')) return e.code.slice(3);
  return e.key.length === 1 ? e.key.toUpperCase() : e.key;
}

/** Keys whose character already implies Shift (don't require the Shift modifier in the binding). */
const SHIFTED = new Set(['?', '!', '@', '#', '$', '%', '^', '&', '*', '(', ')', '_', '+', '{', '}', '|', ':', '"', '<', '>', '~']);

function comboOf(e: KeyLike, isMac: boolean): string {
  const mod = isMac ? e.metaKey : e.ctrlKey;
  const k = keyName(e);
  const fromCode = !!e.code && (e.code.startsWith('Digit') || e.code.startsWith('Key'));
  const shiftedChar = !fromCode && SHIFTED.has(e.key);
  const parts: string[] = [];
  if (e.shiftKey && !shiftedChar) parts.push('Shift');
  if (e.altKey) parts.push('Alt');
  if (mod) parts.push('Mod');
  if (!isMac && e.metaKey) parts.push('Meta');
  if (isMac && e.ctrlKey) parts.push('Ctrl');
  parts.push(shiftedChar ? e.key : k);
  return parts.join('+');
}

function normalize(binding: string): string {
  const parts = binding.split('+');
  const key = parts.pop()!;
  const order = ['Shift', 'Alt', 'Mod', 'Meta', 'Ctrl'];
  return [...parts.sort((a, b) => order.indexOf(a) - order.indexOf(b)), key.length === 1 ? key.toUpperCase() : key].join('+');
}

const INDEX = new Map<string, Binding>();
for (const b of KEYMAP) for (const k of b.keys) INDEX.set(normalize(k), b);

/** The action a key press triggers, or null. In a text field only bindings marked `inTextFields` fire. */
export function matchShortcut(e: KeyLike, opts: { isMac: boolean; inTextField: boolean }): Action | null {
  const b = INDEX.get(normalize(comboOf(e, opts.isMac)));
  if (!b) return null;
  if (opts.inTextField && !b.inTextFields) return null;
  return b.action;
}

/** "Mod+Z" → "Ctrl+Z" or "⌘Z". */
export function displayKeys(keys: string, isMac: boolean): string {
  if (!isMac) return keys.replace('Mod', 'Ctrl');
  return keys.replace('Shift+', '⇧').replace('Alt+', '⌥').replace('Mod+', '⌘');
}
