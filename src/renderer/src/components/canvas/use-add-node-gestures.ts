import { useReactFlow } from '@xyflow/react';
import { useCallback, type DragEvent, type MouseEvent as ReactMouseEvent } from 'react';
import type { EditorController } from '../../editor/controller';
import type { FlowNode } from '../../editor/flow';
import { DND_MIME, type Selection } from './canvas-contract';

/** Adding a node from the canvas: a palette item dropped on it, or a double-click on the empty pane (quick add). */
export function useAddNodeGestures(controller: EditorController, setSelection: (s: Selection) => void, onQuickAdd: (screen: { x: number; y: number }) => void) {
  const rf = useReactFlow<FlowNode>();

  // Only drags that carry a node type are accepted (not files or text dragged in from elsewhere).
  const onDragOver = useCallback((e: DragEvent) => {
    if (e.dataTransfer.types.includes(DND_MIME)) {
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    }
  }, []);

  const onDrop = useCallback(
    (e: DragEvent) => {
      const type = e.dataTransfer.getData(DND_MIME);
      if (!type) return;
      e.preventDefault();
      const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      // The card's title bar lands under the pointer.
      const id = controller.addNode(type, { x: p.x - 110, y: p.y - 30 });
      if (id) setSelection({ nodes: [id], edges: [] });
    },
    [controller, rf, setSelection],
  );

  // The pane only: a double-click on a card or an edge is theirs.
  const onDoubleClick = useCallback(
    (e: ReactMouseEvent) => {
      if ((e.target as HTMLElement).classList.contains('react-flow__pane')) onQuickAdd({ x: e.clientX, y: e.clientY });
    },
    [onQuickAdd],
  );

  return { onDragOver, onDrop, onDoubleClick };
}
