import { emptyRecipe } from '../../../src/shared/index';
import { specMap } from '../../../src/renderer/src/editor/catalog';
import { addNode, connect } from '../../../src/renderer/src/editor/document';
import { connectionFromFlow, EMPTY_DECORATION, flowToRecipe, recipeToFlow, recipeToFlowEdges, recipeToFlowNodes, syncFlowNodes } from '../../../src/renderer/src/editor/flow';
import { SPECS } from '../server/fake-engine';

const specs = specMap(SPECS);

function doc2() {
  let doc = emptyRecipe('f');
  doc = addNode(doc, specs.get('Load')!, { x: 0, y: 0 }).doc;
  doc = addNode(doc, specs.get('Prune')!, { x: 300, y: 50 }).doc;
  const r = connect(doc, { from: { node: 'load1', port: 'model' }, to: { node: 'prune1', port: 'model' } }, specs);
  if (!r.ok) throw new Error(r.reason);
  return r.doc;
}

describe('recipe ⇄ flow', () => {
  test('nodes and edges map one to one, handles are port names, edges coloured by port type', () => {
    const doc = doc2();
    const { nodes, edges } = recipeToFlow(doc, specs);
    expect(nodes.map((n) => [n.id, n.type, n.position])).toEqual([
      ['load1', 'loram', { x: 0, y: 0 }],
      ['prune1', 'loram', { x: 300, y: 50 }],
    ]);
    expect(nodes[1]!.data.spec?.type).toBe('Prune');
    expect(nodes[1]!.data.connectedInputs).toEqual(['model']);
    expect(edges).toHaveLength(1);
    expect(edges[0]).toMatchObject({ id: 'e1', source: 'load1', sourceHandle: 'model', target: 'prune1', targetHandle: 'model', data: { portType: 'model', invalid: false } });
    expect(edges[0]!.style?.stroke).toBe('#4c8dff');
  });

  test('flow → recipe keeps everything but positions and the edge list', () => {
    const doc = doc2();
    const { nodes, edges } = recipeToFlow(doc, specs);
    const moved = nodes.map((n) => (n.id === 'load1' ? { ...n, position: { x: 12.4, y: 20 } } : n));
    const back = flowToRecipe(doc, moved, edges);
    expect(back.nodes[0]!.position).toEqual({ x: 12, y: 20 });
    expect(back.nodes[1]).toBe(doc.nodes[1]);
    expect(back.edges).toEqual(doc.edges);
    expect(flowToRecipe(doc, nodes, [])).toMatchObject({ edges: [] });
  });

  test('connectionFromFlow needs both handles', () => {
    expect(connectionFromFlow({ source: 'a', sourceHandle: 'model', target: 'b', targetHandle: 'model' })).toEqual({ from: { node: 'a', port: 'model' }, to: { node: 'b', port: 'model' } });
    expect(connectionFromFlow({ source: 'a', sourceHandle: null, target: 'b', targetHandle: 'model' })).toBeNull();
  });

  test('syncFlowNodes keeps unchanged node objects, measured sizes, and positions being dragged', () => {
    const doc = doc2();
    const first = recipeToFlowNodes(doc, specs);
    const prev = first.map((n) => ({ ...n, measured: { width: 234, height: 120 } }));
    const same = syncFlowNodes(prev, recipeToFlowNodes(doc, specs));
    expect(same).toBe(prev);
    const deco = { ...EMPTY_DECORATION, status: 'running' as const };
    const next = syncFlowNodes(prev, recipeToFlowNodes(doc, specs, (id) => (id === 'prune1' ? deco : EMPTY_DECORATION)));
    expect(next[0]).toBe(prev[0]);
    expect(next[1]).not.toBe(prev[1]);
    expect(next[1]!.measured).toEqual({ width: 234, height: 120 });
    expect(next[1]!.data.deco.status).toBe('running');
    const sel = syncFlowNodes(prev, recipeToFlowNodes(doc, specs).map((n) => (n.id === 'load1' ? { ...n, selected: true } : n)));
    expect(sel[0]).not.toBe(prev[0]);
    expect(sel[0]!.selected).toBe(true);
    expect(sel[1]).toBe(prev[1]);
    const dragging = prev.map((n) => (n.id === 'load1' ? { ...n, dragging: true, position: { x: 99, y: 99 } } : n));
    const synced = syncFlowNodes(dragging, recipeToFlowNodes(doc, specs, () => deco));
    expect(synced[0]!.position).toEqual({ x: 99, y: 99 });
  });

  test('edges with validation errors are marked', () => {
    const e = recipeToFlowEdges(doc2(), specs, new Set(['e1']), new Set(['e1']));
    expect(e[0]).toMatchObject({ selected: true, data: { invalid: true } });
  });
});
