import { useEffect, type ReactNode } from 'react';
import { displayKeys, KEYMAP } from '../editor/shortcuts';
import { isMac } from '../hooks';
import { Icon } from './Icon';

/** A dialog over the window: Escape or a click outside closes it. */
export function Modal({ title, children, onClose, wide, testId }: { title: string; children: ReactNode; onClose: () => void; wide?: boolean; testId?: string }) {
  useEffect(() => {
    const h = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', h);
    return () => window.removeEventListener('keydown', h);
  }, [onClose]);
  return (
    <div className="modal-backdrop" onMouseDown={onClose}>
      <div className={`modal${wide ? ' wide' : ''}`} role="dialog" aria-label={title} onMouseDown={(e) => e.stopPropagation()} data-testid={testId}>
        <header>
          <h3>{title}</h3>
          <button className="icon-btn" onClick={onClose} aria-label="Close">
            <Icon name="close" />
          </button>
        </header>
        {children}
      </div>
    </div>
  );
}

export function ConfirmDiscard({ name, action, onSave, onDiscard, onCancel }: { name: string; action: string; onSave: () => void; onDiscard: () => void; onCancel: () => void }) {
  return (
    <Modal title="Unsaved changes" onClose={onCancel} testId="confirm-discard">
      <p>
        <b>{name}</b> has changes that are not saved. Save them before you {action}?
      </p>
      <footer>
        <button className="btn" onClick={onCancel}>
          Cancel
        </button>
        <button className="btn" onClick={onDiscard} data-testid="discard">
          Don’t save
        </button>
        <button className="btn primary" onClick={onSave} autoFocus>
          Save
        </button>
      </footer>
    </Modal>
  );
}

export function ShortcutsHelp({ onClose }: { onClose: () => void }) {
  return (
    <Modal title="Keyboard shortcuts" onClose={onClose}>
      <div className="modal-body">
        <table className="kv shortcuts">
          <tbody>
            {KEYMAP.map((b) => (
              <tr key={b.action}>
                <th>{b.label}</th>
                <td>
                  {b.keys.map((k) => (
                    <kbd key={k}>{displayKeys(k, isMac)}</kbd>
                  ))}
                </td>
              </tr>
            ))}
            <tr>
              <th>Select several</th>
              <td>
                <kbd>Shift</kbd>-drag a box, or <kbd>{isMac ? '⌘' : 'Ctrl'}</kbd>-click
              </td>
            </tr>
          </tbody>
        </table>
      </div>
    </Modal>
  );
}
