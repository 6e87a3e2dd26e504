import { canonicalJson, checkConnection, emptyRecipe, parseRecipe, parseRecipeText, recipeSchema, serializeRecipe, type NodeSpec } from '../../../src/shared';

const base = () => ({
  format: 'loram-recipe',
  version: 2,
  name: 'r',
  nodes: [
    { id: 'a', type: 'Load', version: 1, params: {}, position: { x: 1, y: 2 } },
    { id: 'b', type: 'Prune', version: 1, params: { ratio: 0.5, strategy: 'stru' }, position: { x: 3, y: 4 } },
  ],
  edges: [{ id: 'e1', from: { node: 'a', port: 'model' }, to: { node: 'b', port: 'model' } }],
});

describe('parseRecipe', () => {
  test('accepts a valid recipe and fills defaults', () => {
    const r = parseRecipe({ format: 'loram-recipe', version: 1, nodes: [{ id: 'x', type: 'Load', version: 1 }] });
    expect(r.errors).toEqual([]);
    expect(r.recipe!.name).toBe('untitled');
    expect(r.recipe!.nodes[0]).toEqual({ id: 'x', type: 'Load', version: 1, params: {}, position: { x: 0, y: 0 } });
    expect(r.recipe!.edges).toEqual([]);
  });

  test('bad JSON text is an invalid-json error', () => {
    const r = parseRecipeText('{"format": ');
    expect(r.recipe).toBeNull();
    expect(r.errors[0]!.code).toBe('invalid-json');
  });

  test('a newer version is refused, a non-integer version too', () => {
    expect(parseRecipe({ ...base(), version: 99 }).errors[0]).toMatchObject({ code: 'unsupported-version', field: 'version' });
    expect(parseRecipe({ ...base(), version: '1' }).errors[0]).toMatchObject({ code: 'unsupported-version', field: 'version' });
  });

  test('every broken node and edge is reported, with node ids when known', () => {
    const r = parseRecipe({
      ...base(),
      nodes: [...base().nodes, { id: 'c', type: 'Load', version: 0 }, { type: 'Load', version: 1 }, { id: 'd', type: 'Load', version: 1, parms: {} }],
      edges: [...base().edges, { id: 'e2', from: { node: 'a' }, to: { node: 'b', port: 'x' } }],
    });
    expect(r.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'invalid-recipe', node: 'c', field: 'version' }),
        expect.objectContaining({ code: 'invalid-recipe', node: null, field: 'nodes[3].id' }),
        expect.objectContaining({ code: 'invalid-recipe', node: 'd', field: 'parms' }),
        expect.objectContaining({ code: 'invalid-recipe', field: 'edges[1].from.port', edge: 'e2' }),
      ]),
    );
    expect(r.recipe!.nodes.map((n) => n.id)).toEqual(['a', 'b']);
    expect([...r.brokenNodes].sort()).toEqual(['c', 'd']);
  });
});

describe('serializeRecipe', () => {
  test('is deterministic: key order does not depend on the input', () => {
    const a = recipeSchema.parse(base());
    const reverseKeys = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(reverseKeys) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverseKeys(x)])) : v;
    const shuffled = reverseKeys(base()) as ReturnType<typeof base>;
    shuffled.nodes[1].params = { strategy: 'stru', ratio: 0.5 };
    const b = recipeSchema.parse(shuffled);
    expect(serializeRecipe(a)).toBe(serializeRecipe(b));
    const text = serializeRecipe(a);
    expect(text.endsWith('\n')).toBe(true);
    expect(Object.keys(JSON.parse(text))).toEqual(['format', 'version', 'name', 'nodes', 'edges']);
    expect(Object.keys(JSON.parse(text).nodes[0])).toEqual(['id', 'type', 'version', 'position', 'params']);
    expect(Object.keys(JSON.parse(text).nodes[1].params)).toEqual(['ratio', 'strategy']);
    // Round trip.
    expect(serializeRecipe(recipeSchema.parse(JSON.parse(text)))).toBe(text);
  });

  test('canonicalJson sorts keys at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 1, x: 2 }], c: undefined } })).toBe('{"a":{"d":[1,{"x":2,"y":1}]},"b":1}');
  });

  test('emptyRecipe is valid', () => {
    expect(recipeSchema.safeParse(emptyRecipe('x')).success).toBe(true);
  });
});

describe('checkConnection', () => {
  const spec = (type: string, inputs: NodeSpec['inputs'], outputs: NodeSpec['outputs']): NodeSpec => ({
    type,
    version: 1,
    title: type,
    category: 'loram',
    doc: '',
    inputs,
    outputs,
    params: {},
    defaults: {},
    cacheable: true,
  });
  const specs = new Map<string, NodeSpec>([
    ['M', spec('M', [], [{ name: 'model', type: 'model', title: 'm' }])],
    ['D', spec('D', [], [{ name: 'dataset', type: 'dataset', title: 'd' }])],
    ['T', spec('T', [{ name: 'model', type: 'model', title: 'm' }, { name: 'dataset', type: 'dataset', title: 'd' }], [{ name: 'model', type: 'model', title: 'm' }])],
    ['C', spec('C', [{ name: 'in', type: 'model', title: 'in', multiple: true }], [])],
  ]);
  const graph = {
    nodes: [
      { id: 'm', type: 'M' },
      { id: 'd', type: 'D' },
      { id: 't1', type: 'T' },
      { id: 't2', type: 'T' },
      { id: 'c', type: 'C' },
      { id: 'x', type: 'Nope' },
    ],
    edges: [
      { id: 'e1', from: { node: 'm', port: 'model' }, to: { node: 't1', port: 'model' } },
      { id: 'e2', from: { node: 't1', port: 'model' }, to: { node: 't2', port: 'model' } },
      { id: 'e3', from: { node: 'm', port: 'model' }, to: { node: 'c', port: 'in' } },
    ],
  };
  const conn = (fn: string, fp: string, tn: string, tp: string) => ({ from: { node: fn, port: fp }, to: { node: tn, port: tp } });
  test.each([
    ['ok', conn('d', 'dataset', 't1', 'dataset'), null],
    ['multiple input takes more', conn('t1', 'model', 'c', 'in'), null],
    ['type mismatch', conn('d', 'dataset', 't2', 'model'), 'type-mismatch'],
    ['second edge into one input', conn('m', 'model', 't2', 'model'), 'input-already-connected'],
    ['same edge twice', conn('m', 'model', 't1', 'model'), 'duplicate-edge'],
    ['self loop', conn('t1', 'model', 't1', 'dataset'), 'cycle'],
    ['cycle', conn('t2', 'model', 't1', 'model'), 'input-already-connected'],
    ['unknown output port', conn('m', 'weights', 't1', 'dataset'), 'unknown-port'],
    ['unknown input port', conn('d', 'dataset', 't1', 'data'), 'unknown-port'],
    ['missing node', conn('zz', 'model', 't1', 'model'), 'dangling-edge'],
    ['unknown type', conn('x', 'model', 't1', 'dataset'), 'unknown-node-type'],
  ])('%s', (_name, c, code) => {
    const r = checkConnection(c, graph, specs);
    if (code === null) expect(r).toEqual({ ok: true });
    else expect(r).toMatchObject({ ok: false, code });
    if (!r.ok) expect(r.reason.length).toBeGreaterThan(5);
  });
  test('a new edge closing a cycle is refused with the reason', () => {
    const g = { ...graph, edges: graph.edges.filter((e) => e.id !== 'e1') };
    expect(checkConnection(conn('t2', 'model', 't1', 'model'), g, specs)).toMatchObject({ ok: false, code: 'cycle' });
  });
  test('ignoreEdge lets an edge be reconnected', () => {
    expect(checkConnection(conn('m', 'model', 't1', 'model'), graph, specs, { ignoreEdge: 'e1' })).toEqual({ ok: true });
  });
});
