/**
 * Groups: a titled, coloured, collapsible frame around some nodes (recipe `groups` + each member's `group`).
 * Layout only: the engine ignores them. Pure document operations, one undo step each, and the frame geometry.
 */
import type { Recipe, RecipeGroup, RecipeNode } from '../../../shared';
import { freshId } from './document';

export const GROUP_COLORS = ['#4f8cff', '#3fae7a', '#c9853a', '#b46cf5', '#e5604d', '#2ec4d6'];

/** Put `ids` into a new group (leaving any group they were in; groups left empty are removed). */
export function groupNodes(doc: Recipe, ids: readonly string[], title = 'Group'): { doc: Recipe; id: string } | null {
  const members = new Set(ids.filter((id) => doc.nodes.some((n) => n.id === id)));
  if (members.size === 0) return null;
  const groups = doc.groups ?? [];
  const id = freshId('group', new Set(groups.map((g) => g.id)));
  const color = GROUP_COLORS[groups.length % GROUP_COLORS.length]!;
  const nodes = doc.nodes.map((n) => (members.has(n.id) ? { ...n, group: id } : n));
  return { doc: pruneEmpty({ ...doc, nodes, groups: [...groups, { id, title, color }] }), id };
}

/** Dissolve a group: its nodes stay where they are, ungrouped. */
export function ungroup(doc: Recipe, groupId: string): Recipe {
  if (!doc.groups?.some((g) => g.id === groupId)) return doc;
  const nodes = doc.nodes.map((n) => (n.group === groupId ? withoutGroup(n) : n));
  return pruneEmpty({ ...doc, nodes, groups: doc.groups.filter((g) => g.id !== groupId) });
}

export function updateGroup(doc: Recipe, groupId: string, patch: Partial<Omit<RecipeGroup, 'id'>>): Recipe {
  const g = doc.groups?.find((x) => x.id === groupId);
  if (!g) return doc;
  const next = { ...g, ...patch };
  if (!next.collapsed) delete next.collapsed;
  if (JSON.stringify(next) === JSON.stringify(g)) return doc;
  return { ...doc, groups: doc.groups!.map((x) => (x.id === groupId ? next : x)) };
}

function withoutGroup(n: RecipeNode): RecipeNode {
  const { group: _g, ...rest } = n;
  return rest;
}

/** Drop groups without members, and memberships of groups that do not exist. */
function pruneEmpty(doc: Recipe): Recipe {
  const used = new Set(doc.nodes.map((n) => n.group).filter(Boolean));
  const groups = (doc.groups ?? []).filter((g) => used.has(g.id));
  const known = new Set(groups.map((g) => g.id));
  const nodes = doc.nodes.map((n) => (n.group && !known.has(n.group) ? withoutGroup(n) : n));
  const { groups: _old, ...rest } = doc;
  return groups.length ? { ...rest, nodes, groups } : { ...rest, nodes };
}

export function membersOf(doc: Recipe, groupId: string): RecipeNode[] {
  return doc.nodes.filter((n) => n.group === groupId);
}

/** Nodes hidden because their group is collapsed. */
export function hiddenNodes(doc: Recipe): Set<string> {
  const collapsed = new Set((doc.groups ?? []).filter((g) => g.collapsed).map((g) => g.id));
  return new Set(doc.nodes.filter((n) => n.group && collapsed.has(n.group)).map((n) => n.id));
}

export interface Frame {
  group: RecipeGroup;
  x: number;
  y: number;
  width: number;
  height: number;
  members: string[];
}

const PAD = 24;
const HEAD = 30;

/** Each group's frame around its members (measured sizes where known), in flow coordinates. */
export function groupFrames(doc: Recipe, size: (id: string) => { width: number; height: number } | undefined, positions: (id: string) => { x: number; y: number } | undefined): Frame[] {
  const out: Frame[] = [];
  for (const g of doc.groups ?? []) {
    const ms = membersOf(doc, g.id);
    if (!ms.length) continue;
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (const n of ms) {
      const p = positions(n.id) ?? n.position;
      const s = size(n.id) ?? { width: 240, height: 120 };
      x0 = Math.min(x0, p.x);
      y0 = Math.min(y0, p.y);
      x1 = Math.max(x1, p.x + s.width);
      y1 = Math.max(y1, p.y + s.height);
    }
    const collapsed = !!g.collapsed;
    out.push({ group: g, x: x0 - PAD, y: y0 - PAD - HEAD, width: collapsed ? 260 : x1 - x0 + 2 * PAD, height: collapsed ? HEAD + 8 : y1 - y0 + 2 * PAD + HEAD, members: ms.map((n) => n.id) });
  }
  return out;
}
