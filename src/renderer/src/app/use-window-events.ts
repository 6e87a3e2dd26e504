/** The window-level inputs of the App: keyboard shortcuts, the shell's menu commands, and leaving with unsaved work. */
import { useEffect } from 'react';
import type { EditorController, EditorSnapshot } from '../editor/controller';
import { matchShortcut } from '../editor/shortcuts';
import { isMac } from '../hooks';
import { parseMenuCommand, type AppCommand } from './commands';

function isTextTarget(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  if (!el) return false;
  return el.isContentEditable || el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT';
}

/** Shortcuts fire unless a modal (dialog, quick add) has the keyboard. */
export function useShortcuts(run: (c: AppCommand) => void, modalOpen: boolean): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (modalOpen) return;
      const a = matchShortcut(e, { isMac, inTextField: isTextTarget(e.target) });
      if (!a) return;
      e.preventDefault();
      run({ name: a });
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [run, modalOpen]);
}

export function useMenuCommands(controller: EditorController, run: (c: AppCommand) => void): void {
  useEffect(
    () =>
      controller.host.onCommand((c) => {
        const command = parseMenuCommand(c);
        if (command) run(command);
      }),
    [controller, run],
  );
}

/** In the web shell, leaving with unsaved changes writes the recovery file and asks the browser to confirm. */
export function useRecoveryOnUnload(controller: EditorController, snapshot: () => EditorSnapshot): void {
  useEffect(() => {
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      const s = snapshot();
      if (!s.dirty || s.host?.shell === 'electron') return;
      void controller.autosave();
      e.preventDefault();
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => window.removeEventListener('beforeunload', onBeforeUnload);
  }, [controller, snapshot]);
}
