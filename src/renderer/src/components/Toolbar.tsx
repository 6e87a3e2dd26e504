import type { EditorSnapshot } from '../editor/controller';
import { basename } from '../editor/controller';
import type { Action } from '../editor/shortcuts';
import { displayKeys, KEYMAP } from '../editor/shortcuts';
import { isMac, type Theme } from '../hooks';
import { Icon } from './Icon';
import type { RunTarget } from '../editor/run-target';
import { RunTargetPicker } from './RunTargetPicker';

function keys(action: Action): string {
  const b = KEYMAP.find((k) => k.action === action);
  return b ? ` (${displayKeys(b.keys[0]!, isMac)})` : '';
}

function Btn({ icon, label, action, onAction, disabled, primary, danger, testId, title }: { icon: string; label?: string; action: Action; onAction: (a: Action) => void; disabled?: boolean; primary?: boolean; danger?: boolean; testId?: string; title?: string }) {
  return (
    <button
      className={`btn${primary ? ' primary' : ''}${danger ? ' danger' : ''}${label ? '' : ' icon-only'}`}
      onClick={() => onAction(action)}
      disabled={disabled}
      title={(title ?? KEYMAP.find((k) => k.action === action)?.label ?? action) + keys(action)}
      data-testid={testId ?? `btn-${action}`}
    >
      <Icon name={icon} />
      {label && <span>{label}</span>}
    </button>
  );
}

export function Toolbar({ snap, onAction, onRunTarget, theme, selectedOne }: { snap: EditorSnapshot; onAction: (a: Action) => void; onRunTarget: (t: RunTarget) => void; theme: Theme; selectedOne: string | null }) {
  const name = snap.filePath ? basename(snap.filePath) : `${snap.doc.name || 'untitled'} (unsaved)`;
  const run = snap.run;
  const planned = run.plan.length;
  const finished = Object.values(run.nodes).filter((n) => n.status === 'done' || n.status === 'cached').length;
  const running = snap.running && run.status === 'running';
  return (
    <header className="toolbar">
      <div className="brand">
        <span className="logo" aria-hidden="true" />
        <span>LoRAM Studio</span>
      </div>
      <div className="file-name" title={snap.filePath ?? 'not saved yet'} data-testid="file-title">
        {snap.dirty && <span className="dirty" title="unsaved changes" data-testid="dirty-marker">●</span>}
        {name}
      </div>
      <div className="tool-group">
        <Btn icon="new" action="new" onAction={onAction} title="New recipe" />
        <Btn icon="open" action="open" onAction={onAction} title="Open…" />
        <Btn icon="save" action="save" onAction={onAction} title="Save" />
        <button className="btn small-text" onClick={() => onAction('saveAs')} title={`Save as…${keys('saveAs')}`} data-testid="btn-saveAs">
          Save as…
        </button>
      </div>
      <div className="tool-group">
        <Btn icon="undo" action="undo" onAction={onAction} disabled={!snap.canUndo} title={snap.undoLabel ? `Undo ${snap.undoLabel}` : 'Undo'} />
        <Btn icon="redo" action="redo" onAction={onAction} disabled={!snap.canRedo} title={snap.redoLabel ? `Redo ${snap.redoLabel}` : 'Redo'} />
        <button className="btn small-text" onClick={() => onAction('group')} title={`Group the selected nodes${keys('group')}`} data-testid="btn-group">
          Group
        </button>
      </div>
      <div className="tool-group run-group">
        <RunTargetPicker workers={snap.workers} target={snap.runTarget} disabled={running} onChange={onRunTarget} />
        <Btn icon="run" label="Run" action="run" onAction={onAction} primary disabled={running || snap.doc.nodes.length === 0} />
        <Btn icon="runTo" label="Run to here" action="runToHere" onAction={onAction} disabled={running || !selectedOne} title={selectedOne ? `Run what ${selectedOne} needs, and ${selectedOne}` : 'Select one node to run up to it'} />
        <Btn icon="stop" label="Cancel" action="cancel" onAction={onAction} danger disabled={!running} />
        {run.runId && !snap.historical && (
          <span className={`run-pill ${run.status ?? ''}`} data-testid="run-status">
            {running ? (
              <>
                <span className="spinner" /> running · {finished}/{planned}
              </>
            ) : (
              run.status
            )}
          </span>
        )}
      </div>
      <div className="spacer" />
      <div className="tool-group">
        {snap.errors.length > 0 && (
          <span className="problem-pill" title="Problems found by validation">
            <Icon name="warn" size={14} /> {snap.errors.length}
          </span>
        )}
        <span className="shell-pill" title={snap.host ? `${snap.host.shell} shell · ${snap.host.platform}` : ''}>
          {snap.host?.shell === 'electron' ? 'desktop' : 'web'}
        </span>
        <Btn icon={theme === 'dark' ? 'sun' : 'moon'} action="toggleTheme" onAction={onAction} title={theme === 'dark' ? 'Light theme' : 'Dark theme'} />
        <Btn icon="help" action="help" onAction={onAction} title="Keyboard shortcuts" />
      </div>
    </header>
  );
}
