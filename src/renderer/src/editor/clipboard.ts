/**
 * Copy/paste of a branch: the selected nodes and the edges between them. Pasting gives every node a fresh id
 * (and rewires the copied edges to the copies), offsets the positions, and is one document change, so one undo
 * step. The clipboard is plain JSON, so it also travels through the system clipboard between windows.
 */
import { z } from 'zod';
import { recipeEdgeSchema, recipeNodeSchema, type Recipe, type RecipeEdge, type RecipeNode } from '../../../shared';
import { freshId, idStem, type Position } from './document';

export const CLIPBOARD_FORMAT = 'loram-clipboard';

export interface ClipboardData {
  format: typeof CLIPBOARD_FORMAT;
  version: 1;
  nodes: RecipeNode[];
  edges: RecipeEdge[];
}

const clipboardSchema = z.strictObject({
  format: z.literal(CLIPBOARD_FORMAT),
  version: z.literal(1),
  nodes: z.array(recipeNodeSchema).min(1),
  edges: z.array(recipeEdgeSchema),
});

/** The selected nodes and the edges whose both ends are selected; null when nothing is selected. */
export function copyNodes(doc: Recipe, ids: Iterable<string>): ClipboardData | null {
  const sel = new Set(ids);
  const nodes = doc.nodes.filter((n) => sel.has(n.id));
  if (nodes.length === 0) return null;
  const edges = doc.edges.filter((e) => sel.has(e.from.node) && sel.has(e.to.node));
  return structuredClone({ format: CLIPBOARD_FORMAT, version: 1, nodes, edges });
}

export function clipboardToText(data: ClipboardData): string {
  return JSON.stringify(data);
}

/** Parse clipboard text; null when it is not a LoRAM clipboard. */
export function clipboardFromText(text: string): ClipboardData | null {
  try {
    const r = clipboardSchema.safeParse(JSON.parse(text));
    return r.success ? (r.data as ClipboardData) : null;
  } catch {
    return null;
  }
}

export interface PasteOptions {
  /** Added to every position (default 40, 40). Ignored when `at` is given. */
  offset?: Position;
  /** Put the top-left corner of the pasted branch here. */
  at?: Position;
}

export interface PasteResult {
  doc: Recipe;
  /** Ids of the new nodes and edges, in clipboard order. */
  nodeIds: string[];
  edgeIds: string[];
  /** Old id → new id. */
  idMap: Record<string, string>;
}

export function pasteNodes(doc: Recipe, data: ClipboardData, opts: PasteOptions = {}): PasteResult {
  const takenNodes = new Set(doc.nodes.map((n) => n.id));
  const takenEdges = new Set(doc.edges.map((e) => e.id));
  const minX = Math.min(...data.nodes.map((n) => n.position.x));
  const minY = Math.min(...data.nodes.map((n) => n.position.y));
  const d = opts.at ? { x: opts.at.x - minX, y: opts.at.y - minY } : (opts.offset ?? { x: 40, y: 40 });
  const idMap: Record<string, string> = {};
  const nodes: RecipeNode[] = data.nodes.map((n) => {
    const id = freshId(idStem(n.type), takenNodes);
    takenNodes.add(id);
    idMap[n.id] = id;
    return { ...structuredClone(n), id, position: { x: Math.round(n.position.x + d.x), y: Math.round(n.position.y + d.y) } };
  });
  const edges: RecipeEdge[] = [];
  for (const e of data.edges) {
    const from = idMap[e.from.node];
    const to = idMap[e.to.node];
    if (!from || !to) continue;
    const id = freshId('e', takenEdges);
    takenEdges.add(id);
    edges.push({ id, from: { node: from, port: e.from.port }, to: { node: to, port: e.to.port } });
  }
  return {
    doc: { ...doc, nodes: [...doc.nodes, ...nodes], edges: [...doc.edges, ...edges] },
    nodeIds: nodes.map((n) => n.id),
    edgeIds: edges.map((e) => e.id),
    idMap,
  };
}

/** Copy + paste in one go (offset by 40, 40). */
export function duplicateNodes(doc: Recipe, ids: Iterable<string>): PasteResult | null {
  const data = copyNodes(doc, ids);
  return data ? pasteNodes(doc, data) : null;
}
