import { useEffect, useRef, useState } from 'react';
import type { Selection } from '../components/Canvas';
import type { Recipe } from '../../../shared';
import { EMPTY_SELECTION } from './action-table';

/** The canvas selection, kept to nodes and edges that exist (after undo, delete, open); `current()` reads it in callbacks. */
export function useSelection(doc: Recipe): { selection: Selection; setSelection: (s: Selection) => void; current: () => Selection } {
  const [selection, setSelection] = useState<Selection>(EMPTY_SELECTION);
  const ref = useRef(selection);
  ref.current = selection;
  useEffect(() => {
    const ids = new Set(doc.nodes.map((n) => n.id));
    const eids = new Set(doc.edges.map((e) => e.id));
    const s = ref.current;
    if (s.nodes.some((n) => !ids.has(n)) || s.edges.some((e) => !eids.has(e))) setSelection({ nodes: s.nodes.filter((n) => ids.has(n)), edges: s.edges.filter((e) => eids.has(e)) });
  }, [doc]);
  const current = useRef(() => ref.current).current;
  return { selection, setSelection, current };
}
