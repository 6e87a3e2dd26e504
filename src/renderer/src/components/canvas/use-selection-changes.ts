import { applyNodeChanges, type EdgeChange, type NodeChange } from '@xyflow/react';
import { useCallback, useRef, type Dispatch, type SetStateAction } from 'react';
import { applySelectChanges } from '../../editor/canvas-model';
import type { FlowNode } from '../../editor/flow';
import type { Selection } from './canvas-contract';

type NodeSelect = Extract<NodeChange<FlowNode>, { type: 'select' }>;
type EdgeSelect = Extract<EdgeChange, { type: 'select' }>;

/**
 * React Flow's change lists split by owner: sizes and drag positions stay in the canvas's node state (the
 * document takes positions on drag stop), selection goes to the App.
 */
export function useSelectionChanges(selection: Selection, setSelection: (s: Selection) => void, setNodes: Dispatch<SetStateAction<FlowNode[]>>) {
  // The handlers read the latest selection without being rebuilt on every selection change (React Flow re-binds them).
  const current = useRef(selection);
  current.current = selection;

  const onNodesChange = useCallback(
    (changes: NodeChange<FlowNode>[]) => {
      const visual = changes.filter((c) => c.type === 'dimensions' || c.type === 'position');
      if (visual.length) setNodes((prev) => applyNodeChanges(visual, prev));
      const sel = changes.filter((c): c is NodeSelect => c.type === 'select');
      if (sel.length) setSelection({ ...current.current, nodes: applySelectChanges(current.current.nodes, sel) });
    },
    [setSelection, setNodes],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange[]) => {
      const sel = changes.filter((c): c is EdgeSelect => c.type === 'select');
      if (sel.length) setSelection({ ...current.current, edges: applySelectChanges(current.current.edges, sel) });
    },
    [setSelection],
  );

  const onPaneClick = useCallback(() => {
    if (current.current.nodes.length || current.current.edges.length) setSelection({ nodes: [], edges: [] });
  }, [setSelection]);

  return { onNodesChange, onEdgesChange, onPaneClick };
}
