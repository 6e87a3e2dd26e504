/** The Runs tab's head: how big the artifact store is, and the same clean-up as `loram cache gc`. */
import type { EditorController, EditorSnapshot } from '../editor/controller';
import { describeStore } from '../editor/store-summary';

export function StoreBar({ snap, controller }: { snap: EditorSnapshot; controller: EditorController }) {
  if (!snap.store) return null;
  const d = describeStore(snap.store);
  return (
    <div className="store-bar" data-testid="store-bar">
      <span title={snap.store.dir}>
        Artifact store: <strong data-testid="store-size">{d.size}</strong> · {d.unused} · {d.limits}
      </span>
      {d.damaged && <span className="warn"> · {d.damaged}</span>}
      <button type="button" data-testid="store-clean" disabled={snap.serverDown} title="Remove artifacts no run in the history used (with LORAM_CACHE_MAX_GIB set: the least recently used beyond the cap), never those of the newest or running runs" onClick={() => void controller.cleanStore()}>
        Clean up
      </button>
    </div>
  );
}
