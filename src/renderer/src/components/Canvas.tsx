import { Background, BackgroundVariant, Controls, MiniMap, ReactFlow } from '@xyflow/react';
import { useRef } from 'react';
import { categoryColor } from '../editor/catalog';
import type { EditorController, EditorSnapshot } from '../editor/controller';
import type { FlowNode } from '../editor/flow';
import type { Theme } from '../hooks';
import type { CanvasApi, Selection } from './canvas/canvas-contract';
import { ConnectionHint } from './canvas/ConnectionHint';
import { EmptyCanvas } from './canvas/EmptyCanvas';
import { useAddNodeGestures } from './canvas/use-add-node-gestures';
import { useCanvasApi, useFitOnOpen } from './canvas/use-canvas-view';
import { useConnectHandlers } from './canvas/use-connect-handlers';
import { useFlowEdges } from './canvas/use-flow-edges';
import { useFlowNodes } from './canvas/use-flow-nodes';
import { useSelectionChanges } from './canvas/use-selection-changes';
import { GroupFrames } from './GroupFrames';
import { NodeCard } from './NodeCard';

// The canvas's contract with the App and the palette lives apart, so the canvas's own hooks can import it too.
export { DND_MIME, type CanvasApi, type Selection } from './canvas/canvas-contract';

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

/** The node editor: React Flow showing the document, its gestures handed to the controller through hooks. */
export function Canvas({ controller, snap, selection, setSelection, minimap, theme, onReady, onQuickAdd }: Props) {
  const wrapper = useRef<HTMLDivElement>(null);
  const [nodes, setNodes] = useFlowNodes(snap, selection.nodes);
  const edges = useFlowEdges(snap, selection.edges, nodes);
  const { onNodesChange, onEdgesChange, onPaneClick } = useSelectionChanges(selection, setSelection, setNodes);
  const { isValidConnection, onConnect, onConnectEnd, onNodeDragStop } = useConnectHandlers(controller);
  const { onDragOver, onDrop, onDoubleClick } = useAddNodeGestures(controller, setSelection, onQuickAdd);
  useCanvasApi(wrapper, onReady);
  useFitOnOpen(snap);

  return (
    <div className="canvas" ref={wrapper} onDragOver={onDragOver} onDrop={onDrop} onDoubleClick={onDoubleClick} data-testid="canvas">
      <ReactFlow<FlowNode>
        nodes={nodes}
        edges={edges}
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
      {snap.doc.nodes.length === 0 && snap.phase === 'ready' && <EmptyCanvas />}
    </div>
  );
}
