import { useEffect, useRef, useState } from 'react';
import type { DirListing, HostApi } from '../../../shared/shell-contract';
import { baseName, pickedPath } from '../editor/file-paths';
import { Modal } from './Dialogs';
import { useDirListing } from './file-dialog/use-dir-listing';
import { Icon } from './Icon';

/** The parent-folder button and the folder box (Enter lists what was typed). */
function FolderRow({ listing, dirInput, setDirInput, load }: Pick<ReturnType<typeof useDirListing>, 'listing' | 'dirInput' | 'setDirInput' | 'load'>) {
  return (
    <div className="file-path-row">
      <button className="icon-btn" title="Parent folder" disabled={!listing?.parent} onClick={() => listing?.parent && load(listing.parent)}>
        <Icon name="up" />
      </button>
      <input value={dirInput} onChange={(e) => setDirInput(e.target.value)} onKeyDown={(e) => e.key === 'Enter' && load(dirInput)} aria-label="Folder" />
    </div>
  );
}

/** The folder's entries: a click opens a folder or fills the name box, a double-click on a file picks it. */
function FileList({ listing, load, setName, onPick }: { listing: DirListing | null; load: (dir: string) => void; setName: (n: string) => void; onPick: (path: string) => void }) {
  return (
    <ul className="file-list" data-testid="file-list">
      {listing?.entries.map((e) => (
        <li key={e.path} className={e.kind} onClick={() => (e.kind === 'dir' ? load(e.path) : setName(e.name))} onDoubleClick={() => e.kind === 'file' && onPick(e.path)}>
          <Icon name={e.kind === 'dir' ? 'folder' : 'file'} size={14} />
          <span>{e.name}</span>
          {e.mtime && <span className="muted small">{new Date(e.mtime).toLocaleString()}</span>}
        </li>
      ))}
      {listing && listing.entries.length === 0 && <li className="muted">No folders or .json files here.</li>}
    </ul>
  );
}

function RecentFiles({ recent, onPick }: { recent: string[]; onPick: (path: string) => void }) {
  return (
    <div className="recent">
      <div className="section-title">Recent</div>
      <ul>
        {recent.map((r) => (
          <li key={r} onClick={() => onPick(r)} title={r}>
            {baseName(r)}
            <span className="muted small">{r}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

interface FileDialogProps {
  host: HostApi;
  mode: 'open' | 'save';
  startDir: string;
  suggestedName?: string;
  recent: string[];
  onPick: (path: string) => void;
  onClose: () => void;
}

/** The web shell's file dialog: browse folders on the machine running `loram serve`, or type a path. */
export function FileDialog({ host, mode, startDir, suggestedName, recent, onPick, onClose }: FileDialogProps) {
  const dir = useDirListing(host, startDir);
  const [name, setName] = useState(suggestedName ?? '');
  const nameRef = useRef<HTMLInputElement>(null);
  // Saving: the suggested name is selected, so typing replaces it.
  useEffect(() => {
    if (mode === 'save') nameRef.current?.select();
  }, [mode]);
  const submit = () => {
    const path = pickedPath(name, dir.listing?.path ?? startDir, mode);
    if (path) onPick(path);
  };
  return (
    <Modal title={mode === 'open' ? 'Open recipe' : 'Save recipe as'} onClose={onClose} wide testId="file-dialog">
      <div className="file-dialog">
        <FolderRow {...dir} />
        {dir.error && <div className="field-error">{dir.error}</div>}
        <div className="file-columns">
          <FileList listing={dir.listing} load={dir.load} setName={setName} onPick={onPick} />
          {mode === 'open' && recent.length > 0 && <RecentFiles recent={recent} onPick={onPick} />}
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
