/**
 * Group frames on the canvas: a titled, coloured box around each group's nodes, drawn in the flow's coordinates.
 * Drag the header to move the whole group (one undo step); rename, recolour, collapse or ungroup from the header.
 */
import { useReactFlow, useStore, ViewportPortal } from '@xyflow/react';
import { useRef, type Dispatch, type PointerEvent as ReactPointerEvent, type SetStateAction } from 'react';
import type { EditorController, EditorSnapshot } from '../editor/controller';
import { positionsOf, type FlowNode } from '../editor/flow';
import { groupFrames, type Frame } from '../editor/groups';

interface Props {
  controller: EditorController;
  snap: EditorSnapshot;
  nodes: FlowNode[];
  setNodes: Dispatch<SetStateAction<FlowNode[]>>;
}

function useGroupDrag(controller: EditorController, setNodes: Props['setNodes']) {
  const rf = useReactFlow<FlowNode>();
  const drag = useRef<{ x: number; y: number; members: Set<string>; start: Map<string, { x: number; y: number }> } | null>(null);
  const onDown = (e: ReactPointerEvent, frame: Frame) => {
    if ((e.target as HTMLElement).closest('button, input')) return;
    const start = new Map(rf.getNodes().filter((n) => frame.members.includes(n.id)).map((n) => [n.id, { ...n.position }]));
    drag.current = { x: e.clientX, y: e.clientY, members: new Set(frame.members), start };
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
  };
  const moved = (e: ReactPointerEvent) => {
    const d = drag.current!;
    const z = rf.getZoom();
    const dx = Math.round((e.clientX - d.x) / z / 10) * 10;
    const dy = Math.round((e.clientY - d.y) / z / 10) * 10;
    return new Map([...d.start].map(([id, p]) => [id, { x: p.x + dx, y: p.y + dy }]));
  };
  const onMove = (e: ReactPointerEvent) => {
    if (!drag.current) return;
    const pos = moved(e);
    setNodes((prev) => prev.map((n) => (pos.has(n.id) ? { ...n, position: pos.get(n.id)! } : n)));
  };
  const onUp = (e: ReactPointerEvent) => {
    if (!drag.current) return;
    const pos = moved(e);
    drag.current = null;
    controller.moveNodes(positionsOf([...pos].map(([id, position]) => ({ id, position }))));
  };
  return { onDown, onMove, onUp };
}

export function GroupFrames({ controller, snap, nodes, setNodes }: Props) {
  const sizes = useStore((s) => s.nodeLookup);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const frames = groupFrames(
    snap.doc,
    (id) => {
      const m = sizes.get(id)?.measured;
      return m?.width && m.height ? { width: m.width, height: m.height } : undefined;
    },
    (id) => byId.get(id)?.position,
  );
  const { onDown, onMove, onUp } = useGroupDrag(controller, setNodes);
  if (!frames.length) return null;
  return (
    <ViewportPortal>
      {frames.map((f) => (
        <div
          key={f.group.id}
          className={`group-frame${f.group.collapsed ? ' collapsed' : ''}`}
          data-testid={`group-${f.group.id}`}
          style={{ transform: `translate(${f.x}px, ${f.y}px)`, width: f.width, height: f.height, ['--group' as string]: f.group.color }}
        >
          <div className="group-head" data-testid={`group-head-${f.group.id}`} onPointerDown={(e) => onDown(e, f)} onPointerMove={onMove} onPointerUp={onUp}>
            <button className="group-toggle" title={f.group.collapsed ? 'Expand' : 'Collapse'} data-testid={`group-toggle-${f.group.id}`} onClick={() => controller.updateGroup(f.group.id, { collapsed: !f.group.collapsed })}>
              {f.group.collapsed ? '▸' : '▾'}
            </button>
            <input className="group-title" aria-label="Group title" value={f.group.title} onChange={(e) => controller.updateGroup(f.group.id, { title: e.target.value })} onBlur={() => controller.seal()} />
            {f.group.collapsed && <span className="group-count">{f.members.length} nodes</span>}
            <input type="color" className="group-color" aria-label="Group colour" value={f.group.color} onChange={(e) => controller.updateGroup(f.group.id, { color: e.target.value })} />
            <button className="group-ungroup" title="Ungroup" data-testid={`group-ungroup-${f.group.id}`} onClick={() => controller.ungroup(f.group.id)}>
              ✕
            </button>
          </div>
        </div>
      ))}
    </ViewportPortal>
  );
}
