import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { DirListing, HostApi } from '../../../shared/shell-contract';
import { displayKeys, KEYMAP } from '../editor/shortcuts';
import { isMac } from '../hooks';
import { Icon } from './Icon';

function Modal({ title, children, onClose, wide, testId }: { title: string; children: ReactNode; onClose: () => void; wide?: boolean; testId?: string }) {
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

/** The web shell's file dialog: browse folders on the machine running `loram serve`, or type a path. */
export function FileDialog({
  host,
  mode,
  startDir,
  suggestedName,
  recent,
  onPick,
  onClose,
}: {
  host: HostApi;
  mode: 'open' | 'save';
  startDir: string;
  suggestedName?: string;
  recent: string[];
  onPick: (path: string) => void;
  onClose: () => void;
}) {
  const [listing, setListing] = useState<DirListing | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState(suggestedName ?? '');
  const [dirInput, setDirInput] = useState(startDir);
  const nameRef = useRef<HTMLInputElement>(null);
  const load = (dir: string) => {
    host
      .listDir(dir)
      .then((l) => {
        setListing(l);
        setDirInput(l.path);
        setError(null);
      })
      .catch((e: Error) => setError(e.message));
  };
  useEffect(() => load(startDir), []); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => {
    if (mode === 'save') nameRef.current?.select();
  }, [mode]);
  const sep = listing?.path.includes('\\') && !listing.path.includes('/') ? '\\' : '/';
  const join = (d: string, n: string) => (d.endsWith(sep) ? d + n : d + sep + n);
  const submit = () => {
    const n = name.trim();
    if (!n) return;
    const full = /^([A-Za-z]:)?[\\/]/.test(n) ? n : join(listing?.path ?? startDir, n);
    onPick(mode === 'save' && !/\.json$/i.test(full) ? `${full}.json` : full);
  };
  return (
    <Modal title={mode === 'open' ? 'Open recipe' : 'Save recipe as'} onClose={onClose} wide testId="file-dialog">
      <div className="file-dialog">
        <div className="file-path-row">
          <button className="icon-btn" title="Parent folder" disabled={!listing?.parent} onClick={() => listing?.parent && load(listing.parent)}>
            <Icon name="up" />
          </button>
          <input value={dirInput} onChange={(e) => setDirInput(e.target.value)} onKeyDown={(e) => e.key === 'Enter' && load(dirInput)} aria-label="Folder" />
        </div>
        {error && <div className="field-error">{error}</div>}
        <div className="file-columns">
          <ul className="file-list" data-testid="file-list">
            {listing?.entries.map((e) => (
              <li
                key={e.path}
                className={e.kind}
                onClick={() => (e.kind === 'dir' ? load(e.path) : setName(e.name))}
                onDoubleClick={() => e.kind === 'file' && onPick(e.path)}
              >
                <Icon name={e.kind === 'dir' ? 'folder' : 'file'} size={14} />
                <span>{e.name}</span>
                {e.mtime && <span className="muted small">{new Date(e.mtime).toLocaleString()}</span>}
              </li>
            ))}
            {listing && listing.entries.length === 0 && <li className="muted">No folders or .json files here.</li>}
          </ul>
          {mode === 'open' && recent.length > 0 && (
            <div className="recent">
              <div className="section-title">Recent</div>
              <ul>
                {recent.map((r) => (
                  <li key={r} onClick={() => onPick(r)} title={r}>
                    {r.split(/[\\/]/).pop()}
                    <span className="muted small">{r}</span>
                  </li>
                ))}
              </ul>
            </div>
          )}
        </div>
        <div className="file-name-row">
          <label htmlFor="file-name">File</label>
          <input
            id="file-name"
            ref={nameRef}
            value={name}
            placeholder={mode === 'save' ? 'my-recipe.json' : 'choose a file, or type a path'}
            onChange={(e) => setName(e.target.value)}
            onKeyDown={(e) => e.key === 'Enter' && submit()}
            data-testid="file-name"
            autoFocus
          />
        </div>
      </div>
      <footer>
        <button className="btn" onClick={onClose}>
          Cancel
        </button>
        <button className="btn primary" onClick={submit} disabled={!name.trim()} data-testid="file-ok">
          {mode === 'open' ? 'Open' : 'Save'}
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
