import type { RecoveryData } from '../../../shared/shell-contract';
import { basename } from '../editor/controller';
import { Icon } from './Icon';

/** Unsaved work found in the recovery file at start: restore it or drop it. */
export function RecoveryBanner({ recovery, onRestore, onDiscard }: { recovery: RecoveryData; onRestore: () => void; onDiscard: () => void }) {
  return (
    <div className="banner" data-testid="recovery-banner">
      <Icon name="history" size={16} />
      <span>
        Unsaved work from {new Date(recovery.savedAt).toLocaleString()}
        {recovery.path ? ` (${basename(recovery.path)})` : ''} was kept in the recovery file.
      </span>
      <button className="btn small primary" onClick={onRestore}>
        Restore
      </button>
      <button className="btn small" onClick={onDiscard}>
        Discard
      </button>
    </div>
  );
}
