import type { EditorSnapshot } from '../editor/controller';
import { Icon } from './Icon';

/** Where the unsaved work is while the server is away: nowhere to worry about, the recovery file, or only this tab. */
function unsavedWorkText(snap: EditorSnapshot): string {
  if (!snap.dirty) return 'This recipe has no unsaved changes.';
  if (snap.keptInRecovery === snap.doc) return 'Your unsaved changes were kept in the recovery file: LoRAM Studio offers to restore them when it opens again.';
  return 'Your latest changes are only in this tab: keep it open, and Save once the server is back.';
}

/** The web shell's server went away: say so plainly, how to start it again, and what happened to unsaved work. */
export function ServerDownBanner({ snap }: { snap: EditorSnapshot }) {
  return (
    <div className="banner danger" role="alert" data-testid="server-down-banner">
      <Icon name="warn" size={16} />
      <span>
        <strong>The LoRAM Studio server stopped</strong>, so nothing can run, open or save. Start it again in the project folder with <code>npx loram serve</code> (or <code>npm start</code>) and open the address it prints. {unsavedWorkText(snap)}
      </span>
    </div>
  );
}
