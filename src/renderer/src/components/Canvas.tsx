import {
  Background,
  BackgroundVariant,
  Controls,
  MiniMap,
  ReactFlow,
  applyNodeChanges,
  useConnection,
  useReactFlow,
  type EdgeChange,
  type FinalConnectionState,
  type IsValidConnection,
  type NodeChange,
  type OnConnect,
} from '@xyflow/react';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type DragEvent, type MouseEvent as ReactMouseEvent } from 'react';
import { checkConnection, type Connection } from '../../../shared';
import { categoryColor } from '../editor/catalog';
import type { EditorController, EditorSnapshot } from '../editor/controller';
import { connectionFromFlow, EMPTY_DECORATION, nodeDecorations, positionsOf, recipeToFlowEdges, recipeToFlowNodes, syncFlowNodes, type FlowNode } from '../editor/flow';
import type { Theme } from '../hooks';
import { hiddenNodes } from '../editor/groups';
import { GroupFrames } from './GroupFrames';
import { NodeCard } from './NodeCard';
import { RAISED_EDGE_Z, useHiddenEdges } from './use-hidden-edges';

export const DND_MIME = 'application/x-loram-node';

export interface Selection {
  nodes: string[];
  edges: string[];
}

export interface CanvasApi {
  fitView(): void;
  /** Flow coordinates of a screen point (default: the centre of the canvas). */
  flowPoint(screen?: { x: number; y: number }): { x: number; y: number };
  /** Is this screen point over the canvas? */
  contains(screen: { x: number; y: number }): boolean;
}

const nodeTypes = { loram: NodeCard };

interface Props {
  controller: EditorController;
  snap: EditorSnapshot;
  selection: Selection;
  setSelection: (s: Selection) => void;
  minimap: boolean;
  theme: Theme;
  onReady: (api: CanvasApi) => void;
  onQuickAdd: (screen: { x: number; y: number }) => void;
}


/** While a connection is dragged over a port that does not fit, say why, next to the pointer. */
function ConnectionHint({ snap }: { snap: EditorSnapshot }) {
  const c = useConnection();
  if (!c.inProgress || c.isValid !== false || !c.toHandle || !c.fromHandle) return null;
  const reason = refusalReason(snap, c);
  if (!reason) return null;
  return (
    <div className="connection-hint" style={{ left: c.pointer.x + 14, top: c.pointer.y + 14 }} role="status">
      {reason}
    </div>
  );
}

function refusalReason(snap: EditorSnapshot, c: Pick<FinalConnectionState, 'fromHandle' | 'toHandle' | 'fromNode'>): string | null {
  const from = c.fromHandle;
  const to = c.toHandle;
  if (!from || !to || !c.fromNode) return null;
  if (from.type === to.type) return from.type === 'source' ? 'connect an output (right side) to an input (left side)' : 'connect an input to an output';
  const conn: Connection =
    from.type === 'source'
      ? { from: { node: c.fromNode.id, port: from.id ?? '' }, to: { node: to.nodeId, port: to.id ?? '' } }
      : { from: { node: to.nodeId, port: to.id ?? '' }, to: { node: c.fromNode.id, port: from.id ?? '' } };
  const r = checkConnection(conn, snap.doc, snap.specs_);
  return r.ok ? null : r.reason;
}

export function Canvas({ controller, snap, selection, setSelection, minimap, theme, onReady, onQuickAdd }: Props) {
  const rf = useReactFlow<FlowNode>();
  const wrapper = useRef<HTMLDivElement>(null);
  const [nodes, setNodes] = useState<FlowNode[]>([]);
  const selNodes = useMemo(() => new Set(selection.nodes), [selection.nodes]);
  const selEdges = useMemo(() => new Set(selection.edges), [selection.edges]);
  const decos = useMemo(() => nodeDecorations(snap), [snap.doc, snap.errors, snap.statuses, snap.cardRun, snap.historical, snap.running]);

  const mapped = useMemo(
    () => {
      const hidden = hiddenNodes(snap.doc);
      return recipeToFlowNodes(snap.doc, snap.specs_, (id) => decos.get(id) ?? EMPTY_DECORATION).map((n) => ({ ...n, selected: selNodes.has(n.id), hidden: hidden.has(n.id) }));
    },
    [snap.doc, snap.specs_, decos, selNodes],
  );
  useLayoutEffect(() => setNodes((prev) => syncFlowNodes(prev, mapped)), [mapped]);

  const invalidEdges = useMemo(() => new Set(snap.errors.filter((e) => e.edge).map((e) => e.edge!)), [snap.errors]);
  const edges = useMemo(() => {
    const running = new Set(Object.entries(snap.statuses).filter(([, s]) => s === 'running').map(([id]) => id));
    // A static running style, not React Flow's `animated` (a dash animation repaints the edge layer every frame:
    // seconds of CPU per run taken from the engine on a small machine).
    return recipeToFlowEdges(snap.doc, snap.specs_, selEdges, invalidEdges).map((e) => (running.has(e.target) ? { ...e, className: `${e.className ?? ''} edge-running`.trim() } : e));
  }, [snap.doc, snap.specs_, selEdges, invalidEdges, snap.statuses]);

  // Edges that would pass behind a card that is not theirs are drawn above the cards.
  const hiddenEdges = useHiddenEdges(nodes, edges);
  const shownEdges = useMemo(() => (hiddenEdges.size ? edges.map((e) => (hiddenEdges.has(e.id) ? { ...e, zIndex: RAISED_EDGE_Z } : e)) : edges), [edges, hiddenEdges]);

  const selectionRef = useRef(selection);
  selectionRef.current = selection;

  const onNodesChange = useCallback(
    (changes: NodeChange<FlowNode>[]) => {
      const visual = changes.filter((c) => c.type === 'dimensions' || c.type === 'position');
      if (visual.length) setNodes((prev) => applyNodeChanges(visual, prev));
      const sel = changes.filter((c): c is Extract<NodeChange<FlowNode>, { type: 'select' }> => c.type === 'select');
      if (sel.length) {
        const s = new Set(selectionRef.current.nodes);
        for (const c of sel) c.selected ? s.add(c.id) : s.delete(c.id);
        setSelection({ ...selectionRef.current, nodes: [...s] });
      }
    },
    [setSelection],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange[]) => {
      const sel = changes.filter((c): c is Extract<EdgeChange, { type: 'select' }> => c.type === 'select');
      if (!sel.length) return;
      const s = new Set(selectionRef.current.edges);
      for (const c of sel) c.selected ? s.add(c.id) : s.delete(c.id);
      setSelection({ ...selectionRef.current, edges: [...s] });
    },
    [setSelection],
  );

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

  const onConnectEnd = useCallback(
    (_e: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (state.isValid !== false || !state.toHandle) return;
      const reason = refusalReason(controller.getSnapshot(), state);
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

  const flowPoint = useCallback(
    (screen?: { x: number; y: number }) => {
      let p = screen;
      if (!p) {
        const r = wrapper.current?.getBoundingClientRect();
        p = r ? { x: r.left + r.width / 2, y: r.top + r.height / 2 } : { x: 0, y: 0 };
      }
      return rf.screenToFlowPosition(p);
    },
    [rf],
  );

  useEffect(() => {
    const contains = (p: { x: number; y: number }) => {
      const r = wrapper.current?.getBoundingClientRect();
      return !!r && p.x >= r.left && p.x <= r.right && p.y >= r.top && p.y <= r.bottom;
    };
    onReady({ fitView: () => void rf.fitView({ padding: 0.06, duration: 200 }), flowPoint, contains });
  }, [onReady, rf, flowPoint]);

  // Fit the view when a document is opened (not on every edit).
  const lastFile = useRef<string | null | undefined>(undefined);
  const lastCount = useRef(0);
  useEffect(() => {
    const opened = lastFile.current !== snap.filePath || (lastCount.current === 0 && snap.doc.nodes.length > 1);
    lastFile.current = snap.filePath;
    lastCount.current = snap.doc.nodes.length;
    if (opened && snap.doc.nodes.length) requestAnimationFrame(() => void rf.fitView({ padding: 0.06, maxZoom: 1 }));
  }, [snap.filePath, snap.doc.nodes.length, rf]);

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
      const id = controller.addNode(type, { x: p.x - 110, y: p.y - 30 });
      if (id) setSelection({ nodes: [id], edges: [] });
    },
    [controller, rf, setSelection],
  );

  const onDoubleClick = useCallback(
    (e: ReactMouseEvent) => {
      if ((e.target as HTMLElement).classList.contains('react-flow__pane')) onQuickAdd({ x: e.clientX, y: e.clientY });
    },
    [onQuickAdd],
  );

  const onPaneClick = useCallback(() => {
    if (selectionRef.current.nodes.length || selectionRef.current.edges.length) setSelection({ nodes: [], edges: [] });
  }, [setSelection]);

  return (
    <div className="canvas" ref={wrapper} onDragOver={onDragOver} onDrop={onDrop} onDoubleClick={onDoubleClick} data-testid="canvas">
      <ReactFlow<FlowNode>
        nodes={nodes}
        edges={shownEdges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onConnectEnd={onConnectEnd}
        isValidConnection={isValidConnection}
        onNodeDragStop={onNodeDragStop}
        onPaneClick={onPaneClick}
        deleteKeyCode={null}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={['Meta', 'Control']}
        zoomOnDoubleClick={false}
        colorMode={theme}
        minZoom={0.15}
        maxZoom={2.5}
        snapToGrid
        snapGrid={[10, 10]}
        connectionRadius={28}
        defaultEdgeOptions={{ interactionWidth: 16 }}
        attributionPosition="bottom-left"
      >
        <Background variant={BackgroundVariant.Dots} gap={20} size={1.2} />
        <Controls showInteractive={false} position="bottom-right" style={{ right: minimap ? 186 : 12 }} />
        {minimap && (
          <MiniMap pannable zoomable position="bottom-right" style={{ width: 160, height: 108 }} nodeColor={(n) => categoryColor((n as FlowNode).data.spec?.category ?? '')} nodeStrokeWidth={2} />
        )}
        <ConnectionHint snap={snap} />
        <GroupFrames controller={controller} snap={snap} nodes={nodes} setNodes={setNodes} />
      </ReactFlow>
      {snap.doc.nodes.length === 0 && snap.phase === 'ready' && (
        <div className="canvas-empty">
          <h2>An empty recipe</h2>
          <p>
            Drag a node from the palette, or double-click the canvas (or press <kbd>/</kbd>) to search for one.
          </p>
          <p className="muted">A LoRAM recipe: Load model → Prune → LoRA train → Recover → Evaluate.</p>
        </div>
      )}
    </div>
  );
}
