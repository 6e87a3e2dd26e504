import { useReactFlow } from '@xyflow/react';
import { useMemo, useRef } from 'react';
import { edgesHiddenByNodes, type EdgeEnds, type Rect } from '../editor/edge-layers';
import type { FlowEdge, FlowNode } from '../editor/flow';

/** Above the node cards (which sit at z-index 0; a selected card is raised to 1000 and stays on top). */
export const RAISED_EDGE_Z = 1;

/**
 * The edges a node card would hide, from React Flow's measured nodes and handles; the same Set object while the
 * answer does not change, so the edges are not rebuilt on every drag frame.
 */
export function useHiddenEdges(nodes: readonly FlowNode[], edges: readonly FlowEdge[]): ReadonlySet<string> {
  const rf = useReactFlow<FlowNode, FlowEdge>();
  const last = useRef<{ key: string; set: ReadonlySet<string> }>({ key: '', set: new Set() });
  return useMemo(() => {
    const rects = new Map<string, Rect>();
    for (const n of nodes) {
      const i = rf.getInternalNode(n.id);
      if (n.hidden || !i?.measured.width || !i.measured.height) continue;
      rects.set(n.id, { ...i.internals.positionAbsolute, width: i.measured.width, height: i.measured.height });
    }
    const ends: EdgeEnds[] = [];
    for (const e of edges) {
      const s = rf.getInternalNode(e.source);
      const t = rf.getInternalNode(e.target);
      const sh = s?.internals.handleBounds?.source?.find((h) => h.id === e.sourceHandle);
      const th = t?.internals.handleBounds?.target?.find((h) => h.id === e.targetHandle);
      if (!s || !t || !sh || !th) continue;
      const sp = s.internals.positionAbsolute;
      const tp = t.internals.positionAbsolute;
      ends.push({ id: e.id, source: e.source, target: e.target, from: { x: sp.x + sh.x + sh.width, y: sp.y + sh.y + sh.height / 2 }, to: { x: tp.x + th.x, y: tp.y + th.y + th.height / 2 } });
    }
    const set = edgesHiddenByNodes(ends, rects);
    const key = [...set].sort().join(' ');
    if (key !== last.current.key) last.current = { key, set };
    return last.current.set;
  }, [nodes, edges, rf]);
}
