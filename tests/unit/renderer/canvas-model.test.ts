import { emptyRecipe } from '../../../src/shared/index';
import { applySelectChanges, boxCentre, boxContains, documentOpened, markRunningEdges, raiseEdges, refusalReason } from '../../../src/renderer/src/editor/canvas-model';
import { specMap } from '../../../src/renderer/src/editor/catalog';
import { addNode } from '../../../src/renderer/src/editor/document';
import type { FlowEdge } from '../../../src/renderer/src/editor/flow';
import { SPECS } from '../server/fake-engine';

const specs = specMap(SPECS);

function loadAndPrune() {
  let doc = emptyRecipe('c');
  doc = addNode(doc, specs.get('Load')!, { x: 0, y: 0 }).doc;
  return addNode(doc, specs.get('Prune')!, { x: 300, y: 0 }).doc;
}

describe('canvas model', () => {
  test('select changes add and remove ids, keeping the order of first selection', () => {
    expect(applySelectChanges(['a', 'b'], [{ id: 'c', selected: true }, { id: 'a', selected: false }])).toEqual(['b', 'c']);
    expect(applySelectChanges(['a'], [{ id: 'a', selected: true }])).toEqual(['a']);
    expect(applySelectChanges([], [])).toEqual([]);
  });

  test('a connection drag is refused in words, whichever end it starts from', () => {
    const doc = loadAndPrune();
    const out = { nodeId: 'load1', id: 'model', type: 'source' as const };
    const inp = { nodeId: 'prune1', id: 'model', type: 'target' as const };
    // output → input and input → output are the same connection: it fits.
    expect(refusalReason(doc, specs, { fromNode: { id: 'load1' }, fromHandle: out, toHandle: inp })).toBeNull();
    expect(refusalReason(doc, specs, { fromNode: { id: 'prune1' }, fromHandle: inp, toHandle: out })).toBeNull();
    // Two outputs, two inputs.
    expect(refusalReason(doc, specs, { fromNode: { id: 'load1' }, fromHandle: out, toHandle: { ...out, nodeId: 'prune1' } })).toBe('connect an output (right side) to an input (left side)');
    expect(refusalReason(doc, specs, { fromNode: { id: 'prune1' }, fromHandle: inp, toHandle: { ...inp, nodeId: 'load1' } })).toBe('connect an input to an output');
    // A port that is not there: the shared rule's reason.
    expect(refusalReason(doc, specs, { fromNode: { id: 'load1' }, fromHandle: out, toHandle: { ...inp, id: 'nope' } })).toEqual(expect.any(String));
    // Not over a handle: nothing to say.
    expect(refusalReason(doc, specs, { fromNode: { id: 'load1' }, fromHandle: out, toHandle: null })).toBeNull();
  });

  const edge = (id: string, target: string, className?: string): FlowEdge => ({ id, source: 's', target, ...(className ? { className } : {}) }) as FlowEdge;

  test('edges into running nodes get the static running class', () => {
    const edges = [edge('e1', 'a'), edge('e2', 'b', 'invalid')];
    const marked = markRunningEdges(edges, { a: 'done', b: 'running' });
    expect(marked[0]).toBe(edges[0]);
    expect(marked[1]!.className).toBe('invalid edge-running');
    expect(markRunningEdges([edge('e3', 'c')], { c: 'running' })[0]!.className).toBe('edge-running');
  });

  test('raised edges get the z-index; with none raised the same array comes back', () => {
    const edges = [edge('e1', 'a'), edge('e2', 'b')];
    expect(raiseEdges(edges, new Set(), 1)).toBe(edges);
    const raised = raiseEdges(edges, new Set(['e2']), 1);
    expect(raised[0]).toBe(edges[0]);
    expect(raised[1]!.zIndex).toBe(1);
  });

  test('the view is fitted when another document is opened, not on an edit', () => {
    expect(documentOpened({ filePath: undefined, nodeCount: 0 }, { filePath: '/a.json', nodeCount: 3 })).toBe(true);
    expect(documentOpened({ filePath: '/a.json', nodeCount: 3 }, { filePath: '/a.json', nodeCount: 4 })).toBe(false);
    // A recipe loaded into the untitled window: several nodes at once on an empty canvas.
    expect(documentOpened({ filePath: null, nodeCount: 0 }, { filePath: null, nodeCount: 5 })).toBe(true);
    // The first node added by hand is an edit.
    expect(documentOpened({ filePath: null, nodeCount: 0 }, { filePath: null, nodeCount: 1 })).toBe(false);
    // Nothing to fit.
    expect(documentOpened({ filePath: '/a.json', nodeCount: 3 }, { filePath: null, nodeCount: 0 })).toBe(false);
  });

  test('box centre and hit test', () => {
    const box = { left: 10, top: 20, right: 110, bottom: 70, width: 100, height: 50 };
    expect(boxCentre(box)).toEqual({ x: 60, y: 45 });
    expect(boxCentre(undefined)).toEqual({ x: 0, y: 0 });
    expect(boxContains(box, { x: 10, y: 70 })).toBe(true);
    expect(boxContains(box, { x: 9, y: 30 })).toBe(false);
    expect(boxContains(undefined, { x: 0, y: 0 })).toBe(false);
  });
});
