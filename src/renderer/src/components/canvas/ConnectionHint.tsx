import { useConnection } from '@xyflow/react';
import { refusalReason } from '../../editor/canvas-model';
import type { EditorSnapshot } from '../../editor/controller';

/** While a connection is dragged over a port that does not fit, say why, next to the pointer. */
export function ConnectionHint({ snap }: { snap: EditorSnapshot }) {
  const c = useConnection();
  if (!c.inProgress || c.isValid !== false || !c.toHandle || !c.fromHandle) return null;
  const reason = refusalReason(snap.doc, snap.specs_, c);
  if (!reason) return null;
  return (
    <div className="connection-hint" style={{ left: c.pointer.x + 14, top: c.pointer.y + 14 }} role="status">
      {reason}
    </div>
  );
}
