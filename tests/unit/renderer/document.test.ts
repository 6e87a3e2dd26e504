import { emptyRecipe, type Recipe } from '../../../src/shared/index';
import { specMap } from '../../../src/renderer/src/editor/catalog';
import { addNode, connect, freshId, idStem, moveNodes, nextNodeId, removeElements, setLabel, setParam } from '../../../src/renderer/src/editor/document';
import { SPECS } from '../server/fake-engine';

const specs = specMap(SPECS);
const spec = (t: string) => specs.get(t)!;

function chain(): Recipe {
  let doc = emptyRecipe('t');
  doc = addNode(doc, spec('Load'), { x: 0, y: 0 }).doc;
  doc = addNode(doc, spec('Prune'), { x: 300, y: 0 }).doc;
  const r = connect(doc, { from: { node: 'load1', port: 'model' }, to: { node: 'prune1', port: 'model' } }, specs);
  if (!r.ok) throw new Error(r.reason);
  return r.doc;
}

describe('document edits', () => {
  test('ids: a stem from the type, the first free number', () => {
    expect(idStem('LoRA-Train')).toBe('lora-train');
    expect(idStem('Prune')).toBe('prune');
    expect(freshId('prune', new Set(['prune1', 'prune3']))).toBe('prune2');
    expect(nextNodeId(chain(), 'Prune')).toBe('prune2');
  });

  test('addNode fills every default parameter and rounds the position', () => {
    const { doc, id } = addNode(emptyRecipe(), spec('LoRA-Train'), { x: 10.6, y: -3.2 });
    const n = doc.nodes.find((x) => x.id === id)!;
    expect(n).toMatchObject({ type: 'LoRA-Train', version: spec('LoRA-Train').version, position: { x: 11, y: -3 } });
    expect(n.params.rank).toBe(8);
    expect(n.params).toEqual(spec('LoRA-Train').defaults);
    // the defaults object is copied, not shared
    (n.params.targets as string[]).push('x');
    expect(spec('LoRA-Train').defaults.targets).not.toContain('x');
  });

  test('connect uses the shared rule: type mismatches are refused with a reason', () => {
    let doc = chain();
    doc = addNode(doc, spec('Dataset'), { x: 0, y: 200 }).doc;
    const bad = connect(doc, { from: { node: 'dataset1', port: 'dataset' }, to: { node: 'prune1', port: 'model' } }, specs);
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.code).toBe('type-mismatch');
      expect(bad.reason).toMatch(/dataset output cannot feed a model input/);
    }
    const dup = connect(doc, { from: { node: 'load1', port: 'model' }, to: { node: 'prune1', port: 'model' } }, specs);
    expect(dup.ok).toBe(false);
    const good = connect(doc, { from: { node: 'dataset1', port: 'dataset' }, to: { node: 'prune1', port: 'calibration' } }, specs);
    expect(good.ok).toBe(true);
    if (good.ok) expect(good.edge).toEqual({ id: 'e2', from: { node: 'dataset1', port: 'dataset' }, to: { node: 'prune1', port: 'calibration' } });
  });

  test('cycles are refused', () => {
    let doc = chain();
    doc = addNode(doc, spec('Align'), { x: 600, y: 0 }).doc;
    const r1 = connect(doc, { from: { node: 'prune1', port: 'model' }, to: { node: 'align1', port: 'model' } }, specs);
    expect(r1.ok).toBe(true);
  });

  test('removing a node removes its edges; nothing removed keeps the same object', () => {
    const doc = chain();
    expect(removeElements(doc, [], [])).toBe(doc);
    expect(removeElements(doc, ['nope'])).toBe(doc);
    const r = removeElements(doc, ['load1']);
    expect(r.nodes.map((n) => n.id)).toEqual(['prune1']);
    expect(r.edges).toEqual([]);
    expect(removeElements(doc, [], ['e1']).edges).toEqual([]);
  });

  test('moveNodes and setParam return the same object when nothing changes', () => {
    const doc = chain();
    expect(moveNodes(doc, { load1: { x: 0, y: 0 } })).toBe(doc);
    const moved = moveNodes(doc, { load1: { x: 5.4, y: 7.6 } });
    expect(moved.nodes[0]!.position).toEqual({ x: 5, y: 8 });
    expect(moved.nodes[1]).toBe(doc.nodes[1]);
    expect(setParam(doc, 'prune1', 'ratio', 0.5)).toBe(doc);
    const p = setParam(doc, 'prune1', 'ratio', 0.3);
    expect(p.nodes[1]!.params.ratio).toBe(0.3);
    expect(doc.nodes[1]!.params.ratio).toBe(0.5);
    const cleared = setParam(p, 'prune1', 'ratio', undefined);
    expect('ratio' in cleared.nodes[1]!.params).toBe(false);
  });

  test('labels: empty removes', () => {
    const doc = setLabel(chain(), 'load1', 'original');
    expect(doc.nodes[0]!.label).toBe('original');
    expect('label' in setLabel(doc, 'load1', ' ').nodes[0]!).toBe(false);
  });
});
