/** The App's modal layer: quick add, the unsaved-changes question, the in-app file dialog, the shortcuts help. */
import { ConfirmDiscard, ShortcutsHelp } from '../components/Dialogs';
import { FileDialog } from '../components/FileDialog';
import { QuickAdd } from '../components/QuickAdd';
import { basename, type EditorController, type EditorSnapshot } from '../editor/controller';
import { suggestedFileName, type FileActions } from './use-file-actions';

type Point = { x: number; y: number };

export interface ModalState {
  quickAdd: Point | null;
  closeQuickAdd(): void;
  /** Add a node of `type` where quick add was opened. */
  addAt(type: string, at: Point): void;
  help: boolean;
  closeHelp(): void;
  /** A file was opened from the in-app dialog. */
  onOpened(): void;
}

export function AppModals({ snap, controller, files, modal }: { snap: EditorSnapshot; controller: EditorController; files: FileActions; modal: ModalState }) {
  const { pending, fileDialog } = files;
  const docName = snap.filePath ? basename(snap.filePath) : snap.doc.name || 'untitled';
  const settle = (then: (p: NonNullable<typeof pending>) => void) => () => {
    if (!pending) return;
    files.setPending(null);
    then(pending);
  };
  return (
    <>
      {modal.quickAdd && <QuickAdd specs={snap.specs} at={modal.quickAdd} onClose={modal.closeQuickAdd} onPick={(type) => modal.addAt(type, modal.quickAdd!)} />}
      {pending && <ConfirmDiscard name={docName} action={pending.action} onCancel={() => files.setPending(null)} onDiscard={settle((p) => p.proceed())} onSave={settle((p) => void files.save(p.proceed))} />}
      {fileDialog && snap.host && (
        <FileDialog
          host={controller.host}
          mode={fileDialog.mode}
          startDir={snap.filePath ? snap.filePath.replace(/[\\/][^\\/]*$/, '') : snap.host.defaultDir}
          suggestedName={fileDialog.mode === 'save' ? (snap.filePath ? basename(snap.filePath) : suggestedFileName(snap.doc)) : ''}
          recent={snap.recent}
          onClose={files.closeDialog}
          onPick={(path) => {
            const opening = fileDialog.mode === 'open';
            void files.pickPath(path).then((ok) => ok && opening && modal.onOpened());
          }}
        />
      )}
      {modal.help && <ShortcutsHelp onClose={modal.closeHelp} />}
    </>
  );
}
