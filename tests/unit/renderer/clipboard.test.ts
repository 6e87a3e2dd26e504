import { emptyRecipe, recipeSchema } from '../../../src/shared/index';
import { specMap } from '../../../src/renderer/src/editor/catalog';
import { clipboardFromText, clipboardToText, copyNodes, duplicateNodes, pasteNodes } from '../../../src/renderer/src/editor/clipboard';
import { addNode, connect } from '../../../src/renderer/src/editor/document';
import { SPECS } from '../server/fake-engine';

const specs = specMap(SPECS);

function branch() {
  let doc = emptyRecipe('b');
  for (const [t, x] of [['Load', 0], ['Prune', 300], ['LoRA-Train', 600], ['Dataset', 300]] as const) doc = addNode(doc, specs.get(t)!, { x, y: t === 'Dataset' ? 200 : 0 }).doc;
  for (const [f, fp, t, tp] of [
    ['load1', 'model', 'prune1', 'model'],
    ['prune1', 'model', 'lora-train1', 'model'],
    ['dataset1', 'dataset', 'lora-train1', 'dataset'],
  ]) {
    const r = connect(doc, { from: { node: f!, port: fp! }, to: { node: t!, port: tp! } }, specs);
    if (!r.ok) throw new Error(r.reason);
    doc = r.doc;
  }
  return doc;
}

describe('clipboard', () => {
  test('copy takes the selected nodes and only the edges between them', () => {
    const data = copyNodes(branch(), ['prune1', 'lora-train1'])!;
    expect(data.nodes.map((n) => n.id)).toEqual(['prune1', 'lora-train1']);
    expect(data.edges.map((e) => e.id)).toEqual(['e2']);
    expect(copyNodes(branch(), [])).toBeNull();
  });

  test('paste gives fresh ids, rewires the copied edges, offsets positions, and stays a valid recipe', () => {
    const doc = branch();
    const data = copyNodes(doc, ['prune1', 'lora-train1', 'dataset1'])!;
    const r = pasteNodes(doc, data);
    expect(r.nodeIds).toEqual(['prune2', 'lora-train2', 'dataset2']);
    expect(r.doc.nodes).toHaveLength(7);
    expect(r.doc.edges).toHaveLength(5);
    const newEdges = r.doc.edges.filter((e) => r.edgeIds.includes(e.id));
    expect(newEdges.map((e) => `${e.from.node}->${e.to.node}`).sort()).toEqual(['dataset2->lora-train2', 'prune2->lora-train2']);
    const p2 = r.doc.nodes.find((n) => n.id === 'prune2')!;
    expect(p2.position).toEqual({ x: 340, y: 40 });
    expect(p2.params).toEqual(doc.nodes.find((n) => n.id === 'prune1')!.params);
    expect(recipeSchema.safeParse(r.doc).success).toBe(true);
    // the original is untouched
    expect(doc.nodes).toHaveLength(4);
  });

  test('paste at a point puts the branch top-left there', () => {
    const doc = branch();
    const r = pasteNodes(doc, copyNodes(doc, ['prune1', 'dataset1'])!, { at: { x: 1000, y: 1000 } });
    const pos = r.nodeIds.map((id) => r.doc.nodes.find((n) => n.id === id)!.position);
    expect(pos).toEqual([
      { x: 1000, y: 1000 },
      { x: 1000, y: 1200 },
    ]);
  });

  test('text round trip; other text is not a clipboard', () => {
    const data = copyNodes(branch(), ['load1'])!;
    expect(clipboardFromText(clipboardToText(data))).toEqual(data);
    expect(clipboardFromText('hello')).toBeNull();
    expect(clipboardFromText('{"format":"loram-clipboard","version":1,"nodes":[],"edges":[]}')).toBeNull();
  });

  test('duplicate = copy + paste', () => {
    const r = duplicateNodes(branch(), ['load1'])!;
    expect(r.nodeIds).toEqual(['load2']);
    expect(duplicateNodes(branch(), [])).toBeNull();
  });
});
