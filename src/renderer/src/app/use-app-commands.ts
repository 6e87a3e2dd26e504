/** Builds the action table's context from the App's hooks and returns the one entry point for every command. */
import { useCallback, useRef, useState, type RefObject } from 'react';
import type { CanvasApi, Selection } from '../components/Canvas';
import type { EditorController } from '../editor/controller';
import type { Theme } from '../hooks';
import { runCommand, type ActionContext } from './action-table';
import type { AppCommand } from './commands';
import { useClipboardActions } from './use-clipboard-actions';
import type { FileActions } from './use-file-actions';

type Point = { x: number; y: number };

export interface ViewToggles {
  minimap: boolean;
  setMinimap(v: boolean): void;
  theme: Theme;
  setTheme(t: Theme): void;
}

export function useAppCommands(
  controller: EditorController,
  sel: { current: () => Selection; setSelection: (s: Selection) => void },
  files: FileActions,
  view: ViewToggles,
  refs: { pointer: RefObject<Point | null>; canvas: RefObject<CanvasApi | null> },
) {
  const [quickAdd, setQuickAdd] = useState<Point | null>(null);
  const [help, setHelp] = useState(false);
  const { copy, paste } = useClipboardActions(controller, sel.current, sel.setSelection, refs.pointer, refs.canvas);
  const ctx: ActionContext = {
    controller,
    selection: sel.current,
    setSelection: sel.setSelection,
    guardDirty: files.guardDirty,
    openFile: files.openFile,
    save: () => files.save(),
    saveAs: () => files.saveAs(),
    copy,
    paste,
    openQuickAdd: () => setQuickAdd(refs.pointer.current ?? { x: window.innerWidth / 2 - 160, y: window.innerHeight / 3 }),
    fitView: () => refs.canvas.current?.fitView(),
    toggleMinimap: () => view.setMinimap(!view.minimap),
    toggleTheme: () => view.setTheme(view.theme === 'dark' ? 'light' : 'dark'),
    showHelp: () => setHelp(true),
  };
  // The latest context behind a stable function: listeners subscribe once, and still see the current state.
  const ctxRef = useRef(ctx);
  ctxRef.current = ctx;
  const run = useCallback((c: AppCommand) => runCommand(ctxRef.current, c), []);
  return { run, quickAdd, setQuickAdd, help, setHelp };
}
