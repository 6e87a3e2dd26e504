import { useLayoutEffect, useMemo, useState, type Dispatch, type SetStateAction } from 'react';
import type { EditorSnapshot } from '../../editor/controller';
import { EMPTY_DECORATION, nodeDecorations, recipeToFlowNodes, syncFlowNodes, type FlowNode } from '../../editor/flow';
import { hiddenNodes } from '../../editor/groups';

/**
 * React Flow's nodes for the document: built from the snapshot, then kept in local state so that React Flow's
 * own measurements and drag positions survive between snapshots (syncFlowNodes keeps unchanged nodes as they are).
 */
export function useFlowNodes(snap: EditorSnapshot, selectedNodes: readonly string[]): [FlowNode[], Dispatch<SetStateAction<FlowNode[]>>] {
  const [nodes, setNodes] = useState<FlowNode[]>([]);
  const selected = useMemo(() => new Set(selectedNodes), [selectedNodes]);
  // Only what a card shows: a snapshot that changes nothing on the cards does not rebuild them.
  const decos = useMemo(() => nodeDecorations(snap), [snap.doc, snap.errors, snap.statuses, snap.cardRun, snap.historical, snap.running]);
  const mapped = useMemo(() => {
    const hidden = hiddenNodes(snap.doc);
    return recipeToFlowNodes(snap.doc, snap.specs_, (id) => decos.get(id) ?? EMPTY_DECORATION).map((n) => ({ ...n, selected: selected.has(n.id), hidden: hidden.has(n.id) }));
  }, [snap.doc, snap.specs_, decos, selected]);
  // Before paint, so a card never shows a frame of stale state.
  useLayoutEffect(() => setNodes((prev) => syncFlowNodes(prev, mapped)), [mapped]);
  return [nodes, setNodes];
}
