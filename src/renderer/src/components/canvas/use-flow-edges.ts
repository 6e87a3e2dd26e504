import { useMemo } from 'react';
import { markRunningEdges, raiseEdges } from '../../editor/canvas-model';
import type { EditorSnapshot } from '../../editor/controller';
import { recipeToFlowEdges, type FlowEdge, type FlowNode } from '../../editor/flow';
import { RAISED_EDGE_Z, useHiddenEdges } from '../use-hidden-edges';

/** React Flow's edges for the document: selected, invalid and running ones styled, those a card would hide raised. */
export function useFlowEdges(snap: EditorSnapshot, selectedEdges: readonly string[], nodes: readonly FlowNode[]): FlowEdge[] {
  const selected = useMemo(() => new Set(selectedEdges), [selectedEdges]);
  const invalid = useMemo(() => new Set(snap.errors.filter((e) => e.edge).map((e) => e.edge!)), [snap.errors]);
  const edges = useMemo(
    () => markRunningEdges(recipeToFlowEdges(snap.doc, snap.specs_, selected, invalid), snap.statuses),
    [snap.doc, snap.specs_, selected, invalid, snap.statuses],
  );
  // Edges that would pass behind a card that is not theirs are drawn above the cards.
  const hidden = useHiddenEdges(nodes, edges);
  return useMemo(() => raiseEdges(edges, hidden, RAISED_EDGE_Z), [edges, hidden]);
}
