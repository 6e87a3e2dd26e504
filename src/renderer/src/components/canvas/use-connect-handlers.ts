import type { FinalConnectionState, IsValidConnection, OnConnect } from '@xyflow/react';
import { useCallback } from 'react';
import { checkConnection } from '../../../../shared';
import { refusalReason } from '../../editor/canvas-model';
import type { EditorController } from '../../editor/controller';
import { connectionFromFlow, positionsOf, type FlowNode } from '../../editor/flow';

/** Connecting and moving cards: the shared connection rule decides, the controller edits the document. */
export function useConnectHandlers(controller: EditorController) {
  // Read from the controller, not a snapshot prop, so the handler stays the same object between edits.
  const isValidConnection: IsValidConnection = useCallback(
    (c) => {
      const conn = connectionFromFlow(c);
      return !!conn && checkConnection(conn, controller.doc, controller.getSnapshot().specs_).ok;
    },
    [controller],
  );

  const onConnect: OnConnect = useCallback(
    (c) => {
      const conn = connectionFromFlow(c);
      if (conn) controller.connect(conn);
    },
    [controller],
  );

  // A drop on a port that does not fit says why, rather than doing nothing.
  const onConnectEnd = useCallback(
    (_e: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (state.isValid !== false || !state.toHandle) return;
      const snap = controller.getSnapshot();
      const reason = refusalReason(snap.doc, snap.specs_, state);
      if (reason) controller.notify('refused', `Connection refused: ${reason}`);
    },
    [controller],
  );

  const onNodeDragStop = useCallback(
    (_e: MouseEvent | TouchEvent, _node: FlowNode, dragged: FlowNode[]) => {
      controller.moveNodes(positionsOf(dragged));
    },
    [controller],
  );

  return { isValidConnection, onConnect, onConnectEnd, onNodeDragStop };
}
