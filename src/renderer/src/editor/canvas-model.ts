/**
 * The canvas's framework-free rules (how React Flow's change lists and drag states map onto the editor's
 * selection, connections and view), kept out of the React layer so they can be tested without a browser.
 */
import { checkConnection, type Connection, type Recipe } from '../../../shared';
import type { SpecMap } from './catalog';
import type { FlowEdge } from './flow';

type Point = { x: number; y: number };
type Box = { left: number; top: number; right: number; bottom: number; width: number; height: number };

/** The ids selected after React Flow's select changes, in the order they were first selected. */
export function applySelectChanges(current: readonly string[], changes: readonly { id: string; selected: boolean }[]): string[] {
  const s = new Set(current);
  for (const c of changes) {
    if (c.selected) s.add(c.id);
    else s.delete(c.id);
  }
  return [...s];
}

/** A handle as React Flow reports it while a connection is dragged. */
export interface DragHandle {
  nodeId: string;
  id?: string | null;
  type: 'source' | 'target';
}

/** A connection drag: the handle it started from (on `fromNode`) and the one under the pointer. */
export interface ConnectionDrag {
  fromNode: { id: string } | null;
  fromHandle: DragHandle | null;
  toHandle: DragHandle | null;
}

/** Why the dragged connection does not fit, in words; null when it fits or is not over a handle. */
export function refusalReason(doc: Recipe, specs: SpecMap, c: ConnectionDrag): string | null {
  const from = c.fromHandle;
  const to = c.toHandle;
  if (!from || !to || !c.fromNode) return null;
  if (from.type === to.type) return from.type === 'source' ? 'connect an output (right side) to an input (left side)' : 'connect an input to an output';
  // A drag may start on either end: the connection always runs output → input.
  const conn: Connection =
    from.type === 'source'
      ? { from: { node: c.fromNode.id, port: from.id ?? '' }, to: { node: to.nodeId, port: to.id ?? '' } }
      : { from: { node: to.nodeId, port: to.id ?? '' }, to: { node: c.fromNode.id, port: from.id ?? '' } };
  const r = checkConnection(conn, doc, specs);
  return r.ok ? null : r.reason;
}

/**
 * Marks the edges into running nodes with a static class, not React Flow's `animated` (a dash animation repaints
 * the edge layer every frame: seconds of CPU per run taken from the engine on a small machine).
 */
export function markRunningEdges(edges: FlowEdge[], statuses: Readonly<Record<string, string>>): FlowEdge[] {
  const running = new Set(Object.entries(statuses).filter(([, s]) => s === 'running').map(([id]) => id));
  return edges.map((e) => (running.has(e.target) ? { ...e, className: `${e.className ?? ''} edge-running`.trim() } : e));
}

/** The edges with those in `raised` lifted to z-index `z`; the same array when none is. */
export function raiseEdges(edges: FlowEdge[], raised: ReadonlySet<string>, z: number): FlowEdge[] {
  return raised.size ? edges.map((e) => (raised.has(e.id) ? { ...e, zIndex: z } : e)) : edges;
}

/** What the canvas last saw of the document, to tell an opened document from an edit. */
export interface ViewedDocument {
  filePath: string | null | undefined;
  nodeCount: number;
}

/**
 * Should the view be fitted? Yes when another file is shown, or when an empty canvas receives several nodes at
 * once (a recipe loaded into an untitled window); not on an ordinary edit, which would jump the view.
 */
export function documentOpened(last: ViewedDocument, now: ViewedDocument): boolean {
  const opened = last.filePath !== now.filePath || (last.nodeCount === 0 && now.nodeCount > 1);
  return opened && now.nodeCount > 0;
}

export function boxCentre(r: Box | undefined): Point {
  return r ? { x: r.left + r.width / 2, y: r.top + r.height / 2 } : { x: 0, y: 0 };
}

export function boxContains(r: Box | undefined, p: Point): boolean {
  return !!r && p.x >= r.left && p.x <= r.right && p.y >= r.top && p.y <= r.bottom;
}
