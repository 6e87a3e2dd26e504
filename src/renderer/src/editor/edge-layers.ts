/**
 * Which edges a node card would hide. React Flow draws edges under the nodes; an edge that passes behind a card
 * that is neither its source nor its target (Load → Recover behind Prune in the quickstart) then vanishes there.
 * Those edges get drawn above the cards. Pure geometry on React Flow's default bezier, in flow coordinates.
 */

export interface Point {
  x: number;
  y: number;
}
export interface Rect extends Point {
  width: number;
  height: number;
}
export interface EdgeEnds {
  id: string;
  source: string;
  target: string;
  /** The source handle's point (on the right side of its node). */
  from: Point;
  /** The target handle's point (on the left side of its node). */
  to: Point;
}

const CURVATURE = 0.25;
/** Ignore a card grazed by less than this (a border touching a line). */
const INSET = 4;

/** React Flow's control offset for a bezier edge (xyflow system's calculateControlOffset). */
function controlOffset(distance: number): number {
  return distance >= 0 ? 0.5 * distance : CURVATURE * 25 * Math.sqrt(-distance);
}

/** `n` + 1 points along the bezier React Flow draws from a right-side handle to a left-side one. */
export function bezierPoints(from: Point, to: Point, n = 32): Point[] {
  const off = controlOffset(to.x - from.x);
  const c1 = { x: from.x + off, y: from.y };
  const c2 = { x: to.x - off, y: to.y };
  const out: Point[] = [];
  for (let i = 0; i <= n; i++) {
    const t = i / n;
    const u = 1 - t;
    const a = u * u * u;
    const b = 3 * u * u * t;
    const c = 3 * u * t * t;
    const d = t * t * t;
    out.push({ x: a * from.x + b * c1.x + c * c2.x + d * to.x, y: a * from.y + b * c1.y + c * c2.y + d * to.y });
  }
  return out;
}

function inside(p: Point, r: Rect): boolean {
  return p.x > r.x + INSET && p.x < r.x + r.width - INSET && p.y > r.y + INSET && p.y < r.y + r.height - INSET;
}

/** The edges that pass behind a node card other than their own ends. */
export function edgesHiddenByNodes(edges: readonly EdgeEnds[], nodes: ReadonlyMap<string, Rect>): Set<string> {
  const hidden = new Set<string>();
  for (const e of edges) {
    const others = [...nodes].filter(([id]) => id !== e.source && id !== e.target).map(([, r]) => r);
    if (bezierPoints(e.from, e.to).some((p) => others.some((r) => inside(p, r)))) hidden.add(e.id);
  }
  return hidden;
}
