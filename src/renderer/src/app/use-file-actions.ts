/**
 * Open, Save and Save as with their dialogs (the shell's native ones under Electron, the in-app one in the web
 * shell), and the "unsaved changes" question before an action would drop the document.
 */
import { useCallback, useRef, useState } from 'react';
import type { EditorController, EditorSnapshot } from '../editor/controller';

export type PendingDiscard = { action: string; proceed: () => void } | null;
export type FileDialogState = { mode: 'open' | 'save' } | null;

export interface FileActions {
  pending: PendingDiscard;
  setPending(p: PendingDiscard): void;
  fileDialog: FileDialogState;
  guardDirty(action: string, proceed: () => void): void;
  save(then?: () => void): Promise<void>;
  saveAs(then?: () => void): Promise<void>;
  openFile(): Promise<void>;
  /** The in-app dialog closed without a pick. */
  closeDialog(): void;
  /** The in-app dialog picked `path`; resolves true when the file was opened or saved. */
  pickPath(path: string): Promise<boolean>;
}

/** A file name for a recipe that has none yet. */
export function suggestedFileName(doc: { name: string }): string {
  return `${(doc.name || 'recipe').replace(/[^\w.-]+/g, '-')}.json`;
}

export function useFileActions(controller: EditorController, snapshot: () => EditorSnapshot): FileActions {
  const [pending, setPending] = useState<PendingDiscard>(null);
  const [fileDialog, setFileDialog] = useState<FileDialogState>(null);
  const afterSave = useRef<(() => void) | null>(null);

  const guardDirty = useCallback(
    (action: string, proceed: () => void) => (snapshot().dirty ? setPending({ action, proceed }) : proceed()),
    [snapshot],
  );

  const saveAs = useCallback(
    async (then?: () => void) => {
      const s = snapshot();
      if (s.host?.shell === 'electron') {
        const p = await controller.host.saveDialog({ defaultPath: s.filePath ?? `${s.host.defaultDir}${s.host.sep}${suggestedFileName(s.doc)}` });
        if (p && (await controller.saveAs(p))) then?.();
        return;
      }
      afterSave.current = then ?? null;
      setFileDialog({ mode: 'save' });
    },
    [controller, snapshot],
  );

  const save = useCallback(
    async (then?: () => void) => {
      if (!snapshot().filePath) return saveAs(then);
      if (await controller.save()) then?.();
    },
    [controller, saveAs, snapshot],
  );

  const openFile = useCallback(async () => {
    const s = snapshot();
    if (s.host?.shell !== 'electron') return setFileDialog({ mode: 'open' });
    const p = await controller.host.openDialog({ defaultPath: s.filePath ?? s.host.defaultDir });
    if (p) await controller.open(p);
  }, [controller, snapshot]);

  const closeDialog = useCallback(() => {
    afterSave.current = null;
    setFileDialog(null);
  }, []);

  const pickPath = useCallback(
    async (path: string) => {
      const mode = fileDialog?.mode;
      const then = afterSave.current;
      closeDialog();
      if (mode === 'open') return controller.open(path);
      const ok = await controller.saveAs(path);
      if (ok) then?.();
      return ok;
    },
    [controller, fileDialog, closeDialog],
  );

  return { pending, setPending, fileDialog, guardDirty, save, saveAs, openFile, closeDialog, pickPath };
}
