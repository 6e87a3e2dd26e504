import { groupFrames, groupNodes, hiddenNodes, ungroup, updateGroup } from '../../../src/renderer/src/editor/groups';
import { parseRecipe, serializeRecipe, type Recipe } from '../../../src/shared';

const doc = (): Recipe =>
  parseRecipe({
    format: 'loram-recipe',
    version: 2,
    nodes: ['a', 'b', 'c'].map((id, i) => ({ id, type: 'Load', version: 1, position: { x: i * 300, y: 0 } })),
  }).recipe!;

describe('groups', () => {
  test('group, rename, recolour, collapse, ungroup: each a new document, saved in the recipe', () => {
    const g = groupNodes(doc(), ['a', 'b'], 'Baselines')!;
    expect(g.id).toBe('group1');
    expect(g.doc.groups).toEqual([{ id: 'group1', title: 'Baselines', color: '#4f8cff' }]);
    expect(g.doc.nodes.map((n) => n.group)).toEqual(['group1', 'group1', undefined]);
    const saved = parseRecipe(JSON.parse(serializeRecipe(g.doc))).recipe!;
    expect(saved.groups).toEqual(g.doc.groups);
    const c = updateGroup(updateGroup(g.doc, 'group1', { title: 'Ablations', color: '#e5604d' }), 'group1', { collapsed: true });
    expect(c.groups![0]).toEqual({ id: 'group1', title: 'Ablations', color: '#e5604d', collapsed: true });
    expect([...hiddenNodes(c)]).toEqual(['a', 'b']);
    expect(updateGroup(c, 'group1', { collapsed: true })).toBe(c);
    const u = ungroup(c, 'group1');
    expect(u.groups).toBeUndefined();
    expect(u.nodes.every((n) => n.group === undefined)).toBe(true);
  });

  test('regrouping a member moves it; a group left empty disappears', () => {
    const one = groupNodes(doc(), ['a'])!.doc;
    const two = groupNodes(one, ['a', 'c'])!;
    expect(two.doc.groups!.map((g) => g.id)).toEqual(['group2']);
  });

  test('a frame surrounds its members; collapsed, it shrinks to its header', () => {
    const g = groupNodes(doc(), ['a', 'b'])!.doc;
    const [f] = groupFrames(g, () => ({ width: 200, height: 100 }), () => undefined);
    expect(f).toMatchObject({ x: -24, y: -54, width: 548, height: 178, members: ['a', 'b'] });
    const [c] = groupFrames(updateGroup(g, 'group1', { collapsed: true }), () => ({ width: 200, height: 100 }), () => undefined);
    expect(c!.height).toBe(38);
  });
});
