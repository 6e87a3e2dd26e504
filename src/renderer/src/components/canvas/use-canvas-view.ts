import { useReactFlow } from '@xyflow/react';
import { useCallback, useEffect, useRef, type RefObject } from 'react';
import { boxCentre, boxContains, documentOpened, type ViewedDocument } from '../../editor/canvas-model';
import type { EditorSnapshot } from '../../editor/controller';
import type { FlowNode } from '../../editor/flow';
import type { CanvasApi } from './canvas-contract';

/** Hands the App its view of the canvas (fit, screen → flow coordinates, hit test) once React Flow is ready. */
export function useCanvasApi(wrapper: RefObject<HTMLDivElement | null>, onReady: (api: CanvasApi) => void): void {
  const rf = useReactFlow<FlowNode>();
  const flowPoint = useCallback(
    (screen?: { x: number; y: number }) => rf.screenToFlowPosition(screen ?? boxCentre(wrapper.current?.getBoundingClientRect())),
    [rf, wrapper],
  );
  useEffect(() => {
    const contains = (p: { x: number; y: number }) => boxContains(wrapper.current?.getBoundingClientRect(), p);
    onReady({ fitView: () => void rf.fitView({ padding: 0.06, duration: 200 }), flowPoint, contains });
  }, [onReady, rf, flowPoint, wrapper]);
}

/** Fits the view when a document is opened (not on every edit). */
export function useFitOnOpen(snap: EditorSnapshot): void {
  const rf = useReactFlow<FlowNode>();
  const last = useRef<ViewedDocument>({ filePath: undefined, nodeCount: 0 });
  useEffect(() => {
    const now = { filePath: snap.filePath, nodeCount: snap.doc.nodes.length };
    const opened = documentOpened(last.current, now);
    last.current = now;
    // After React Flow has measured the new cards, or the fit would use stale sizes.
    if (opened) requestAnimationFrame(() => void rf.fitView({ padding: 0.06, maxZoom: 1 }));
  }, [snap.filePath, snap.doc.nodes.length, rf]);
}
